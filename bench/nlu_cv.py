"""NLU 5-fold cross-validation of the chosen pipeline and the variants in bench/pipelines/.

Usage: ``python bench/nlu_cv.py [--folds 5] [variant ...]``, where a variant is ``a_chosen``
(the ``pipeline:`` of bot/config.yml, the one place for the chosen pipeline) or a file in
bench/pipelines/. Without arguments: ``a_chosen`` and every file in bench/pipelines/.

A variant file is either a full NLU config (``pipeline:`` list), or derived from the chosen
pipeline::

    based_on: chosen
    set:                       # component -> options merged into it
      DIETClassifier: {epochs: 80}
      CountVectorsFeaturizer:analyzer=char_wb: {max_ngram: 4}
    remove: [RegexFeaturizer]  # components dropped

A component is named ``Name`` (every occurrence) or ``Name:option=value`` (the ones with that
option value).

Runs ``rasa test nlu --cross-validation`` in ``.venv-rasa`` on ``bot/data/nlu`` and prints the
intent weighted F1 (all intents, question intents ``ask_*``, and each other intent), DIET
entity weighted F1 and the wall time; the config used, Rasa's reports and the summary go to
results/nlu_cv/<variant>/ and each finished row is appended to results/nlu_cv/runs.jsonl.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
PIPELINES = ROOT / "bench" / "pipelines"
BOT_CONFIG = ROOT / "bot" / "config.yml"
RESULTS = ROOT / "results" / "nlu_cv"
CHOSEN = "a_chosen"
NLU_KEYS = ("recipe", "language", "assistant_id", "pipeline")


def chosen_config() -> dict:
    """The NLU part of bot/config.yml (policies are not needed for ``rasa test nlu``)."""
    config = yaml.safe_load(BOT_CONFIG.read_text("utf-8"))
    return {k: config[k] for k in NLU_KEYS if k in config}


def _matches(component: dict, selector: str) -> bool:
    name, _, condition = selector.partition(":")
    if component["name"] != name:
        return False
    if not condition:
        return True
    key, _, value = condition.partition("=")
    return str(component.get(key)) == value


def variant_config(name: str) -> dict:
    if Path(name).stem == CHOSEN:
        return chosen_config()
    path = Path(name)
    if not path.exists():
        path = PIPELINES / f"{Path(name).stem}.yml"
    spec = yaml.safe_load(path.read_text("utf-8"))
    if "based_on" not in spec:
        return spec
    if spec["based_on"] != "chosen":
        raise ValueError(f"{path}: based_on must be 'chosen'")
    config = copy.deepcopy(chosen_config())
    selectors = [*(spec.get("remove") or []), *(spec.get("set") or {})]
    for selector in selectors:
        if not any(_matches(c, selector) for c in config["pipeline"]):
            raise ValueError(f"{path}: no component {selector} in the chosen pipeline")
    config["pipeline"] = [c for c in config["pipeline"]
                          if not any(_matches(c, s) for s in spec.get("remove") or [])]
    for selector, options in (spec.get("set") or {}).items():
        for c in config["pipeline"]:
            if _matches(c, selector):
                c.update(options)
    return config


def summarise(out: Path) -> dict:
    intent = json.loads((out / "intent_report.json").read_text())
    entity_file = out / "DIETClassifier_report.json"
    entity = json.loads(entity_file.read_text()) if entity_file.exists() else {}
    labels = {k: v for k, v in intent.items() if isinstance(v, dict) and "support" in v
              and k not in ("macro avg", "weighted avg", "micro avg")}
    questions = {k: v for k, v in labels.items() if k.startswith("ask_")}
    q_support = sum(v["support"] for v in questions.values()) or 1
    return {
        "intent_f1": round(intent["weighted avg"]["f1-score"], 4),
        "intent_accuracy": round(intent.get("accuracy", 0.0), 4),
        "question_intents_f1": round(
            sum(v["f1-score"] * v["support"] for v in questions.values()) / q_support, 4),
        "other_intents_f1": {k: round(v["f1-score"], 3) for k, v in sorted(labels.items())
                             if not k.startswith("ask_")},
        "entity_f1": round(entity.get("weighted avg", {}).get("f1-score", 0.0), 4),
        "entity_f1_by_type": {k: round(v["f1-score"], 3) for k, v in entity.items()
                              if isinstance(v, dict) and "support" in v and k != "no_entity"
                              and not k.endswith(" avg")},
        "examples": int(intent["weighted avg"]["support"]),
    }


def run(name: str, folds: int) -> dict:
    variant = Path(name).stem
    out = RESULTS / variant
    out.mkdir(parents=True, exist_ok=True)
    config = out / "config.yml"
    config.write_text(yaml.safe_dump(variant_config(name), allow_unicode=True, sort_keys=False),
                      encoding="utf-8")
    started = time.monotonic()
    with (out / "log.txt").open("w") as log:
        subprocess.run(
            [str(RASA), "test", "nlu", "--nlu", "bot/data/nlu", "--config", str(config),
             "--cross-validation", "--folds", str(folds), "--out", str(out)],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT / "bot")}, check=True,
            stdout=log, stderr=subprocess.STDOUT)
    row = {"variant": variant, "folds": folds, **summarise(out),
           "seconds": round(time.monotonic() - started),
           "finished": datetime.now(UTC).isoformat(timespec="seconds")}
    (out / "summary.json").write_text(json.dumps(row, ensure_ascii=False, indent=2), "utf-8")
    with (RESULTS / "runs.jsonl").open("a", encoding="utf-8") as runs:
        runs.write(json.dumps(row, ensure_ascii=False) + "\n")
    return row


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("variants", nargs="*", help=f"{CHOSEN} or files in bench/pipelines/")
    args = parser.parse_args()
    variants = args.variants or [CHOSEN, *(str(p) for p in sorted(PIPELINES.glob("*.yml")))]
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in variants:
        row = run(name, args.folds)
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    (RESULTS / "summary.json").write_text(json.dumps(rows, ensure_ascii=False, indent=2), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
