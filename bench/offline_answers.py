"""Answer a question file (dev.yaml format) in-process, without Rasa: the bot's normaliser and
quantity extractor, then ``actions.conversation.respond`` with no NLU intent (word cues only).

A diagnostic for the conversation and rule layers (what the cues and the rules get right on
their own); the figure that counts is ``run_dev.py`` against the running stack.

    .venv/bin/python -m bench.offline_answers ../shared/eval/dev.yaml [-v] [--ids q005,q031]
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from datetime import date
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bot"))
from components.quantities import extract  # noqa: E402
from components.textnorm import normalise  # noqa: E402

from actions.conversation import respond  # noqa: E402


def answer(turns: list[str], today: date) -> str:
    situation = None
    texts: list[str] = []
    for turn in turns:
        text = normalise(turn)
        out = respond(text, extract(text), None, 0.0, situation, today, "web")
        situation = out.situation.model_dump()
        texts = [m.get("text") or "" for m in out.messages]
    return "\n".join(texts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("questions")
    ap.add_argument("--ids")
    ap.add_argument("--today", default=date.today().isoformat())
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    cases = yaml.safe_load(Path(args.questions).read_text(encoding="utf-8"))
    if args.ids:
        cases = [c for c in cases if c["id"] in set(args.ids.split(","))]
    good = 0
    for case in cases:
        reply = answer(case["turns"], date.fromisoformat(args.today))
        flat = re.sub(r"\s+", "", unicodedata.normalize("NFKC", reply))
        problems = [f"missing {p}" for p in case.get("expect_all") or [] if not re.search(p, flat)]
        problems += [f"forbidden {p}" for p in case.get("expect_none") or [] if re.search(p, flat)]
        good += not problems
        if problems or args.verbose:
            print(("ok  " if not problems else "FAIL"), case["id"], " | ".join(case["turns"]))
            if problems:
                print("     " + "; ".join(problems))
            print("     → " + reply.replace("\n", " ")[:700])
    print(f"offline answer accuracy {100 * good / max(len(cases), 1):.1f}% ({good}/{len(cases)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
