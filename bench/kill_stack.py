"""kill -9 every process of `make run` or `make cluster` while residents write: each must come
back, and every accepted message must be answered exactly once.

    .venv/bin/python -m bench.kill_stack --mode run|cluster [--conversations 6]

Runs deploy/launch.py on free ports (cluster: a fresh PostgreSQL database `yibao_killtest` and
Redis database 3), keeps N conversations writing through the gateway's JSON API, kills each
process in turn with SIGKILL, waits for supervisord to restart it, then audits the message log
and Rasa's trackers (tests/launch/stack.py). Prints one line per kill and a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

from tests.launch.stack import Stack

QUESTIONS = ["白银市2022年居民医保个人缴多少钱？", "低保户交多少", "什么时候开始缴费", "新生儿怎么参保",
             "会宁县一类低保交多少", "贵州2021年缴费截止到什么时候"]
KILL_DB = "yibao_killtest"


def fresh_database() -> str:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{KILL_DB}" WITH (FORCE)')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{KILL_DB}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["run", "cluster"], default="run")
    parser.add_argument("--conversations", type=int, default=6)
    parser.add_argument("--pause", type=float, default=8.0, help="seconds of traffic between kills")
    args = parser.parse_args()
    env = {"DATABASE_URL": fresh_database(), "REDIS_URL": "redis://127.0.0.1:6379/3"} \
        if args.mode == "cluster" else {}
    stack = Stack(args.mode, Path(tempfile.mkdtemp(prefix="kill-")), env)
    started = time.monotonic()
    stack.wait_ready()
    print(f"ready in {time.monotonic() - started:.0f} s", flush=True)
    names = ["actions", "rasa-0", "gateway"]
    if args.mode == "cluster":
        names = ["actions", "rasa-0", "rasa-1", "rasa-balancer", "gateway"]
    stop = threading.Event()

    def resident(i: int) -> None:
        turn = 0
        while not stop.is_set():
            stack.chat(f"kill-{i}", QUESTIONS[(i + turn) % len(QUESTIONS)])
            turn += 1

    threads = [threading.Thread(target=resident, args=(i,)) for i in range(args.conversations)]
    for t in threads:
        t.start()
    restarts = {}
    try:
        for name in names:
            time.sleep(args.pause)
            killed = time.monotonic()
            restarted = stack.kill(name)
            stack.wait_answering(name)
            answering = time.monotonic() - killed
            restarts[name] = {"restarted_s": round(restarted, 1), "answering_s": round(answering, 1)}
            print(f"kill -9 {name}: restarted after {restarted:.1f} s, answering after "
                  f"{answering:.1f} s", flush=True)
        time.sleep(args.pause)
    finally:
        stop.set()
        for t in threads:
            t.join()
    summary = {"mode": args.mode, "kills": restarts, **stack.audit()}
    stack.stop()
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
