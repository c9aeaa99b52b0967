"""The Rasa service address of `make cluster`: one port in front of the Rasa replicas.

    python deploy/balancer.py --port 5005 --replicas http://127.0.0.1:5006,http://127.0.0.1:5007

What a Kubernetes Service is to the Rasa pods (deploy/k8s), this is on one machine: clients
of Rasa's REST channel and HTTP API (bench tools, ../shared/perf/compare.sh, operators) use one
address. A conversation's requests go to its own replica; one that refuses or drops the
connection is skipped and the request goes to the next (channels/replicas.py, the gateway's
own rule).
Listens on 127.0.0.1 only, like Rasa itself.
"""

from __future__ import annotations

import argparse
import json

import aiohttp
from aiohttp import web

from channels.replicas import KEEPALIVE_S, Replicas

# Not forwarded: they describe one hop (the body is passed on as received, still encoded).
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


def conversation_of(path: str, body: bytes) -> str | None:
    """The conversation a request belongs to: the REST channel's `sender` or the API's path."""
    if path.startswith("/conversations/"):
        return path.split("/")[2]
    if path.startswith("/webhooks/") and body:
        try:
            sender = json.loads(body).get("sender")
        except (ValueError, AttributeError):
            return None
        return sender if isinstance(sender, str) else None
    return None


def make_app(replicas: Replicas, timeout_s: float = 60.0) -> web.Application:
    session: dict[str, aiohttp.ClientSession] = {}

    async def start(_app: web.Application) -> None:
        session["s"] = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=timeout_s, connect=3.0),
            connector=aiohttp.TCPConnector(limit=200, keepalive_timeout=KEEPALIVE_S),
            auto_decompress=False)

    async def stop(_app: web.Application) -> None:
        await session["s"].close()

    async def forward(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}

        async def send(base: str) -> web.Response:
            async with session["s"].request(request.method, base + request.path_qs,
                                            data=body, headers=headers) as resp:
                payload = await resp.read()
            out = {k: v for k, v in resp.headers.items() if k.lower() not in HOP_BY_HOP}
            return web.Response(status=resp.status, body=payload, headers=out)

        try:
            return await replicas.first_answer(conversation_of(request.path, body), send)
        except (TimeoutError, aiohttp.ClientError, OSError):
            return web.json_response({"error": "no Rasa replica answered"}, status=503)

    app = web.Application(client_max_size=1 << 20)
    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--replicas", required=True, help="comma-separated replica URLs")
    args = parser.parse_args()
    web.run_app(make_app(Replicas(args.replicas)), host="127.0.0.1", port=args.port,
                access_log=None, print=None)


if __name__ == "__main__":
    main()
