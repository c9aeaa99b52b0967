"""A longer fuzz run of the targets `make test` runs briefly (tests/fuzz/targets.py).

    .venv/bin/python -m bench.fuzz --minutes 5                  # all targets, time split evenly
    .venv/bin/python -m bench.fuzz --minutes 2 --targets normalise,api_chat

Each target runs batches of fresh random hypothesis examples (not derandomised, no example
database) until its share of the time is up; the live targets share one gateway per WeChat
mode (the real app, a fake Rasa, SQLite in a temp dir, rate limits off). A failing batch is shrunk by
hypothesis to its smallest input, recorded once per distinct error, and the run goes on.

Prints per target: examples run (property calls, shrinking included), distinct failures,
wall time; then each failure's error and smallest input. Exit status 1 if anything failed.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import Verbosity, settings

from tests.fuzz.live import SAFE_MODE, LiveGateway, live_gateway
from tests.fuzz.targets import BY_NAME, TARGETS, Target, hypothesis_settings, runner


@dataclass
class Tally:
    examples: int = 0
    batches: int = 0
    wall_s: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)  # error line → smallest input


def _key(exc: BaseException) -> str:
    """One line naming the error, the same for every input that fails the same way."""
    if isinstance(exc, BaseExceptionGroup):  # hypothesis found several distinct failures
        return " | ".join(sorted({_key(e) for e in exc.exceptions}))
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:200]
    return re.sub(r"\d+", "N", text)  # "column 60" and "column 61" are one failure


def run_target(target: Target, seconds: float, batch: int, gateway: LiveGateway | None) -> Tally:
    tally = Tally()
    failing: list[tuple[Any, ...]] = []

    def count() -> None:
        tally.examples += 1

    cfg = settings(hypothesis_settings(batch, derandomize=False), verbosity=Verbosity.quiet)
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        tally.batches += 1
        failing.clear()
        try:
            runner(target, cfg, gateway, on_example=count, on_failure=failing.append)()
        except Exception as exc:  # noqa: BLE001 - a property failed: record it, keep fuzzing
            example = repr(failing[-1])[:1500] if failing else "(no example recorded)"
            tally.failures.setdefault(_key(exc), example)
    tally.wall_s = time.monotonic() - started
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="total wall time (default 5)")
    parser.add_argument("--targets", default="", help="comma-separated names (default: all)")
    parser.add_argument("--batch", type=int, default=200, help="examples per hypothesis run")
    args = parser.parse_args(argv)
    names = [n for n in args.targets.split(",") if n] or [t.name for t in TARGETS]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        parser.error(f"unknown targets {unknown}; known: {', '.join(BY_NAME)}")
    chosen = [BY_NAME[n] for n in names]
    share = args.minutes * 60 / len(chosen)

    # The gateway logs every refused request and every error: the tally says what matters.
    logging.disable(logging.CRITICAL)
    results: dict[str, Tally] = {}
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        gateways: dict[str, LiveGateway] = {}
        for kind in sorted({t.live for t in chosen if t.live}):
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"fuzz-{kind}-")))
            overrides = SAFE_MODE if kind == "safe" else {}
            gateways[kind] = stack.enter_context(live_gateway(workdir, **overrides))
        for target in chosen:
            tally = run_target(target, share, args.batch, gateways.get(target.live))
            results[target.name] = tally
            print(f"{target.name:<20} {tally.examples:>8} examples  {len(tally.failures)} failures  "
                  f"{tally.wall_s:6.1f} s  ({tally.examples / max(tally.wall_s, 1e-9):.0f}/s)",
                  flush=True)
    total = time.monotonic() - started
    examples = sum(t.examples for t in results.values())
    failures = sum(len(t.failures) for t in results.values())
    print(f"{'total':<20} {examples:>8} examples  {failures} failures  {total:6.1f} s wall")
    for name, tally in results.items():
        for key, example in tally.failures.items():
            print(f"\n--- {name}: {key}\n{example}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
