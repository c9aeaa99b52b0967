"""`GET/POST /wechat`: URL verification, signatures, safe mode, the 5-second rule."""

from __future__ import annotations

import asyncio
import logging
import time

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, text
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

from channels import texts
from channels.identity import mask_sender
from channels.replies import Reply, as_text, text_reply
from channels.service import Gateway, Intercept, Outcome, server_timing
from channels.store import Conversation
from channels.wechat.xmlsafe import XmlRejected, fit_bytes, parse_xml, render_text_reply

log = logging.getLogger("channels.wechat")
bp = Blueprint("wechat")
CHANNEL = "wechat"
SUCCESS = "success"


def _signature_ok(token: str, args: dict[str, str]) -> bool:
    try:
        check_signature(
            token, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", "")
        )
    except InvalidSignatureException:
        return False
    return True


def _args(request: Request) -> dict[str, str]:
    return {k: v[0] for k, v in request.args.items() if v}


@bp.get("/wechat")
async def verify_url(request: Request) -> HTTPResponse:
    settings = request.app.ctx.settings
    if not settings.wechat_enabled:
        return text("wechat channel not configured", status=503)
    args = _args(request)
    if not _signature_ok(settings.wechat_token, args):
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
    args = _args(request)
    if not _signature_ok(settings.wechat_token, args):
        log.warning("wechat request with bad signature rejected")
        return text("forbidden", status=403)
    if len(request.body) > settings.max_body_bytes:
        return text("body too large", status=413)
    crypto: WeChatCrypto | None = ctx.wechat_crypto
    encrypted = args.get("encrypt_type", "raw") == "aes"
    try:
        outer = parse_xml(request.body, max_bytes=settings.max_body_bytes)
        if encrypted:
            if crypto is None or "Encrypt" not in outer:
                return text("safe mode not configured", status=400)
            inner = crypto.decrypt_message(
                {"Encrypt": outer["Encrypt"]},
                args.get("msg_signature", ""),
                args.get("timestamp", ""),
                args.get("nonce", ""),
            )
            msg = parse_xml(inner, max_bytes=settings.max_body_bytes)
        else:
            msg = outer
    except XmlRejected as exc:
        log.warning("wechat body rejected: %s", exc)
        return text("bad request", status=400)
    except (InvalidSignatureException, InvalidAppIdException):
        log.warning("wechat message with bad msg_signature or app id rejected")
        return text("forbidden", status=403)
    except Exception as exc:  # noqa: BLE001 - bad ciphertext / padding from wechatpy
        log.warning("wechat message could not be decrypted: %s", type(exc).__name__)
        return text("bad request", status=400)

    sender = msg.get("FromUserName", "")
    account = msg.get("ToUserName", "")
    msg_type = msg.get("MsgType", "")
    if not sender or not msg_type:
        return text("bad request", status=400)

    gateway: Gateway = ctx.gateway
    budget = settings.wechat_reply_budget_s
    body = ""
    intercept: Intercept | None = None
    if msg_type == "event":
        event = msg.get("Event", "").lower()
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
    if encrypted and crypto is not None:
        xml = crypto.encrypt_message(xml, args.get("nonce", ""), args.get("timestamp"))
    return HTTPResponse(xml, content_type="application/xml",
                        headers={"Server-Timing": server_timing(started, outcome.backend_s)})


def _reply_text(outcome: Outcome, hotline: str) -> str | None:
    if outcome.kind in ("answered", "handled"):
        content = as_text(outcome.replies)
        return fit_bytes(content) if content else None
    if outcome.kind == "unavailable":
        return texts.apology(hotline)
    return None  # late (pushed later), duplicate, staff: "success"
