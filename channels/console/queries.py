"""Read models for the console over the gateway's message log and the bot's handoff table.

The gateway's `MessageStore` owns the tables; this module only reads them (and sets the
status of handoff requests), with the filters, search and statistics the console needs.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, false, func, or_, select, update

from actions import handoff_store
from actions.render.catalog import render_text
from actions.rules.contract import say
from channels.console import clock
from channels.console.masking import redact_text
from channels.identity import conversation_id as conversation_key
from channels.store import (
    FAILED,
    PENDING,
    Conversation,
    Message,
    MessageStore,
    _conversation,
    _message,
    utcnow,
)

# The bot's fallback responses (bot/domain.yml utter_ask_rephrase / utter_default): an inbound
# message answered with one of these counts as "not understood".
# What the bot's structured payload calls a message it could not place (actions/conversation.py).
FALLBACK = "fallback"
FALLBACK_JSON = f'"type": "{FALLBACK}"'  # as the message log stores it (json.dumps)
CHANNEL_NAMES = {"sms": "短信", "wechat": "微信", "web": "网站挂件", "console": "控制台"}


@dataclass
class Filters:
    channel: str = ""
    handoff: bool = False
    unanswered: bool = False
    day: date | None = None
    q: str = ""
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        f = cls()
        channel = (args.get("channel") or "").strip()
        if channel and channel not in CHANNEL_NAMES:
            f.errors.append("渠道只能是短信、微信、网站挂件或控制台")
        else:
            f.channel = channel
        f.handoff = args.get("handoff") in ("1", "on", "true")
        f.unanswered = args.get("unanswered") in ("1", "on", "true")
        raw_day = (args.get("date") or "").strip()
        if raw_day:
            try:
                f.day = date.fromisoformat(raw_day)
            except ValueError:
                f.errors.append("日期格式应为 YYYY-MM-DD")
        f.q = (args.get("q") or "").strip()[:100]
        return f

    def query_string(self) -> str:
        from urllib.parse import urlencode

        params = {"channel": self.channel, "handoff": "1" if self.handoff else "",
                  "unanswered": "1" if self.unanswered else "",
                  "date": self.day.isoformat() if self.day else "", "q": self.q}
        return urlencode({k: v for k, v in params.items() if v})


@dataclass
class ConversationRow:
    conv: Conversation
    last_text: str
    last_at: datetime | None
    messages: int
    handoff_open: bool
    unanswered: bool

    @property
    def channel_name(self) -> str:
        return CHANNEL_NAMES.get(self.conv.channel, self.conv.channel)


def answer_of(reply: dict[str, Any]) -> dict[str, Any] | None:
    """The bot's structured answer in a stored reply (`data` with `type: answer`), if any."""
    data = reply.get("data")
    return data if isinstance(data, dict) and data.get("type") == "answer" else None


def is_fallback_reply(reply: dict[str, Any]) -> bool:
    data = reply.get("data")
    return isinstance(data, dict) and data.get("type") == FALLBACK


def is_fallback(msg: Message) -> bool:
    return any(is_fallback_reply(r) for r in msg.replies)


def topic_name(topic: str) -> str:
    """The topic's name for staff, from the text catalog (topic.<topic>)."""
    try:
        return render_text(say(f"topic.{topic}"))
    except KeyError:
        return topic


def is_unanswered(msg: Message, now: datetime | None = None) -> bool:
    """An inbound message the bot failed on: failed, stuck pending, or a fallback answer."""
    if msg.direction != "in":
        return False
    if msg.status == FAILED:
        return True
    if msg.status == PENDING and (now or utcnow()) - msg.created_at > timedelta(minutes=1):
        return True
    return is_fallback(msg)


# -- handoff requests (actions/handoff_store.py) ---------------------------------------------
def handoffs(status: str | None = "open") -> list[dict[str, Any]]:
    rows = handoff_store.list_handoffs(status=status)
    for r in rows:
        r["last_message"] = redact_text(r.get("last_message") or "")
    return rows


def open_handoff_keys() -> set[str]:
    return {r["sender_id"] for r in handoff_store.list_handoffs(status="open")}


def set_handoff_status(sender_id: str, status: str, only_from: tuple[str, ...]) -> int:
    """Set the status of the conversation's requests that are in `only_from`."""
    t = handoff_store.handoff_requests
    engine = handoff_store.engine_for(handoff_store.database_url())
    with engine.begin() as conn:
        return conn.execute(update(t).where(t.c.sender_id == sender_id, t.c.status.in_(only_from))
                            .values(status=status)).rowcount


def get_handoff(request_id: int) -> dict[str, Any] | None:
    t = handoff_store.handoff_requests
    engine = handoff_store.engine_for(handoff_store.database_url())
    with engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.id == request_id)).first()
    return dict(row._mapping) if row is not None else None


_HEX = re.compile(r"[0-9a-f]+")


def _key_parts(sender_id: str) -> tuple[str, str] | None:
    """(channel, hash prefix) of a well-formed conversation key, else None.

    Well-formed means exactly what `channels.identity.conversation_id` makes: a handoff
    request carries whatever conversation id Rasa was given, so a forged one (`sms-%`, a
    bare prefix of a real key) must match nothing rather than somebody's conversation.
    """
    channel, _, prefix = sender_id.partition("-")
    if not _HEX.fullmatch(prefix):
        return None
    if conversation_key(channel, prefix.ljust(64, "0")) != sender_id:
        return None
    return channel, prefix



def _key_matches(store: MessageStore, sender_id: str) -> Any:
    """SQL condition: the conversation whose key is exactly `sender_id` (hash equality on
    the part of `sender_hash` the key carries, not a LIKE pattern)."""
    parts = _key_parts(sender_id)
    if parts is None:
        return false()
    channel, prefix = parts
    c = store.conversations.c
    return and_(c.channel == channel, func.substr(c.sender_hash, 1, len(prefix)) == prefix)


def conversation_for_key(store: MessageStore, sender_id: str) -> Conversation | None:
    """The gateway conversation behind a Rasa conversation id (`<channel>-<hash prefix>`)."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(store.conversations)
                            .where(_key_matches(store, sender_id)).limit(2)).all()
    convs = [conv for conv in map(_conversation, rows) if conv is not None and conv.key == sender_id]
    return convs[0] if len(convs) == 1 else None


# -- conversations ---------------------------------------------------------------------------
def list_conversations(store: MessageStore, f: Filters, limit: int = 100) -> list[ConversationRow]:
    c, m = store.conversations.c, store.messages.c
    q = select(store.conversations).order_by(c.updated_at.desc(), c.id.desc())
    if f.channel:
        q = q.where(c.channel == f.channel)
    if f.day:
        start = clock.day_start_utc(f.day)
        q = q.where(exists().where(m.conversation_id == c.id, m.created_at >= start,
                                   m.created_at < start + timedelta(days=1)))
    if f.q:
        q = q.where(_search(store, f.q))
    keys = open_handoff_keys()
    if f.handoff:
        q = q.where(or_(false(), *(_key_matches(store, key) for key in keys)))
    if f.unanswered:
        marker = m.reply.contains(FALLBACK_JSON)
        stale = utcnow() - timedelta(minutes=1)
        q = q.where(exists().where(
            m.conversation_id == c.id, m.direction == "in",
            or_(m.status == FAILED, and_(m.status == PENDING, m.created_at < stale), marker)))
    with store.engine.connect() as conn:
        convs = [_conversation(r) for r in conn.execute(q.limit(limit)).all()]
    rows: list[ConversationRow] = []
    now = utcnow()
    for conv in convs:
        if conv is None:
            continue
        with store.engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(store.messages)
                                 .where(m.conversation_id == conv.id)).scalar_one()
            recent = [_message(r) for r in conn.execute(
                select(store.messages).where(m.conversation_id == conv.id)
                .order_by(m.id.desc()).limit(20)).all()]
        last = recent[0] if recent else None
        rows.append(ConversationRow(
            conv=conv,
            last_text=redact_text(last.text)[:80] if last else "",
            last_at=last.created_at if last else None,
            messages=count,
            handoff_open=conv.key in keys,
            unanswered=any(is_unanswered(x, now) for x in recent),
        ))
    return rows


# -- search ----------------------------------------------------------------------------------
# How many of the most recent messages containing a searched digit string are looked at.
SEARCH_SCAN = 5000
_SEPARATORS = re.compile(r"[\s\-()（）]")


def _search(store: MessageStore, q: str) -> Any:
    """SQL condition for the console's search box: what staff can see, and nothing more.

    Masking hides digits of phone, ID and card numbers in what the console shows, so a
    search must not find a conversation by them either (else typing digit after digit would
    reveal a number). A query with digits is therefore matched against the *masked* texts
    (the database narrows, `redact_text` decides); one without digits cannot touch a masked
    part and is matched in SQL. The masked sender is searchable as shown. Staff who know a
    resident's whole number or openid find the conversation by its keyed hash.
    """
    c, m = store.conversations.c, store.messages.c
    conds = [c.sender_masked.contains(q, autoescape=True),
             c.sender_hash.in_(sorted(_sender_hashes(store, q)))]
    if any(ch.isdigit() for ch in q):
        conds.append(c.id.in_(sorted(_conversations_showing(store, q))))
    else:
        conds.append(exists().where(m.conversation_id == c.id,
                                    m.text.contains(q, autoescape=True)))
    return or_(*conds)


def _conversations_showing(store: MessageStore, q: str) -> set[int]:
    m = store.messages.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(m.conversation_id, m.text)
                            .where(m.text.contains(q, autoescape=True))
                            .order_by(m.id.desc()).limit(SEARCH_SCAN)).all()
    return {conv_id for conv_id, text in rows if q in redact_text(text or "")}


def _sender_hashes(store: MessageStore, q: str) -> set[str]:
    """Keyed hashes of the resident ids `q` may spell in full, on every channel: as typed,
    without separators, and a mainland mobile number in E.164 (`13900001111`,
    `86 139 0000 1111` → `+8613900001111`)."""
    compact = _SEPARATORS.sub("", q)
    forms = {q, compact}
    digits = compact.removeprefix("+")
    if digits.isdigit():
        forms.add("+" + digits)
        if len(digits) == 11 and digits.startswith("1"):
            forms.add("+86" + digits)
    return {store.sender_hash(channel, form) for channel in CHANNEL_NAMES for form in forms if form}


@dataclass
class TranscriptEntry:
    id: int
    at: datetime
    author: str  # resident | bot | staff | system
    text: str
    status: str
    note: str = ""
    buttons: list[str] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    answer: dict[str, Any] | None = None
    fallback: bool = False


AUTHOR_NAMES = {"resident": "居民", "bot": "助手", "staff": "工作人员", "system": "系统"}
STATUS_NOTES = {"pending": "等待机器人回答", "failed": "处理失败", "handled": "已由关键词/人工处理"}


def transcript(store: MessageStore, conversation_id: int, after_id: int = 0) -> list[TranscriptEntry]:
    out: list[TranscriptEntry] = []
    for msg in store.list_messages(conversation_id, limit=500, after_id=after_id):
        if msg.direction == "in":
            note = STATUS_NOTES.get(msg.status, "")
            if msg.status == "handled" and msg.delivery == "staff":
                note = "人工接管中，未转给机器人"
            out.append(TranscriptEntry(msg.id, msg.created_at, "resident", redact_text(msg.text),
                                       msg.status, note))
            for reply in msg.replies:
                answer = answer_of(reply)
                out.append(TranscriptEntry(
                    msg.id, msg.updated_at, "bot", redact_text(reply.get("text") or ""),
                    msg.status, buttons=[b.get("title", "") for b in reply.get("buttons") or []],
                    links=list(reply.get("links") or []), answer=answer,
                    fallback=is_fallback_reply(reply)))
        else:
            note = ("发送失败：" + redact_text(msg.last_error or "渠道不可用")
                    if msg.status == "failed" else "")
            out.append(TranscriptEntry(msg.id, msg.created_at, msg.author, redact_text(msg.text),
                                       msg.status, note))
    return out


# -- dashboard -------------------------------------------------------------------------------
@dataclass
class Stats:
    days: list[date]
    conversations_per_day: list[int]
    messages_per_day: list[int]
    handoffs_per_day: list[int]
    top_topics: list[tuple[str, int]]
    inbound: int
    fallbacks: int
    unanswered: int
    handoffs_total: int
    handoffs_open: int
    by_channel: list[tuple[str, int]]

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.inbound if self.inbound else 0.0


def stats(store: MessageStore, days: int = 14, today: date | None = None) -> Stats:
    today = today or clock.today()
    first = today - timedelta(days=days - 1)
    day_list = [first + timedelta(days=i) for i in range(days)]
    start = clock.day_start_utc(first)
    c, m = store.conversations.c, store.messages.c
    with store.engine.connect() as conn:
        conv_dates = conn.execute(select(c.created_at).where(c.created_at >= start)).scalars().all()
        msg_rows = conn.execute(select(m.created_at, m.direction, m.status, m.reply, m.channel)
                                .where(m.created_at >= start)).all()
    conv_count = Counter(clock.beijing_date(d) for d in conv_dates)
    msg_count: Counter[date] = Counter()
    topics: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    inbound = fallbacks = unanswered = 0
    for created, direction, status, reply, channel in msg_rows:
        msg_count[clock.beijing_date(created)] += 1
        if direction != "in":
            continue
        inbound += 1
        channels[channel] += 1
        replies = json.loads(reply) if reply else []
        fallback = any(is_fallback_reply(r) for r in replies)
        fallbacks += fallback
        if status == FAILED or fallback:
            unanswered += 1
        for r in replies:
            answer = answer_of(r)
            if answer and answer.get("topic"):
                topics[str(answer["topic"])] += 1
    all_handoffs = handoff_store.list_handoffs(status=None)
    hand_count: Counter[date] = Counter()
    for h in all_handoffs:
        at = h["created_at"]
        if isinstance(at, datetime) and at.replace(tzinfo=None) >= start:
            hand_count[clock.beijing_date(at)] += 1
    return Stats(
        days=day_list,
        conversations_per_day=[conv_count[d] for d in day_list],
        messages_per_day=[msg_count[d] for d in day_list],
        handoffs_per_day=[hand_count[d] for d in day_list],
        top_topics=[(topic_name(t), n) for t, n in topics.most_common(8)],
        inbound=inbound,
        fallbacks=fallbacks,
        unanswered=unanswered,
        handoffs_total=sum(hand_count.values()),
        handoffs_open=sum(1 for h in all_handoffs if h["status"] == "open"),
        by_channel=[(CHANNEL_NAMES.get(ch, ch), n) for ch, n in channels.most_common()],
    )
