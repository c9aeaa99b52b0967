"""Conversations: list with filters and live refresh, transcript, take over, staff messages,
hand back, and the 转人工 handoff queue."""

from __future__ import annotations

import asyncio

from sanic import Request
from sanic.response import HTTPResponse, redirect
from sanic.response import json as json_response

from channels.console import clock, queries
from channels.console.web import audit, bp, refuse, render
from channels.service import Gateway
from channels.store import MessageStore

MAX_STAFF_MESSAGE = 1000
# What a redirect back to a conversation may say: codes in the URL, texts here. Nothing
# else reaches the page through the URL (a provider's error text quotes the resident's
# number: it stays in the message log, masked, and shows in the transcript, masked again).
NOTICES = {"taken": "已接管：机器人已暂停，居民消息将由您回复", "handed_back": "已交还机器人",
           "sent": "消息已发送"}
ERRORS = {"empty": "消息不能为空", "too_long": f"消息不能超过 {MAX_STAFF_MESSAGE} 个字符",
          "not_taken": "请先接管会话，再以工作人员身份发送消息",
          "send_failed": "发送失败，原因见会话记录中该条消息的说明"}


def _store(request: Request) -> MessageStore:
    return request.app.ctx.store


def _gateway(request: Request) -> Gateway:
    return request.app.ctx.gateway


@bp.get("/")
async def conversations(request: Request) -> HTTPResponse:
    f = queries.Filters.from_args(request.args)
    rows = [] if f.errors else await asyncio.to_thread(queries.list_conversations, _store(request), f)
    return render(request, "conversations.html", rows=rows, f=f, channels=queries.CHANNEL_NAMES)


@bp.get("/conversations/rows")
async def conversation_rows(request: Request) -> HTTPResponse:
    """The table body alone, for the list's live refresh."""
    f = queries.Filters.from_args(request.args)
    rows = [] if f.errors else await asyncio.to_thread(queries.list_conversations, _store(request), f)
    return render(request, "_conversation_rows.html", rows=rows)


@bp.get("/api/conversations")
async def api_conversations(request: Request) -> HTTPResponse:
    f = queries.Filters.from_args(request.args)
    if f.errors:
        return refuse(request, 400, "；".join(f.errors))
    rows = await asyncio.to_thread(queries.list_conversations, _store(request), f)
    data = [{"id": r.conv.id, "channel": r.conv.channel, "sender": r.conv.sender_masked,
             "taken_over": r.conv.taken_over, "messages": r.messages,
             "last_text": r.last_text, "last_at": clock.iso(r.last_at),
             "handoff_open": r.handoff_open, "unanswered": r.unanswered} for r in rows]
    return json_response({"conversations": data}, ensure_ascii=False)


async def _conversation_or_404(request: Request, conversation_id: int):  # noqa: ANN202
    return await asyncio.to_thread(_store(request).get_conversation, conversation_id)


@bp.get("/conversations/<conversation_id:int>")
async def conversation(request: Request, conversation_id: int) -> HTTPResponse:
    conv = await _conversation_or_404(request, conversation_id)
    if conv is None:
        return refuse(request, 404, "没有该会话")
    entries = await asyncio.to_thread(queries.transcript, _store(request), conv.id)
    keys = await asyncio.to_thread(queries.open_handoff_keys)
    return render(request, "conversation.html", conv=conv, entries=entries,
                  handoff_open=conv.key in keys,
                  notice=NOTICES.get(request.args.get("notice", ""), ""),
                  error=ERRORS.get(request.args.get("error", ""), ""),
                  author_names=queries.AUTHOR_NAMES,
                  channel_name=queries.CHANNEL_NAMES.get(conv.channel, conv.channel))


@bp.get("/conversations/<conversation_id:int>/transcript")
async def transcript_fragment(request: Request, conversation_id: int) -> HTTPResponse:
    conv = await _conversation_or_404(request, conversation_id)
    if conv is None:
        return refuse(request, 404, "没有该会话")
    entries = await asyncio.to_thread(queries.transcript, _store(request), conv.id)
    return render(request, "_transcript.html", entries=entries, author_names=queries.AUTHOR_NAMES)


@bp.get("/api/conversations/<conversation_id:int>/messages")
async def api_messages(request: Request, conversation_id: int) -> HTTPResponse:
    conv = await _conversation_or_404(request, conversation_id)
    if conv is None:
        return refuse(request, 404, "没有该会话")
    entries = await asyncio.to_thread(queries.transcript, _store(request), conv.id)
    return json_response({"conversation": {"id": conv.id, "channel": conv.channel,
                                           "sender": conv.sender_masked,
                                           "taken_over": conv.taken_over},
                          "messages": [{"id": e.id, "at": clock.iso(e.at), "author": e.author,
                                        "text": e.text, "status": e.status,
                                        "answer": e.answer} for e in entries]},
                         ensure_ascii=False, default=str)


def _back(conversation_id: int, notice: str = "", error: str = "") -> HTTPResponse:
    """Back to the conversation page with a notice or error code (NOTICES / ERRORS)."""
    assert notice in NOTICES or error in ERRORS
    kind, code = ("notice", notice) if notice else ("error", error)
    return redirect(f"/console/conversations/{conversation_id}?{kind}={code}")


@bp.post("/conversations/<conversation_id:int>/take-over")
async def take_over(request: Request, conversation_id: int) -> HTTPResponse:
    conv = await _conversation_or_404(request, conversation_id)
    if conv is None:
        return refuse(request, 404, "没有该会话")
    await _gateway(request).take_over(conv.id, True)
    await asyncio.to_thread(queries.set_handoff_status, conv.key, "taken", ("open",))
    await asyncio.to_thread(audit, request, "take_over", f"conversation:{conv.id}")
    return _back(conv.id, notice="taken")


@bp.post("/conversations/<conversation_id:int>/hand-back")
async def hand_back(request: Request, conversation_id: int) -> HTTPResponse:
    conv = await _conversation_or_404(request, conversation_id)
    if conv is None:
        return refuse(request, 404, "没有该会话")
    await _gateway(request).take_over(conv.id, False)
    await asyncio.to_thread(queries.set_handoff_status, conv.key, "closed", ("open", "taken"))
    await asyncio.to_thread(audit, request, "hand_back", f"conversation:{conv.id}")
    return _back(conv.id, notice="handed_back")


@bp.post("/conversations/<conversation_id:int>/messages")
async def send_message(request: Request, conversation_id: int) -> HTTPResponse:
    conv = await _conversation_or_404(request, conversation_id)
    if conv is None:
        return refuse(request, 404, "没有该会话")
    text = ((request.form.get("text") if request.form else "") or "").strip()
    if not text:
        return _back(conv.id, error="empty")
    if len(text) > MAX_STAFF_MESSAGE:
        return _back(conv.id, error="too_long")
    if not conv.taken_over:
        return _back(conv.id, error="not_taken")
    msg = await _gateway(request).send_to_conversation(conv.id, text, "staff")
    detail = f"message:{msg.id} status:{msg.status}"
    await asyncio.to_thread(audit, request, "staff_message", f"conversation:{conv.id}", detail)
    if msg.status == "failed":
        return _back(conv.id, error="send_failed")
    return _back(conv.id, notice="sent")


# -- handoff queue ----------------------------------------------------------------------------
@bp.get("/handoffs")
async def handoff_queue(request: Request) -> HTTPResponse:
    store = _store(request)

    def load() -> list[dict]:
        rows = queries.handoffs(status=None)
        rows = [r for r in rows if r["status"] in ("open", "taken")]
        for r in rows:
            conv = queries.conversation_for_key(store, r["sender_id"])
            r["conversation_id"] = conv.id if conv else None
            r["sender"] = conv.sender_masked if conv else "（未知）"
        return rows

    rows = await asyncio.to_thread(load)
    return render(request, "handoffs.html", rows=rows, channels=queries.CHANNEL_NAMES)


@bp.post("/handoffs/<request_id:int>/take")
async def take_handoff(request: Request, request_id: int) -> HTTPResponse:
    req = await asyncio.to_thread(queries.get_handoff, request_id)
    if req is None:
        return refuse(request, 404, "没有该转人工请求")
    conv = await asyncio.to_thread(queries.conversation_for_key, _store(request), req["sender_id"])
    if conv is None:
        return refuse(request, 404, "找不到该请求对应的会话")
    await _gateway(request).take_over(conv.id, True)
    await asyncio.to_thread(queries.set_handoff_status, conv.key, "taken", ("open",))
    await asyncio.to_thread(audit, request, "take_over", f"conversation:{conv.id}",
                            f"handoff:{request_id}")
    return _back(conv.id, notice="taken")


@bp.post("/handoffs/<request_id:int>/close")
async def close_handoff(request: Request, request_id: int) -> HTTPResponse:
    req = await asyncio.to_thread(queries.get_handoff, request_id)
    if req is None:
        return refuse(request, 404, "没有该转人工请求")
    await asyncio.to_thread(queries.set_handoff_status, req["sender_id"], "closed", ("open", "taken"))
    await asyncio.to_thread(audit, request, "close_handoff", f"handoff:{request_id}")
    return redirect("/console/handoffs")


