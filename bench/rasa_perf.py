"""Rasa stack benchmark (not in make test): cold start, REST turn latency, peak memory.

Usage: ``.venv/bin/python -m bench.rasa_perf [--turns 200] [--concurrency 20]``. Starts the
action server and ``rasa run`` on free ports with the current model (``make train`` first),
measures the time until ``/status`` answers (cold start), p50/p95 of one REST turn that runs
``action_answer`` sequentially and with N concurrent conversations, and the peak RSS (VmHWM)
of each process. Prints JSON and writes results/rasa_perf.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bot.scripts.endpoints import endpoints_for

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ["贵州2021年医保缴费截止时间", "会宁县2022年低保户交多少钱", "白银2023年待遇什么时候开始",
             "安康2022年新生儿怎么参保", "会宁2022年能用微信交医保吗"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    """VmHWM of the process and its children (Rasa forks none by default)."""
    total = 0
    for p in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total = max(total, int(line.split()[1]))
        except FileNotFoundError:
            pass
    return round(total / 1024, 1)


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def wait_ready(url: str, timeout: float = 300) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(url)


def turn(client: httpx.Client, url: str, sender: str, text: str) -> float:
    """One REST turn. The client is reused: a new httpx client costs milliseconds itself."""
    started = time.perf_counter()
    resp = client.post(url, json={"sender": sender, "message": text,
                                  "metadata": {"channel": "wechat"}}, timeout=60)
    resp.raise_for_status()
    assert resp.json(), text
    return (time.perf_counter() - started) * 1000


def pct(values: list[float], q: float) -> float:
    return round(statistics.quantiles(values, n=100)[int(q) - 1], 1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rasa-perf-"))
    rport, aport = free_port(), free_port()
    (work / "endpoints.yml").write_text(endpoints_for(aport, work / "tracker.db"))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{work / 'y.db'}"}
    t0 = time.monotonic()
    actions = subprocess.Popen(
        [sys.executable, "-m", "actions.server", "--port", str(aport)], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rasa = subprocess.Popen(
        [str(ROOT / ".venv-rasa/bin/python"), "bot/scripts/serve.py", "run", "-m",
         "bot/models/current.tar.gz",
         "--enable-api", "-i", "127.0.0.1", "--port", str(rport), "--endpoints",
         str(work / "endpoints.yml"), "--credentials", "bot/credentials.yml"],
        cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT / "bot")}, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        actions_ready = wait_ready(f"http://127.0.0.1:{aport}/health")
        rasa_ready = wait_ready(f"http://127.0.0.1:{rport}/status")
        cold = time.monotonic() - t0
        url = f"http://127.0.0.1:{rport}/webhooks/rest/webhook"
        with httpx.Client() as client:
            for i in range(10):  # warm-up
                turn(client, url, "warm", QUESTIONS[i % len(QUESTIONS)])
            seq = [turn(client, url, f"seq-{uuid.uuid4().hex[:8]}", QUESTIONS[i % len(QUESTIONS)])
                   for i in range(args.turns)]

        def conversation(n: int) -> list[float]:
            sender = f"conc-{n}-{uuid.uuid4().hex[:6]}"
            per = max(1, args.turns // args.concurrency)
            with httpx.Client() as client:
                return [turn(client, url, sender, QUESTIONS[(n + i) % len(QUESTIONS)])
                        for i in range(per)]

        started = time.monotonic()
        with ThreadPoolExecutor(args.concurrency) as pool:
            conc = [t for ts in pool.map(conversation, range(args.concurrency)) for t in ts]
        wall = time.monotonic() - started
        result = {
            "cold_start_s": {"actions": round(actions_ready, 1), "rasa": round(rasa_ready, 1),
                             "both": round(cold, 1)},
            "sequential_ms": {"n": len(seq), "p50": pct(seq, 50), "p95": pct(seq, 95)},
            f"concurrent_{args.concurrency}_ms": {"n": len(conc), "p50": pct(conc, 50),
                                                  "p95": pct(conc, 95),
                                                  "turns_per_s": round(len(conc) / wall, 1)},
            "peak_rss_mb": {"rasa": peak_rss_mb(rasa.pid), "actions": peak_rss_mb(actions.pid)},
        }
    finally:
        for proc in (rasa, actions):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    print(json.dumps(result, indent=1))
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "rasa_perf.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
