"""Gateway overhead over a direct Rasa call, 20 concurrent senders (issue 4).

    .venv/bin/python -m bench.gateway                      # against a local fake Rasa
    .venv/bin/python -m bench.gateway --rasa-url http://127.0.0.1:5005   # a real Rasa

Starts the gateway (`python -m channels`, SQLite message log in a temp dir) as its own
process, then runs the same load twice: directly against Rasa's REST webhook, and through
the gateway's JSON API (`/api/chat`) and the Twilio SMS webhook (signed requests). Each of
`--senders` concurrent residents sends `--messages` messages one after another.

Reported: client-side latency p50/p95 for each path, the difference to the direct path, and
the gateway's own overhead per request from its `Server-Timing` header (total minus the time
spent waiting for Rasa), which does not suffer from the back end's latency variance.
The fake Rasa answers after `--fake-delay-ms` ± `--fake-jitter-ms` (default 25 ± 10 ms; with
no jitter all senders move in lock-step and each burst of 20 queues behind itself).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def serve_fake_rasa(port: int, delay_ms: float, jitter_ms: float) -> None:
    import random

    from sanic import Sanic
    from sanic.response import json, text

    app = Sanic("bench_fake_rasa")

    @app.get("/")
    async def hello(request):  # noqa: ANN001, ANN202
        return text("Hello from Rasa: fake")

    @app.post("/webhooks/rest/webhook")
    async def webhook(request):  # noqa: ANN001, ANN202
        await asyncio.sleep(max(0.0, delay_ms + random.uniform(-jitter_ms, jitter_ms)) / 1000)
        body = request.json
        return json([{"recipient_id": body["sender"],
                      "text": "会宁县2022年度个人缴费320元（依据：会政办发〔2021〕68号）",
                      "buttons": [{"title": "查看依据", "payload": "/ask_citation"}]}])

    app.run(host="127.0.0.1", port=port, single_process=True, access_log=False, motd=False)


def wait_ready(url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


async def run_load(senders: int, messages: int, send) -> tuple[list[float], list[float]]:  # noqa: ANN001
    latencies: list[float] = []
    overheads: list[float] = []

    async def resident(i: int) -> None:
        for j in range(messages):
            started = time.perf_counter()
            overhead = await send(i, j)
            latencies.append((time.perf_counter() - started) * 1000)
            if overhead is not None:
                overheads.append(overhead)

    await asyncio.gather(*(resident(i) for i in range(senders)))
    return latencies, overheads


def server_overhead(header: str) -> float | None:
    timing = dict(part.strip().split(";dur=") for part in header.split(",") if ";dur=" in part)
    if "gateway" in timing and "backend" in timing:
        return float(timing["gateway"]) - float(timing["backend"])
    return None


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def bench(
    args: argparse.Namespace, rasa_url: str, gateway_url: str, gateway_pid: int
) -> None:
    from twilio.request_validator import RequestValidator

    run_id = uuid.uuid4().hex[:6]
    sids = itertools.count()
    validator = RequestValidator(TOKEN)
    # aiohttp, not httpx, as load generator: httpx costs several ms of CPU per request here.
    connector = aiohttp.TCPConnector(limit=args.senders * 2)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def direct(i: int, j: int) -> None:
            async with http.post(f"{rasa_url}/webhooks/rest/webhook", json={
                "sender": f"d{run_id}-{i}", "message": args.question,
                "metadata": {"channel": "web"}}) as resp:
                await resp.read()
                assert resp.status == 200

        async def api(i: int, j: int) -> float | None:
            async with http.post(f"{gateway_url}/api/chat", json={
                "sender": f"a{run_id}-{i}", "message": args.question, "channel": "web"}) as resp:
                data = await resp.json()
                assert resp.status == 200 and data["status"] == "answered", data
                return server_overhead(resp.headers.get("server-timing", ""))

        async def sms(i: int, j: int) -> None:
            params = {"MessageSid": f"SM{run_id}{next(sids):08d}", "From": f"+86138{i:08d}",
                      "To": "+15005550006", "Body": args.question}
            url = "http://bench.example.org/sms/twilio"
            headers = {"X-Twilio-Signature": validator.compute_signature(url, params),
                       "Content-Type": "application/x-www-form-urlencoded"}
            async with http.post(f"{gateway_url}/sms/twilio", data=urlencode(params),
                                 headers=headers) as resp:
                body = await resp.text()
                assert resp.status == 200 and "<Message>" in body, body

        # warm-up: connections, caches, SQLite file
        await run_load(args.senders, 3, direct)
        await run_load(args.senders, 3, api)
        await run_load(args.senders, 3, sms)
        rows: list[tuple[str, list[float]]] = []
        direct_lat, _ = await run_load(args.senders, args.messages, direct)
        cpu0 = cpu_seconds(gateway_pid)
        api_lat, api_over = await run_load(args.senders, args.messages, api)
        cpu1 = cpu_seconds(gateway_pid)
        sms_lat, _ = await run_load(args.senders, args.messages, sms)
        cpu2 = cpu_seconds(gateway_pid)
        direct2, _ = await run_load(args.senders, args.messages, direct)
        direct_lat += direct2
        rows = [("direct Rasa", direct_lat), ("gateway /api/chat", api_lat),
                ("gateway /sms/twilio", sms_lat)]
    d50, d95 = pct(direct_lat, 50), pct(direct_lat, 95)
    print(f"senders={args.senders} messages/sender={args.messages} rasa={rasa_url}")
    print(f"{'path':24} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'Δp50':>7} {'Δp95':>7}")
    for name, lat in rows:
        p50, p95 = pct(lat, 50), pct(lat, 95)
        print(f"{name:24} {len(lat):6d} {p50:8.2f} {p95:8.2f} {p50 - d50:7.2f} {p95 - d95:7.2f}")
    n = args.senders * args.messages
    print(f"gateway CPU per request: /api/chat {(cpu1 - cpu0) / n * 1000:.2f} ms, "
          f"/sms/twilio {(cpu2 - cpu1) / n * 1000:.2f} ms")
    if api_over:
        print(f"gateway overhead from Server-Timing (total - backend), /api/chat: "
              f"p50 {pct(api_over, 50):.2f} ms, p95 {pct(api_over, 95):.2f} ms, "
              f"mean {statistics.fmean(api_over):.2f} ms, n={len(api_over)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rasa-url", help="a running Rasa; default: start a fake one")
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--fake-delay-ms", type=float, default=25.0)
    parser.add_argument("--fake-jitter-ms", type=float, default=10.0,
                        help="uniform ± jitter; 0 makes the 20 senders move in lock-step")
    parser.add_argument("--question", default="会宁县2022年居民医保个人缴费标准是多少")
    parser.add_argument("--pin", action="store_true",
                        help="gateway on CPU 1, fake Rasa and load generator on CPU 0")
    parser.add_argument("--serve-fake-rasa", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake_rasa:
        serve_fake_rasa(args.serve_fake_rasa, args.fake_delay_ms, args.fake_jitter_ms)
        return

    procs: list[subprocess.Popen[bytes]] = []
    try:
        rasa_url = args.rasa_url
        if not rasa_url:
            port = free_port()
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "bench.gateway", "--serve-fake-rasa", str(port),
                 "--fake-delay-ms", str(args.fake_delay_ms),
                 "--fake-jitter-ms", str(args.fake_jitter_ms)],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            rasa_url = f"http://127.0.0.1:{port}"
            if args.pin:
                os.sched_setaffinity(procs[-1].pid, {0})
        if args.pin:
            os.sched_setaffinity(0, {0})
        wait_ready(f"{rasa_url}/")
        tmp = tempfile.mkdtemp(prefix="bench-gateway-")
        gw_port = free_port()
        env = {**os.environ, "PORT": str(gw_port), "HOST": "127.0.0.1", "RASA_URL": rasa_url,
               "DATABASE_URL": f"sqlite:///{tmp}/gateway.db",
               "PUBLIC_BASE_URL": "http://bench.example.org",
               "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": TOKEN,
               "TWILIO_FROM_NUMBER": "+15005550006", "SENDER_HASH_SECRET": "bench"}
        log = open(f"{tmp}/gateway.log", "wb")  # noqa: SIM115 - closed with the process
        procs.append(subprocess.Popen([sys.executable, "-m", "channels"], cwd=ROOT, env=env,
                                      stdout=log, stderr=subprocess.STDOUT))
        if args.pin:
            os.sched_setaffinity(procs[-1].pid, {1})
        gateway_url = f"http://127.0.0.1:{gw_port}"
        wait_ready(f"{gateway_url}/healthz")
        asyncio.run(bench(args, rasa_url, gateway_url, procs[-1].pid))
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
