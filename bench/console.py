"""Console page timings on a seeded message log (not part of `make test`).

    .venv/bin/python -m bench.console [--conversations 2000] [--messages 5]

Seeds a temporary SQLite database through the gateway's `MessageStore`, starts the real app
(`create_app`) in-process, signs in and times each console page (median of 5 requests).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import tempfile
import time

import httpx

from channels.app import create_app
from channels.settings import Settings


async def run(conversations: int, messages: int) -> None:
    tmp = tempfile.mkdtemp()
    url = f"sqlite:///{tmp}/bench.db"
    os.environ.update({"DATABASE_URL": url, "CONSOLE_ADMIN_USER": "admin",
                       "CONSOLE_ADMIN_PASSWORD": "Bench-pass-2026",
                       "CONSOLE_COOKIE_SECURE": "false"})  # plain http here
    settings = Settings(database_url=url, public_base_url="http://127.0.0.1",
                        rasa_url="http://127.0.0.1:9", sender_hash_secret="bench")
    app = create_app(settings, name="bench_console", retry_worker=False)
    store = app.ctx.store
    started = time.perf_counter()
    for i in range(conversations):
        channel = ("sms", "wechat", "web")[i % 3]
        for j in range(messages):
            inbound = store.record_inbound(channel, f"+86139{i:08d}", f"会宁县交多少钱 {j}", None)
            store.finish(inbound.message.id, "delivered",
                         [{"text": "会宁县2022年个人缴费320元。", "buttons": [], "links": []}],
                         "inline")
    print(f"seeded {conversations} conversations x {messages} messages "
          f"in {time.perf_counter() - started:.1f} s")
    app.config.TOUCHUP = False
    app.config.MOTD = False
    server = await app.create_server(host="127.0.0.1", port=0, return_asyncio_server=True,
                                     access_log=False)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    port = server.server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        page = await http.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        await http.post("/console/login", data={"username": "admin", "password": "Bench-pass-2026",
                                                "csrf_token": token})
        for path in ["/console/", "/console/?channel=sms", "/console/?q=交多少", "/console/?unanswered=1",
                     "/console/conversations/1", "/console/handoffs", "/console/dashboard",
                     "/console/calculator?topic=newborn&region=贵阳市&birth_date=2021-01-01"
                     "&payment_date=2021-04-02", "/console/knowledge"]:
            times = []
            for _ in range(5):
                t = time.perf_counter()
                resp = await http.get(path)
                times.append((time.perf_counter() - t) * 1000)
                assert resp.status_code == 200, (path, resp.status_code)
            print(f"{path:90s} median {statistics.median(times):7.1f} ms  "
                  f"({len(resp.content) // 1024} KiB)")
    await server.before_stop()
    server.close()
    await server.wait_closed()
    await server.after_stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.conversations, args.messages))


if __name__ == "__main__":
    main()
