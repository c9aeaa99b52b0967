"""`POST /sms/<provider>`: verify, store, answer once, honour STOP/START/HELP, reply in parts."""

from __future__ import annotations

import asyncio
import logging
import time

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, text

from channels import texts
from channels.identity import mask_sender
from channels.replies import Reply, as_text, text_reply
from channels.service import DeliveryError, Gateway, Intercept, server_timing
from channels.sms.keywords import classify
from channels.sms.provider import BadRequest, SignatureInvalid, SmsProvider
from channels.sms.splitter import split_sms
from channels.store import Conversation, MessageStore

log = logging.getLogger("channels.sms")
bp = Blueprint("sms")
CHANNEL = "sms"


class SmsOutbound:
    """Pushes late answers and staff messages by SMS through one provider."""

    def __init__(self, provider: SmsProvider) -> None:
        self.provider = provider

    async def push(self, conversation: Conversation, replies: list[Reply]) -> None:
        if conversation.opted_out:
            raise DeliveryError("opted_out", retryable=False)
        parts = split_sms(as_text(replies))
        if parts:
            await self.provider.send(conversation.reply_address, parts)


def keyword_hook(store: MessageStore, hotline: str) -> Intercept:
    async def intercept(conv: Conversation, body: str) -> list[Reply] | None:
        keyword = classify(body)
        if keyword == "stop":
            await asyncio.to_thread(store.set_opted_out, conv.id, True)
            log.info("sms %s opted out", conv.sender_masked)
            return [text_reply(texts.sms_opted_out(hotline))]
        if keyword == "start":
            await asyncio.to_thread(store.set_opted_out, conv.id, False)
            log.info("sms %s opted in", conv.sender_masked)
            return [text_reply(texts.sms_opted_in())]
        if conv.opted_out:
            return []  # recorded, nothing sent
        if keyword == "help" or not body.strip():
            return [text_reply(texts.sms_help(hotline))]
        return None

    return intercept


def public_url(request: Request) -> str:
    """The URL the provider signed: PUBLIC_BASE_URL + path + query (correct behind proxies)."""
    base = request.app.ctx.settings.public_base_url
    query = f"?{request.query_string}" if request.query_string else ""
    return f"{base}{request.path}{query}"


@bp.post("/sms/<provider_name:str>")
async def sms_webhook(request: Request, provider_name: str) -> HTTPResponse:
    started = time.perf_counter()
    ctx = request.app.ctx
    provider: SmsProvider | None = ctx.sms_providers.get(provider_name)
    if provider is None:
        return text("unknown SMS provider", status=404)
    if len(request.body) > ctx.settings.max_body_bytes:
        return text("body too large", status=413)
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        inbound = provider.parse_inbound(public_url(request), headers, request.body)
    except SignatureInvalid as exc:
        log.warning("sms/%s rejected: %s", provider_name, exc)
        return text("forbidden", status=403)
    except BadRequest as exc:
        return text(str(exc), status=400)
    gateway: Gateway = ctx.gateway
    settings = ctx.settings
    body = inbound.text[: settings.max_message_chars]
    outcome = await gateway.receive(
        CHANNEL,
        inbound.sender,
        body,
        f"{provider_name}:{inbound.message_id}",
        budget_s=settings.sync_reply_budget_s,
        intercept=keyword_hook(gateway.store, settings.hotline),
    )
    # DEBUG, not INFO: the message log has every message; a line each cost ~3 % of the CPU.
    if log.isEnabledFor(logging.DEBUG):
        log.debug("sms from %s message %s: %s", mask_sender(inbound.sender), outcome.message.id,
                  outcome.kind)
    if outcome.kind in ("answered", "handled"):
        parts = split_sms(as_text(outcome.replies))
    elif outcome.kind in ("late", "unavailable"):
        parts = split_sms(texts.apology(settings.hotline))
    else:  # duplicate, staff
        parts = []
    reply = provider.reply(parts)
    return HTTPResponse(reply.body, content_type=reply.content_type,
                        headers={"Server-Timing": server_timing(started, outcome.backend_s)})
