"""Test helpers: run the real gateway and local fakes of Rasa, Twilio and WeChat in-process.

Every server listens on 127.0.0.1 on a free port and speaks the real protocol over HTTP.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from sanic import Request, Sanic
from sanic.response import HTTPResponse, json

from channels.app import create_app
from channels.settings import Settings

_names = itertools.count()
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "test-twilio-auth-token"
TWILIO_FROM = "+15005550006"
WECHAT_TOKEN = "testwechattoken"
WECHAT_APP_ID = "wx0123456789abcdef"
WECHAT_SECRET = "test-wechat-secret"
AES_KEY = base64.b64encode(b"k" * 32).decode().rstrip("=")  # 43 characters


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def serve(app: Sanic, port: int | None = None) -> AsyncIterator[str]:
    """Run a Sanic app in the current event loop; yields its base URL."""
    port = port or free_port()
    # TouchUp rewrites Sanic's classes once per process; a second app in-process breaks it.
    app.config.TOUCHUP = False
    app.config.MOTD = False
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


# -- fake Rasa ------------------------------------------------------------------------------
@dataclass
class FakeRasa:
    """Speaks the Rasa REST channel; answers `答复：<message>` per channel."""

    delay_s: float = 0.0
    fail: bool = False
    calls: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> Sanic:
        app = Sanic(f"fake_rasa_{next(_names)}")

        @app.get("/")
        async def hello(request: Request) -> HTTPResponse:
            return HTTPResponse("Hello from Rasa: 3.6.21")

        @app.post("/webhooks/rest/webhook")
        async def webhook(request: Request) -> HTTPResponse:
            body = request.json
            self.calls.append(body)
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if self.fail:
                return json([])  # what Rasa does when the action server is down
            channel = (body.get("metadata") or {}).get("channel")
            reply: dict[str, Any] = {
                "recipient_id": body["sender"],
                "text": f"答复：{body['message']}",
            }
            if channel == "web":
                reply["buttons"] = [
                    {"title": "依据", "payload": "/ask_basis"},
                    {"title": "政策原文", "payload": "https://example.org/notice"},
                ]
            return json([reply])

        @app.post("/conversations/<cid>/tracker/events")
        async def events(request: Request, cid: str) -> HTTPResponse:
            self.calls.append({"event": request.json, "conversation": cid})
            return json({"sender_id": cid})

        return app


# -- fake Twilio Messages API ---------------------------------------------------------------
@dataclass
class FakeTwilio:
    sent: list[dict[str, str]] = field(default_factory=list)
    fail_status: int | None = None

    def app(self) -> Sanic:
        app = Sanic(f"fake_twilio_{next(_names)}")

        @app.post("/2010-04-01/Accounts/<sid>/Messages.json")
        async def messages(request: Request, sid: str) -> HTTPResponse:
            auth = request.headers.get("authorization", "")
            expected = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
            if auth != f"Basic {expected}" or sid != TWILIO_SID:
                return json({"code": 20003, "message": "Authenticate"}, status=401)
            if self.fail_status:
                return json({"code": 20500, "message": "error"}, status=self.fail_status)
            form = {k: v[0] for k, v in request.form.items()}
            self.sent.append(form)
            return json({"sid": f"SM{len(self.sent):032d}", "status": "queued"}, status=201)

        return app


# -- fake WeChat API ------------------------------------------------------------------------
@dataclass
class FakeWeChatApi:
    sent: list[dict[str, Any]] = field(default_factory=list)
    token_requests: int = 0
    errcodes: list[int] = field(default_factory=list)  # returned (in order) before success

    def app(self) -> Sanic:
        app = Sanic(f"fake_wechat_{next(_names)}")

        @app.get("/cgi-bin/token")
        async def token(request: Request) -> HTTPResponse:
            self.token_requests += 1
            if request.args.get("secret") != WECHAT_SECRET:
                return json({"errcode": 40125, "errmsg": "invalid appsecret"})
            return json({"access_token": f"TOKEN{self.token_requests}", "expires_in": 7200})

        @app.post("/cgi-bin/message/custom/send")
        async def send(request: Request) -> HTTPResponse:
            if not request.args.get("access_token", "").startswith("TOKEN"):
                return json({"errcode": 40001, "errmsg": "invalid credential"})
            if self.errcodes:
                code = self.errcodes.pop(0)
                return json({"errcode": code, "errmsg": "fake error"})
            self.sent.append(request.json)
            return json({"errcode": 0, "errmsg": "ok"})

        return app


# -- the gateway ----------------------------------------------------------------------------
def gateway_settings(tmp_path: os.PathLike[str] | str, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "public_base_url": "https://gateway.example.org",
        "twilio_account_sid": TWILIO_SID,
        "twilio_auth_token": TWILIO_TOKEN,
        "twilio_from_number": TWILIO_FROM,
        "wechat_token": WECHAT_TOKEN,
        "wechat_app_id": WECHAT_APP_ID,
        "wechat_app_secret": WECHAT_SECRET,
        "database_url": f"sqlite:///{os.fspath(tmp_path)}/gateway.db",
        "rasa_url": f"http://127.0.0.1:{free_port()}",  # nothing listens: Rasa down
        "sender_hash_secret": "test-secret",
        "retry_interval_s": 0.2,
        "outbound_backoff_s": 0.01,
        "sync_reply_budget_s": 3.0,
        "wechat_reply_budget_s": 1.0,
        "rasa_timeout_s": 10.0,
    }
    base.update(overrides)
    return Settings(**base)


def gateway_app(settings: Settings, **kwargs: Any) -> Sanic:
    return create_app(settings, name=f"gateway_{next(_names)}", **kwargs)


async def wait_for(predicate: Any, timeout_s: float = 10.0, interval_s: float = 0.05) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(interval_s)
    raise AssertionError("condition not reached in time")


def client(base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, timeout=20.0)


# -- a delaying TCP proxy (fault injection in front of a real server) -----------------------
@contextlib.asynccontextmanager
async def delaying_proxy(upstream_url: str, delay_s: float) -> AsyncIterator[str]:
    """Forward TCP to `upstream_url`, holding each client's first bytes for `delay_s`."""
    host, port = upstream_url.removeprefix("http://").split(":")

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = await reader.read(65536)
        await asyncio.sleep(delay_s)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        up_writer.write(first)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    proxy_port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{proxy_port}"
    finally:
        server.close()
