"""Where a turn's time goes inside Rasa: NLU, policies, tracker store, action call.

Not a test. Run in Rasa's venv in place of `rasa run` (same arguments), load it, stop it:

    PROFILE_OUT=results/rasa_profile.json SERVE_PATCHES=0|1 PYTHONPATH=bot:. \\
      .venv-rasa/bin/python bench/rasa_profile.py run -m bot/models/current.tar.gz ...

It wraps the processor's steps with wall-clock timers (the event loop is single-threaded, so
a step's wall time is its cost; the action call's time includes the action server's work and
the HTTP round trip) and writes, at exit (SIGTERM), per step: calls, median, p95 and total ms,
and the share of the summed turn time. Full garbage collections are timed too ("gc full"):
the event loop waits for them, every turn in flight with it. Drive it with
../shared/perf/load.py against its port; `kill -USR1` writes the figures.
"""

from __future__ import annotations

import atexit
import functools
import gc
import inspect
import json
import os
import signal
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

TIMES: dict[str, list[float]] = defaultdict(list)


def _timed(owner: Any, name: str, label: str) -> None:
    original = getattr(owner, name)
    if inspect.iscoroutinefunction(original):
        @functools.wraps(original)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                TIMES[label].append((time.perf_counter() - started) * 1000)
    else:
        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                TIMES[label].append((time.perf_counter() - started) * 1000)
    setattr(owner, name, wrapper)


def _time_full_collections() -> None:
    started: list[float] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            TIMES["gc full"].append((time.perf_counter() - started[0]) * 1000)

    gc.callbacks.append(callback)


def install() -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import TrackerStore

    if os.environ.get("SERVE_PATCHES", "1") == "1":  # what bot/scripts/serve.py changes
        from bot.scripts.serve import install as serve_patches
        serve_patches()
    _timed(MessageProcessor, "handle_message", "turn (handle_message)")
    _timed(MessageProcessor, "_parse_message_with_graph", "NLU parse")
    _timed(MessageProcessor, "_predict_next_with_tracker", "policies (per prediction)")
    _timed(RemoteAction, "run", "action call (HTTP + action server)")
    for name in ("retrieve", "save", "retrieve_full_tracker"):
        for cls in TrackerStore.__subclasses__() + [TrackerStore]:
            if name in vars(cls):
                _timed(cls, name, f"tracker store {name}")
    _time_full_collections()


def report() -> dict[str, Any]:
    turn = sum(TIMES.get("turn (handle_message)", [])) or 1.0
    out = {}
    for label, values in sorted(TIMES.items()):
        values = sorted(values)
        out[label] = {
            "calls": len(values),
            "median_ms": round(statistics.median(values), 2),
            "p95_ms": round(values[int(0.95 * (len(values) - 1))], 2),
            "total_ms": round(sum(values)),
            "share_of_turn": round(sum(values) / turn, 3),
        }
    return out


def _dump() -> None:
    path = Path(os.environ.get("PROFILE_OUT", "results/rasa_profile.json"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report(), indent=1, ensure_ascii=False))


def main() -> None:
    install()
    atexit.register(_dump)
    signal.signal(signal.SIGUSR1, lambda *_: _dump())
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
