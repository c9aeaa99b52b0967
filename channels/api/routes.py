"""`POST /api/chat` and `GET /api/chat/updates` (JSON).

Request: `{"sender": "<id>", "message": "<text>", "channel": "web"|"console",
"message_id"?: "<client id for idempotent retries>"}`.
Response: `{"status": "answered"|"pending"|"duplicate"|"staff", "message_id": <int>,
"messages": [{"text", "buttons": [{"title", "payload"}], "links": [{"title", "url"}]}]}`.
Errors: 4xx with `{"error": {"code", "message"}}`; the message is Chinese, fit to show.
Too many requests from one resident or one client IP: 429 `rate_limited` with `Retry-After`;
with `API_KEYS` set, `/api/*` answers 401 without a valid `Authorization: Bearer <key>` (or
`X-API-Key`). The widget's `/widget/chat` and `/widget/updates` call `handle_chat` /
`handle_updates` directly: rate-limited, no key (see `channels/ratelimit.py`).
A `pending` answer arrives later: poll `GET /api/chat/updates?sender=&channel=&after=<id>`.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from channels import texts
from channels.ratelimit import ApiGuard, Decision, client_ip
from channels.replies import text_reply
from channels.service import Gateway, server_timing

bp = Blueprint("api", url_prefix="/api")
API_CHANNELS = ("web", "console")
_SENDER_RE = re.compile(r"^[A-Za-z0-9_.:@\-]{1,128}$")


def error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> HTTPResponse:
    return json_response(
        {"error": {"code": code, "message": message}},
        status=status,
        headers=headers,
        ensure_ascii=False,
    )


def _limited(request: Request, decision: Decision) -> HTTPResponse:
    seconds = decision.retry_after_header
    hotline = request.app.ctx.settings.hotline
    return error(429, "rate_limited", texts.rate_limited(seconds, hotline),
                 headers={"Retry-After": seconds})


def _key_refused(request: Request) -> HTTPResponse | None:
    """`/api/*` only: with `API_KEYS` set, a valid key is required (server-to-server)."""
    guard: ApiGuard = request.app.ctx.api_guard
    if not guard.keys_required:
        return None
    auth = request.headers.get("authorization", "")
    presented = auth[7:] if auth[:7].lower() == "bearer " else request.headers.get("x-api-key")
    if guard.key_ok(presented):
        return None
    return error(401, "unauthorized", texts.API_KEY_REQUIRED,
                 headers={"WWW-Authenticate": 'Bearer realm="api"'})


def _ip_limited(request: Request, kind: str, keyed: bool) -> HTTPResponse | None:
    if keyed:
        return None  # a keyed server relays many residents from one address
    guard: ApiGuard = request.app.ctx.api_guard
    ip = client_ip(request.ip, request.headers.get("x-forwarded-for"), guard.trusted)
    decision = guard.check_ip(kind, ip)
    return None if decision.allowed else _limited(request, decision)


def _sender_limited(request: Request, kind: str, channel: str, sender: str) -> HTTPResponse | None:
    decision = request.app.ctx.api_guard.check_sender(kind, channel, sender)
    return None if decision.allowed else _limited(request, decision)


def _validate(payload: Any, max_chars: int) -> tuple[dict[str, str] | None, HTTPResponse | None]:
    if not isinstance(payload, dict):
        return None, error(400, "invalid_json", "请求体必须是 JSON 对象")
    sender = payload.get("sender")
    message = payload.get("message")
    channel = payload.get("channel", "web")
    client_id = payload.get("message_id")
    if not isinstance(sender, str) or not _SENDER_RE.match(sender):
        return None, error(
            400, "invalid_sender", "sender 必须是 1-128 位字母、数字或 _.:@- 组成的字符串"
        )
    if not isinstance(message, str) or not message.strip():
        return None, error(400, "empty_message", "message 不能为空")
    if len(message) > max_chars:
        return None, error(413, "message_too_long", f"message 不能超过 {max_chars} 个字符")
    if channel not in API_CHANNELS:
        return None, error(400, "invalid_channel", "channel 只能是 web 或 console")
    if client_id is not None and (not isinstance(client_id, str) or not 0 < len(client_id) <= 64):
        return None, error(400, "invalid_message_id", "message_id 必须是不超过 64 位的字符串")
    return {
        "sender": sender,
        "message": message.strip(),
        "channel": channel,
        "message_id": client_id or "",
    }, None


@bp.post("/chat")
async def chat(request: Request) -> HTTPResponse:
    refused = _key_refused(request)
    if refused is not None:
        return refused
    return await handle_chat(request, keyed=request.app.ctx.api_guard.keys_required)


async def handle_chat(request: Request, *, keyed: bool = False) -> HTTPResponse:
    """`POST /api/chat` and `/widget/chat` once the caller is admitted (`keyed`: API key)."""
    started = time.perf_counter()
    settings = request.app.ctx.settings
    limited = _ip_limited(request, "chat", keyed)
    if limited is not None:
        return limited
    if len(request.body) > settings.max_body_bytes:
        return error(413, "body_too_large", "请求体过大")
    try:
        payload = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return error(400, "invalid_json", "请求体不是合法的 JSON")
    data, problem = _validate(payload, settings.max_message_chars)
    if problem is not None or data is None:
        return problem or error(400, "invalid_request", "请求无效")
    limited = _sender_limited(request, "chat", data["channel"], data["sender"])
    if limited is not None:
        return limited
    gateway: Gateway = request.app.ctx.gateway
    external_id = f"{data['sender']}:{data['message_id']}" if data["message_id"] else None
    outcome = await gateway.receive(
        data["channel"],
        data["sender"],
        data["message"],
        external_id,
        budget_s=settings.sync_reply_budget_s,
    )
    status = {
        "answered": "answered",
        "handled": "answered",
        "late": "pending",
        "unavailable": "pending",
    }.get(outcome.kind, outcome.kind)
    if outcome.kind in ("answered", "handled"):
        messages = outcome.replies
    elif outcome.kind == "duplicate":
        messages = outcome.message.replies
    elif outcome.kind == "staff":
        messages = [text_reply(texts.STAFF_HOLD)]
    else:
        messages = [text_reply(texts.apology(settings.hotline))]
    return json_response(
        {"status": status, "message_id": outcome.message.id, "messages": messages},
        ensure_ascii=False,
        headers={"Server-Timing": server_timing(started, outcome.backend_s)},
    )


@bp.get("/chat/updates")
async def updates(request: Request) -> HTTPResponse:
    refused = _key_refused(request)
    if refused is not None:
        return refused
    return await handle_updates(request, keyed=request.app.ctx.api_guard.keys_required)


async def handle_updates(request: Request, *, keyed: bool = False) -> HTTPResponse:
    """Replies that arrived after `after` (late bot answers and staff messages)."""
    limited = _ip_limited(request, "poll", keyed)
    if limited is not None:
        return limited
    sender = request.args.get("sender", "")
    channel = request.args.get("channel", "web")
    if not _SENDER_RE.match(sender) or channel not in API_CHANNELS:
        return error(400, "invalid_request", "需要合法的 sender 和 channel 参数")
    limited = _sender_limited(request, "poll", channel, sender)
    if limited is not None:
        return limited
    try:
        after = int(request.args.get("after", "0"))
    except ValueError:
        return error(400, "invalid_after", "after 必须是整数")
    store = request.app.ctx.store
    conv = await asyncio.to_thread(store.find_conversation, channel, sender)
    if conv is None:
        return json_response({"messages": [], "last_id": after})
    rows = await asyncio.to_thread(store.list_messages, conv.id, 200, after)
    out: list[dict[str, Any]] = []
    for m in rows:
        if m.direction == "out":
            out.append({"id": m.id, "author": m.author, **text_reply(m.text)})
        elif m.status == "delivered" and m.delivery == "stored":
            out += [{"id": m.id, "author": "bot", **r} for r in m.replies]
    last = rows[-1].id if rows else after
    return json_response({"messages": out, "last_id": last}, ensure_ascii=False)
