"""Benchmark: loading + validating all knowledge, and one rule evaluation.

    .venv/bin/python -m bench.knowledge

Targets (issue 2): load ≤ 300 ms; one evaluation ≤ 1 ms median. Prints median and p95.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from datetime import date

from actions.rules import Question, answer_question
from knowledge import load_knowledge

QUESTIONS = [
    Question(topic="fee", region="会宁", benefit_year=2022, categories=["dibao_full", "tuopin"]),
    Question(topic="fee", region="汉滨区", benefit_year=2022, categories=["monitored"]),
    Question(topic="deadline", region="贵阳", benefit_year=2021, today=date(2021, 3, 31)),
    Question(topic="newborn", region="贵阳", birth_date=date(2021, 1, 1), payment_date=date(2021, 4, 2)),
    Question(topic="employee_to_resident", region="兰州", benefit_year=2022, stop_date=date(2022, 3, 31),
             payment_date=date(2022, 7, 1), continuous_years=2),
    Question(topic="fiscal_subsidy", region="靖远", benefit_year=2023),
    Question(topic="refund", region="兰州", benefit_year=2022, reason="death", today=date(2021, 12, 1)),
    Question(topic="fee", region="西安", benefit_year=2022),
]


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def report(name: str, samples_ms: list[float]) -> None:
    print(f"{name}: n={len(samples_ms)} median={statistics.median(samples_ms):.3f} ms "
          f"p95={pct(samples_ms, 0.95):.3f} ms max={max(samples_ms):.3f} ms")


def main() -> None:
    cold = []
    for _ in range(5):  # a fresh interpreter: imports + first load, as at start-up
        out = subprocess.run([sys.executable, "-c",
                              "import time; t=time.perf_counter(); from knowledge import load_knowledge; "
                              "load_knowledge(); print((time.perf_counter()-t)*1000)"],
                             capture_output=True, text=True, check=True)
        cold.append(float(out.stdout))
    report("cold import + load + validate", cold)
    warm = []
    for _ in range(30):
        t = time.perf_counter()
        kb = load_knowledge()
        warm.append((time.perf_counter() - t) * 1000)
    report("load + validate (warm process)", warm)
    evals = []
    for _ in range(300):
        for q in QUESTIONS:
            t = time.perf_counter()
            answer_question(q, kb)
            evals.append((time.perf_counter() - t) * 1000)
    report("one rule evaluation", evals)


if __name__ == "__main__":
    main()
