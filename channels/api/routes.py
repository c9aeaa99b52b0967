"""`POST /api/chat` and `GET /api/chat/updates` (JSON).

Request: `{"sender": "<id>", "message": "<text>", "channel": "web"|"console",
"message_id"?: "<client id for idempotent retries>", "conversation_token"?: "<token>"}`.
Response: `{"status": "answered"|"pending"|"duplicate"|"staff", "message_id": <int>,
"messages": [{"text", "buttons": [{"title", "payload"}], "links": [{"title", "url"}]}],
"conversation_token"?: "<token>"}`.
Errors: 4xx with `{"error": {"code", "message"}}`; the message is Chinese, fit to show.
Too many requests from one resident or one client IP: 429 `rate_limited` with `Retry-After`;
with `API_KEYS` set, `/api/*` answers 401 without a valid `Authorization: Bearer <key>` (or
`X-API-Key`). The widget's `/widget/chat` and `/widget/updates` call `handle_chat` /
`handle_updates` directly: rate-limited, no key (see `channels/ratelimit.py`).
A `pending` answer arrives later: poll `GET /api/chat/updates?sender=&channel=&after=<id>`
with the conversation's token.

Conversation token: the first reply of a conversation carries `conversation_token`, a secret
the caller keeps; it goes with every later message and every `updates` call, as header
`X-Conversation-Token` (or body field / query parameter `conversation_token`). Without it
`updates` answers 401 `conversation_token_required`, with a wrong one 403
`conversation_token_invalid`, and a new message to that conversation is refused with 403
`conversation_token_invalid` (nothing stored): a sender id alone neither reads nor continues
a conversation. Except for callers with a valid API key (server-to-server, `API_KEYS`), who
may continue their residents' conversations by sender id; their `updates` need the token too.
A conversation from before tokens gets one with its next reply. Lost the
first reply (and so the token)? Start over with a new sender id.

Channel `console` only for callers with an API key; the widget and keyless callers are `web`.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from channels import texts
from channels.api import jsonbody
from channels.identity import digests_match, new_conversation_token, token_digest
from channels.ratelimit import ApiGuard, Decision, client_ip
from channels.replies import text_reply
from channels.service import Gateway, server_timing
from channels.store import TokenCheck, TokenRefused

bp = Blueprint("api", url_prefix="/api")
API_CHANNELS = ("web", "console")
PUBLIC_CHANNELS = ("web",)  # the widget's and keyless callers' only channel
# fullmatch: `$` would also match before a final "\n" ("abc\n" was a second conversation)
_SENDER_RE = re.compile(r"[A-Za-z0-9_.:@\-]{1,128}")
_AFTER_RE = re.compile(r"[0-9]{1,18}")  # ASCII digits only; below 2**63 for the database
TOKEN_HEADER = "x-conversation-token"
EXTERNAL_ID_MAX = 128  # messages.external_id


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


def channels_for(keyed: bool) -> tuple[str, ...]:
    """`console` conversations only for callers with an API key (never the widget)."""
    return API_CHANNELS if keyed else PUBLIC_CHANNELS


def _sender_ok(sender: object) -> bool:
    return isinstance(sender, str) and _SENDER_RE.fullmatch(sender) is not None


def _invalid_sender() -> HTTPResponse:
    return error(400, "invalid_sender", "sender 必须是 1-128 位字母、数字或 _.:@- 组成的字符串")


def _invalid_channel(allowed: tuple[str, ...]) -> HTTPResponse:
    return error(400, "invalid_channel", f"channel 只能是 {' 或 '.join(allowed)}")


def storable_text(text: str) -> str:
    """A lone surrogate (JSON `"\\ud800"`) cannot be stored as UTF-8, NUL not in PostgreSQL
    text: both become U+FFFD, so the resident's message is kept instead of failing."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text.replace("\x00", "\ufffd")


def _client_id_ok(value: object) -> bool:
    if not isinstance(value, str) or not 0 < len(value) <= 64 or not value.isprintable():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _validate(
    payload: Any, max_chars: int, allowed: tuple[str, ...]
) -> tuple[dict[str, Any] | None, HTTPResponse | None]:
    if not isinstance(payload, dict):
        return None, error(400, "invalid_json", "请求体必须是 JSON 对象")
    sender = payload.get("sender")
    message = payload.get("message")
    channel = payload.get("channel", "web")
    client_id = payload.get("message_id")
    token = payload.get("conversation_token")
    if not _sender_ok(sender):
        return None, _invalid_sender()
    if not isinstance(message, str) or not message.strip():
        return None, error(400, "empty_message", "message 不能为空")
    if len(message) > max_chars:
        return None, error(413, "message_too_long", f"message 不能超过 {max_chars} 个字符")
    if channel not in allowed:
        return None, _invalid_channel(allowed)
    if client_id is not None and not _client_id_ok(client_id):
        return None, error(400, "invalid_message_id", "message_id 必须是不超过 64 位的可见字符")
    if token is not None and not isinstance(token, str):
        return None, error(400, "invalid_token", "conversation_token 必须是字符串")
    return {
        "sender": sender,
        "message": storable_text(message).strip(),
        "channel": channel,
        "message_id": client_id or "",
        "token": token or None,
    }, None


def _external_id(sender: str, client_id: str) -> str | None:
    """The dedupe key of an API message: `<sender>:<message_id>`, hashed when longer than
    the column (a 128-character sender and a 64-character id)."""
    if not client_id:
        return None
    key = f"{sender}:{client_id}"
    if len(key) <= EXTERNAL_ID_MAX:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _token_check(presented: str | None, keyed: bool) -> tuple[TokenCheck, str]:
    """The rule for one message and the fresh token it may issue (see `MessageStore`)."""
    fresh = new_conversation_token()
    digest = token_digest(presented) if presented else None
    return TokenCheck(presented_hash=digest, new_hash=token_digest(fresh), trusted=keyed), fresh


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
        payload = jsonbody.loads(request.body)
    except jsonbody.InvalidJson:
        return error(400, "invalid_json", "请求体不是合法的 JSON")
    data, problem = _validate(payload, settings.max_message_chars, channels_for(keyed))
    if problem is not None or data is None:
        return problem or error(400, "invalid_request", "请求无效")
    limited = _sender_limited(request, "chat", data["channel"], data["sender"])
    if limited is not None:
        return limited
    gateway: Gateway = request.app.ctx.gateway
    check, fresh_token = _token_check(request.headers.get(TOKEN_HEADER) or data["token"], keyed)
    try:
        outcome = await gateway.receive(
            data["channel"],
            data["sender"],
            data["message"],
            _external_id(data["sender"], data["message_id"]),
            budget_s=settings.sync_reply_budget_s,
            token=check,
        )
    except TokenRefused:
        return error(403, "conversation_token_invalid", texts.CONVERSATION_TOKEN_REFUSED)
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
    body: dict[str, Any] = {
        "status": status, "message_id": outcome.message.id, "messages": messages
    }
    if outcome.token_issued:
        body["conversation_token"] = fresh_token
    return json_response(
        body,
        ensure_ascii=False,
        headers={"Server-Timing": server_timing(started, outcome.backend_s),
                 "Cache-Control": "no-store"},
    )


@bp.get("/chat/updates")
async def updates(request: Request) -> HTTPResponse:
    refused = _key_refused(request)
    if refused is not None:
        return refused
    return await handle_updates(request, keyed=request.app.ctx.api_guard.keys_required)


async def handle_updates(request: Request, *, keyed: bool = False) -> HTTPResponse:
    """Replies that arrived after `after` (late bot answers and staff messages), for the
    holder of the conversation's token only. Checked in this order: per-IP limit, the
    parameters (400), the token's presence (401), the token (403, same answer whether or not
    the conversation exists), the per-resident limit; only then is anything read."""
    limited = _ip_limited(request, "poll", keyed)
    if limited is not None:
        return limited
    sender = request.args.get("sender", "")
    channel = request.args.get("channel", "web")
    allowed = channels_for(keyed)
    if not _sender_ok(sender):
        return _invalid_sender()
    if channel not in allowed:
        return _invalid_channel(allowed)
    after_raw = request.args.get("after", "0")
    if not _AFTER_RE.fullmatch(after_raw):
        return error(400, "invalid_after", "after 必须是不超过 18 位的非负整数")
    after = int(after_raw)
    presented = request.headers.get(TOKEN_HEADER) or request.args.get("conversation_token")
    if not presented:
        return error(401, "conversation_token_required", texts.CONVERSATION_TOKEN_REQUIRED)
    store = request.app.ctx.store
    conv = await asyncio.to_thread(store.find_conversation, channel, sender)
    if conv is None or not digests_match(conv.token_hash, token_digest(presented)):
        return error(403, "conversation_token_invalid", texts.CONVERSATION_TOKEN_INVALID)
    limited = _sender_limited(request, "poll", channel, sender)
    if limited is not None:
        return limited
    rows = await asyncio.to_thread(store.list_messages, conv.id, 200, after)
    out: list[dict[str, Any]] = []
    for m in rows:
        if m.direction == "out":
            out.append({"id": m.id, "author": m.author, **text_reply(m.text)})
        elif m.status == "delivered" and m.delivery == "stored":
            out += [{"id": m.id, "author": "bot", **r} for r in m.replies]
    last = rows[-1].id if rows else after
    return json_response({"messages": out, "last_id": last}, ensure_ascii=False,
                         headers={"Cache-Control": "no-store"})
