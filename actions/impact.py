"""Impact report: the questions whose answers a change of the knowledge data changes.

    python -m actions.impact              # the working tree's knowledge/data against HEAD's
    python -m actions.impact --base v1.2  # … against another revision

A fixed sweep of questions (every topic, for every place with a notice and each of its covered
years, fee also for every identity) is answered with both data sets; each question whose
summary or figures differ is printed with the old and the new answer. Exit status 0.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import get_args

from actions.render.format import fmt_value
from actions.rules import Question, answer_question
from actions.rules.contract import Topic
from knowledge import KnowledgeBase, load_knowledge
from knowledge.loader import DATA_DIR

ROOT = DATA_DIR.parents[1]
SKIP = {"compare_years", "plan"}  # need a second year / are staff-facing


def sweep(kb: KnowledgeBase) -> dict[str, str]:
    """Question (in words) → the answer's summary and figures."""
    out: dict[str, str] = {}
    places = sorted({n.region for n in kb.notices.values()})
    for place in places:
        for year in kb.covered_years(place):
            for topic in (t for t in get_args(Topic) if t not in SKIP):
                identities = [[]] + ([[c] for c in kb.categories] if topic == "fee" else [])
                for categories in identities:
                    q = Question(topic=topic, region=place, benefit_year=year, categories=categories)
                    a = answer_question(q, kb)
                    figures = "，".join(f"{f.label}{fmt_value(f)}" for f in a.figures)
                    out[f"{topic} {place} {year}年 {'+'.join(categories) or '-'}"] = \
                        f"[{a.status}] {a.summary} {figures}".strip()
    return out


def knowledge_at(revision: str, workdir: Path) -> KnowledgeBase:
    """The knowledge data as it was at a git revision."""
    tar = subprocess.run(["git", "archive", revision, "knowledge/data"], cwd=ROOT, check=True,
                         capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(workdir, filter="data")
    return load_knowledge(workdir / "knowledge" / "data")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m actions.impact", description=__doc__.splitlines()[0])
    p.add_argument("--base", default="HEAD", help="git revision to compare with (default HEAD)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        before = sweep(knowledge_at(args.base, Path(tmp)))
    after = sweep(load_knowledge())
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    for key in changed:
        print(f"{key}\n  - {before.get(key, '(not asked)')}\n  + {after.get(key, '(not asked)')}")
    print(f"{len(changed)} of {len(after)} answers change")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
