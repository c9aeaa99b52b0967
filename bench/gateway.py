"""Gateway overhead over a direct Rasa call, 20 concurrent senders (issue 4).

    .venv/bin/python -m bench.gateway --pin                # against a local fake Rasa
    .venv/bin/python -m bench.gateway --rasa-url http://127.0.0.1:5005   # a real Rasa

Starts the gateway (`python -m channels`, SQLite message log in a temp dir) as its own
process, then sends the same question directly to Rasa's REST webhook and through the
gateway's JSON API (`/api/chat`), the Twilio SMS webhook (signed requests) and the WeChat
webhook (signed, plaintext mode). Each of `--senders` concurrent residents sends messages
one after another (closed loop).

Fairness: the paths run in `--rounds` interleaved rounds (direct, API, SMS, WeChat, direct,
...), so load from other jobs on the machine falls on all of them alike; requests are
built and signed before the clock starts (signing is the platform's work, not the
gateway's); with `--pin` the gateway has CPU 1 to itself while the load generator and the
fake Rasa share CPU 0 in every path, the direct one included.

Reported per path: client-side latency p50/p95 and the difference to the direct path (Δ);
the gateway's own overhead per request from its `Server-Timing` header (handler total minus
the time spent waiting for Rasa), which does not suffer from the back end's latency
variance but misses HTTP parsing and writing in Sanic; the gateway's CPU per request from
/proc. The fake Rasa answers after `--fake-delay-ms` ± `--fake-jitter-ms` (default 25 ± 10 ms;
with no jitter all senders move in lock-step and each burst of 20 queues behind itself).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
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
            request = send.prepare(i, j)  # signing etc. is the client's work: not timed
            started = time.perf_counter()
            overhead = await send(request)
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


class Route:
    """One way of sending a question: `prepare` builds the request, calling sends it."""

    def __init__(self, name: str, prepare, send) -> None:  # noqa: ANN001
        self.name, self.prepare, self.send = name, prepare, send
        self.latencies: list[float] = []
        self.overheads: list[float] = []
        self.cpu = 0.0
        self.rasa_cpu = 0.0

    async def __call__(self, request) -> float | None:  # noqa: ANN001
        return await self.send(request)


def wechat_query(token: str, nonce: str) -> str:
    import hashlib

    timestamp = str(int(time.time()))
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return urlencode({"signature": signature, "timestamp": timestamp, "nonce": nonce})


async def bench(
    args: argparse.Namespace, rasa_url: str, gateway_url: str, gateway_pid: int,
    rasa_pid: int | None,
) -> None:
    from twilio.request_validator import RequestValidator

    run_id = uuid.uuid4().hex[:6]
    sids = itertools.count()
    validator = RequestValidator(TOKEN)
    # aiohttp, not httpx, as load generator: httpx costs several ms of CPU per request here.
    connector = aiohttp.TCPConnector(limit=args.senders * 2)
    dump: list[str] | None = [] if args.dump_timing else None
    async with aiohttp.ClientSession(connector=connector) as http:

        async def post(url: str, body: bytes, headers: dict[str, str], ok: str) -> float | None:
            async with http.post(url, data=body, headers=headers) as resp:
                text = await resp.text()
                assert resp.status == 200 and ok in text, text
                header = resp.headers.get("server-timing", "")
                if dump is not None and header:
                    dump.append(url.split("?")[0].rsplit("/", 1)[-1] + "\t" + header)
                return server_overhead(header)

        def direct_req(i: int, j: int) -> tuple:
            body = json.dumps({"sender": f"d{run_id}-{i}", "message": args.question,
                               "metadata": {"channel": "web"}}, ensure_ascii=False).encode()
            return (f"{rasa_url}/webhooks/rest/webhook", body, JSON, "recipient_id")

        def api_req(i: int, j: int) -> tuple:
            # A new conversation per request: continuing one needs its conversation_token.
            body = json.dumps({"sender": f"a{run_id}-{i}-{j}", "message": args.question,
                               "channel": "web"}, ensure_ascii=False).encode()
            return (f"{gateway_url}/api/chat", body, JSON, '"answered"')

        def sms_req(i: int, j: int) -> tuple:
            params = {"MessageSid": f"SM{run_id}{next(sids):08d}", "From": f"+86138{i:08d}",
                      "To": "+15005550006", "Body": args.question}
            signature = validator.compute_signature("http://bench.example.org/sms/twilio", params)
            headers = {"X-Twilio-Signature": signature,
                       "Content-Type": "application/x-www-form-urlencoded"}
            return (f"{gateway_url}/sms/twilio", urlencode(params).encode(), headers, "<Message>")

        def wechat_req(i: int, j: int) -> tuple:
            body = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
                    f"<FromUserName><![CDATA[o{run_id}{i:06d}]]></FromUserName>"
                    f"<CreateTime>{int(time.time())}</CreateTime>"
                    f"<MsgType><![CDATA[text]]></MsgType>"
                    f"<Content><![CDATA[{args.question}]]></Content>"
                    f"<MsgId>{int(run_id, 16)}{next(sids):08d}</MsgId></xml>").encode()
            query = wechat_query(TOKEN, uuid.uuid4().hex)  # fresh: a seen nonce is a replay
            return (f"{gateway_url}/wechat?{query}", body, XML, "<Content>")

        async def send(request: tuple) -> float | None:
            return await post(*request)

        paths = [Route("direct Rasa", direct_req, send),
                 Route("gateway /api/chat", api_req, send),
                 Route("gateway /sms/twilio", sms_req, send),
                 Route("gateway /wechat", wechat_req, send)]
        for path in paths:  # warm-up: connections, caches, SQLite file
            await run_load(args.senders, 3, path)
        per_round = max(1, args.messages // args.rounds)
        # Interleaved rounds: load from other jobs on the machine varies over time; every
        # path sees the same mix of it instead of one path getting a busy minute.
        for _ in range(args.rounds):
            for path in paths:
                cpu0 = cpu_seconds(gateway_pid)
                rasa0 = cpu_seconds(rasa_pid) if rasa_pid else 0.0
                lat, over = await run_load(args.senders, per_round, path)
                path.cpu += cpu_seconds(gateway_pid) - cpu0
                path.rasa_cpu += (cpu_seconds(rasa_pid) - rasa0) if rasa_pid else 0.0
                path.latencies += lat
                path.overheads += over
    if dump is not None:
        Path(args.dump_timing).write_text("\n".join(dump) + "\n")
    direct = paths[0]
    d50, d95 = pct(direct.latencies, 50), pct(direct.latencies, 95)
    print(f"senders={args.senders} messages/sender={per_round * args.rounds} "
          f"rounds={args.rounds} rasa={rasa_url}")
    print(f"{'path':22} {'n':>5} {'p50 ms':>7} {'p95 ms':>7} {'Δp50':>6} {'Δp95':>6} "
          f"{'over p50':>8} {'over p95':>8} {'CPU/req':>8}")
    for path in paths:
        lat, n = path.latencies, len(path.latencies)
        p50, p95 = pct(lat, 50), pct(lat, 95)
        over = (f"{pct(path.overheads, 50):8.2f} {pct(path.overheads, 95):8.2f}"
                if path.overheads else f"{'':8} {'':8}")
        cpu = path.cpu if path is not direct else path.rasa_cpu
        print(f"{path.name:22} {n:5d} {p50:7.2f} {p95:7.2f} {p50 - d50:6.2f} {p95 - d95:6.2f} "
              f"{over} {cpu / n * 1000:8.2f}")
    print("over = gateway's Server-Timing total minus its wait for Rasa (ms); CPU/req = the "
          "gateway's CPU per request (direct Rasa row: the fake Rasa's, a trivial Sanic app)")
    every = [o for path in paths[1:] for o in path.overheads]
    print(f"gateway overhead, all endpoints: p50 {pct(every, 50):.2f} ms, "
          f"p95 {pct(every, 95):.2f} ms, mean {statistics.fmean(every):.2f} ms, n={len(every)}")


JSON = {"Content-Type": "application/json"}
XML = {"Content-Type": "text/xml"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rasa-url", help="a running Rasa; default: start a fake one")
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5,
                        help="interleaved rounds over the paths (messages are split over them)")
    parser.add_argument("--fake-delay-ms", type=float, default=25.0)
    parser.add_argument("--fake-jitter-ms", type=float, default=10.0,
                        help="uniform ± jitter; 0 makes the 20 senders move in lock-step")
    parser.add_argument("--question", default="会宁县2022年居民医保个人缴费标准是多少")
    parser.add_argument("--pin", action="store_true",
                        help="gateway on CPU 1, fake Rasa and load generator on CPU 0")
    parser.add_argument("--dump-timing", help="write every Server-Timing header to this file")
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
               "TWILIO_FROM_NUMBER": "+15005550006", "SENDER_HASH_SECRET": "bench",
               "WECHAT_TOKEN": TOKEN,
               # limits so high they never refuse, but the limiter's work is measured
               "API_RATE_CHAT_SENDER": "1000000:100000", "API_RATE_CHAT_IP": "1000000:100000"}
        log = open(f"{tmp}/gateway.log", "wb")  # noqa: SIM115 - closed with the process
        procs.append(subprocess.Popen([sys.executable, "-m", "channels"], cwd=ROOT, env=env,
                                      stdout=log, stderr=subprocess.STDOUT))
        if args.pin:
            os.sched_setaffinity(procs[-1].pid, {1})
        gateway_url = f"http://127.0.0.1:{gw_port}"
        wait_ready(f"{gateway_url}/healthz")
        rasa_pid = procs[0].pid if not args.rasa_url else None
        print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        asyncio.run(bench(args, rasa_url, gateway_url, procs[-1].pid, rasa_pid))
        print("load average after:  {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
