"""`GET/POST /wechat`: URL verification, the 5-second rule; which requests are accepted is
`inbound.py` (signatures, message mode, timestamp window) and `replay.py` (nonces)."""

from __future__ import annotations

import asyncio
import logging
import time

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, text

from channels import texts
from channels.identity import mask_sender
from channels.replies import Reply, as_text, text_reply
from channels.service import Gateway, Intercept, Outcome, server_timing
from channels.store import Conversation
from channels.wechat.inbound import Refused, verify_post
from channels.wechat.replay import NonceLedger, Seen
from channels.wechat.signature import url_signature_ok
from channels.wechat.xmlsafe import fit_bytes, render_text_reply

log = logging.getLogger("channels.wechat")
bp = Blueprint("wechat")
CHANNEL = "wechat"
SUCCESS = "success"


def _args(request: Request) -> dict[str, str]:
    return {k: v[0] for k, v in request.args.items() if v}


@bp.get("/wechat")
async def verify_url(request: Request) -> HTTPResponse:
    settings = request.app.ctx.settings
    if not settings.wechat_enabled:
        return text("wechat channel not configured", status=503)
    args = _args(request)
    if not url_signature_ok(settings.wechat_token, args):
        return text("forbidden", status=403)
    return text(args.get("echostr", ""))


def _fixed(reply: str) -> Intercept:
    async def intercept(conv: Conversation, body: str) -> list[Reply] | None:
        return [text_reply(reply)]

    return intercept


def _welcome(gateway: Gateway, reply: str) -> Intercept:
    async def intercept(conv: Conversation, body: str) -> list[Reply] | None:
        if conv.opted_out:  # subscribed again
            await asyncio.to_thread(gateway.store.set_opted_out, conv.id, False)
        return [text_reply(reply)]

    return intercept


@bp.post("/wechat")
async def receive(request: Request) -> HTTPResponse:
    started = time.perf_counter()
    ctx = request.app.ctx
    settings = ctx.settings
    if not settings.wechat_enabled:
        return text("wechat channel not configured", status=503)
    if len(request.body) > settings.max_body_bytes:
        return text("body too large", status=413)
    args = _args(request)
    try:
        inbound = verify_post(
            args, request.body, token=settings.wechat_token, crypto=ctx.wechat_crypto,
            now=time.time(), max_bytes=settings.max_body_bytes,
        )
    except Refused as exc:
        log.warning("wechat request refused (%d): %s", exc.status, exc.reason)
        return text("forbidden" if exc.status == 403 else "bad request", status=exc.status)
    gateway: Gateway = ctx.gateway
    ledger = await _ledger(request.app)
    # Where the per-message transactions run (inline on SQLite, store threads otherwise).
    seen = await gateway.db_hot(ledger.record, inbound.timestamp, inbound.nonce, inbound.digest)
    if seen is Seen.REPLAY:
        log.warning("wechat request refused (403): nonce replayed with another body")
        return text("forbidden", status=403)
    msg, encrypted = inbound.msg, inbound.encrypted

    sender = msg.get("FromUserName", "")
    account = msg.get("ToUserName", "")
    msg_type = msg.get("MsgType", "")
    if not sender or not msg_type:
        return text("bad request", status=400)

    budget = settings.wechat_reply_budget_s
    body = ""
    intercept: Intercept | None = None
    if msg_type == "event":
        event = msg.get("Event", "").lower()
        if seen is Seen.RETRY and event != "subscribe":
            return text(SUCCESS)  # no dedupe key of its own: acted on already (replay.py)
        if event == "unsubscribe":
            # Nothing more may be sent: pending pushes and staff messages are dropped.
            conv = await asyncio.to_thread(gateway.store.find_conversation, CHANNEL, sender)
            if conv is not None:
                await asyncio.to_thread(gateway.store.set_opted_out, conv.id, True)
            return text(SUCCESS)
        if event != "subscribe":
            return text(SUCCESS)  # menu clicks, location reports...: nothing to say
        external_id = f"event:{sender}:{msg.get('CreateTime', '')}"
        body = "[关注]"
        intercept = _welcome(gateway, texts.wechat_welcome(settings.hotline))
    else:
        external_id = msg.get("MsgId") or f"msg:{sender}:{msg.get('CreateTime', '')}"
        if msg_type == "text":
            body = msg.get("Content", "")
        elif msg_type == "voice" and msg.get("Recognition"):
            body = msg["Recognition"]
        else:
            body = f"[{msg_type}]"
            intercept = _fixed(texts.wechat_unsupported())
        body = body[: settings.max_message_chars]
        if not body.strip():
            intercept = _fixed(texts.wechat_unsupported())

    outcome = await gateway.receive(
        CHANNEL, sender, body, external_id, budget_s=budget, intercept=intercept
    )
    if log.isEnabledFor(logging.DEBUG):  # the message log has every message
        log.debug("wechat from %s message %s: %s", mask_sender(sender), outcome.message.id,
                  outcome.kind)
    content = _reply_text(outcome, settings.hotline)
    if content is None:
        return text(SUCCESS)
    xml = render_text_reply(sender, account, int(time.time()), content)
    if encrypted:
        xml = ctx.wechat_crypto.encrypt_message(xml, inbound.nonce, str(inbound.timestamp))
    return HTTPResponse(xml, content_type="application/xml",
                        headers={"Server-Timing": server_timing(started, outcome.backend_s)})


async def _ledger(app: Sanic) -> NonceLedger:
    """The app's nonce ledger, its table created on first use (in the store's database)."""
    ledger: NonceLedger | None = getattr(app.ctx, "wechat_nonces", None)
    if ledger is None:
        ledger = NonceLedger(app.ctx.store.engine, app.ctx.settings.database_table_prefix)
        await asyncio.to_thread(ledger.create)
        app.ctx.wechat_nonces = ledger
    return ledger


def _reply_text(outcome: Outcome, hotline: str) -> str | None:
    if outcome.kind in ("answered", "handled"):
        content = as_text(outcome.replies)
        return fit_bytes(content) if content else None
    if outcome.kind == "unavailable":
        return texts.apology(hotline)
    return None  # late (pushed later), duplicate, staff: "success"
