"""NLU 5-fold cross-validation of the pipeline variants in bench/pipelines/ (not in make test).

Usage: ``python bench/nlu_cv.py [--folds 5] [variant.yml ...]``. Runs ``rasa test nlu
--cross-validation`` in ``.venv-rasa`` for each variant on ``bot/data/nlu`` and prints intent
and DIET entity weighted F1 plus the wall time; results go to results/nlu_cv/<variant>/.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"


def run(variant: Path, folds: int) -> dict:
    out = ROOT / "results" / "nlu_cv" / variant.stem
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    subprocess.run(
        [str(RASA), "test", "nlu", "--nlu", "bot/data/nlu", "--config", str(variant),
         "--cross-validation", "--folds", str(folds), "--out", str(out)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT / "bot")}, check=True,
        stdout=(out / "log.txt").open("w"), stderr=subprocess.STDOUT)
    seconds = time.monotonic() - started
    intent = json.loads((out / "intent_report.json").read_text())
    entity_file = out / "DIETClassifier_report.json"
    entity = json.loads(entity_file.read_text()) if entity_file.exists() else {}
    return {
        "variant": variant.stem,
        "intent_f1": round(intent["weighted avg"]["f1-score"], 4),
        "intent_accuracy": round(intent.get("accuracy", 0.0), 4),
        "entity_f1": round(entity.get("weighted avg", {}).get("f1-score", 0.0), 4),
        "seconds": round(seconds),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("variants", nargs="*", type=Path)
    args = parser.parse_args()
    variants = args.variants or sorted((ROOT / "bench" / "pipelines").glob("*.yml"))
    rows = []
    for variant in variants:
        row = run(variant, args.folds)
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    (ROOT / "results" / "nlu_cv" / "summary.json").write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
