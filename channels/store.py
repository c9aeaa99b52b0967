"""The message log: conversations, every inbound message, staff/outbound messages.

One SQLAlchemy Core schema that works on SQLite (default, `sqlite:///var/yibao.db`) and on
PostgreSQL (`DATABASE_URL=postgresql+psycopg://...`). Table names carry a prefix
(`DATABASE_TABLE_PREFIX`, default `gw_`) so several deployments or test runs can share a
database. All methods are synchronous and short; the async gateway calls them through
`asyncio.to_thread`.

Lifecycle of an inbound message (`messages.direction == "in"`):

    pending ──bot answered──▶ answered ──reply reached resident──▶ delivered
       │  (back end down: stays pending, retried by the gateway's worker, also after restart)
       └──keyword / opted out / staff took over──▶ handled        (gave up) ▶ failed

A message is *claimed* (`claimed_until`) by whoever works on it, so the background worker
and a request handler (or several gateway processes) never process it twice; a crashed
worker's claim simply expires. Duplicates are refused by the unique
`(channel, external_id)` constraint (Twilio MessageSid, WeChat MsgId, ...).

Resident identifiers: `conversations.sender_hash` (keyed HMAC, see `channels.identity`) is
the lookup key, `sender_masked` the display form, and `reply_address` the raw phone number
or openid, kept only because replies must be sent to it; never show or log it.
`conversations.token_hash` is the SHA-256 of a web/API conversation's `conversation_token`
(`TokenCheck`): whoever continues or reads such a conversation must present the token.

Schema changes: `create_all` creates missing tables and adds the columns later versions
added to existing ones (`token_hash`), so a database of an older version keeps working.

API for the staff console (issue 5): `list_conversations`, `get_conversation`,
`list_messages`, `set_taken_over`; to write to a resident use
`channels.service.Gateway.send_to_resident`, which also records the message here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    create_engine,
    event,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from actions.handoff_store import engine_url
from channels.hotpath import HotPath, Rollback
from channels.identity import conversation_id as make_conversation_key
from channels.identity import digests_match, hash_sender, mask_sender

PENDING = "pending"
ANSWERED = "answered"
DELIVERED = "delivered"
HANDLED = "handled"
FAILED = "failed"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Conversation:
    id: int
    channel: str
    sender_hash: str
    sender_masked: str
    reply_address: str
    taken_over: bool
    opted_out: bool
    last_inbound_at: datetime | None
    pushes_since_inbound: int
    created_at: datetime
    updated_at: datetime
    token_hash: str | None = field(default=None, repr=False)  # never in public()

    @property
    def key(self) -> str:
        """Conversation id used towards Rasa (`sms-<hash prefix>`)."""
        return make_conversation_key(self.channel, self.sender_hash)

    def public(self) -> dict[str, Any]:
        """JSON-safe view without the raw address."""
        return {
            "id": self.id,
            "channel": self.channel,
            "sender": self.sender_masked,
            "sender_hash": self.sender_hash,
            "taken_over": self.taken_over,
            "opted_out": self.opted_out,
            "last_inbound_at": _iso(self.last_inbound_at),
            "updated_at": _iso(self.updated_at),
        }


@dataclass(frozen=True)
class Message:
    id: int
    conversation_id: int
    channel: str
    direction: str  # "in" | "out"
    author: str  # "resident" | "bot" | "staff" | "system"
    external_id: str | None
    text: str
    status: str
    reply: str | None  # JSON list of reply messages ({"text", "buttons", "links"})
    delivery: str | None  # inline | push | stored | none
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def replies(self) -> list[dict[str, Any]]:
        return json.loads(self.reply) if self.reply else []

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "channel": self.channel,
            "direction": self.direction,
            "author": self.author,
            "text": self.text,
            "status": self.status,
            "replies": self.replies,
            "delivery": self.delivery,
            "created_at": _iso(self.created_at),
        }


@dataclass(frozen=True)
class Inbound:
    message: Message
    conversation: Conversation
    duplicate: bool
    token_issued: bool = False  # the conversation got `TokenCheck.new_hash` with this message


@dataclass(frozen=True)
class TokenCheck:
    """The conversation-token rule of one inbound web/API message (see `record_inbound`)."""

    presented_hash: str | None  # digest of the token the caller sent, None if none
    new_hash: str  # digest of a fresh token, stored if the conversation has none yet
    # An API-key caller (a bureau portal's back end relaying its own residents, authenticated)
    # may continue a conversation by sender id; reading `updates` still needs the token.
    trusted: bool = False


class TokenRefused(Exception):  # noqa: N818 - a refusal, not a malfunction
    """The conversation has a token and the caller did not present it: nothing was stored."""


_REFUSED = object()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


class MessageStore:
    def __init__(
        self,
        database_url: str,
        *,
        table_prefix: str = "gw_",
        hash_secret: str,
        claim_ttl_s: float = 60.0,
        max_attempts: int = 50,
        engine: Engine | None = None,
        sqlite_synchronous: str = "NORMAL",
    ) -> None:
        if not hash_secret:
            raise ValueError("hash_secret is empty: see channels.identity.load_sender_hash_secret")
        self.database_url = database_url
        self.hash_secret = hash_secret
        self.claim_ttl = timedelta(seconds=claim_ttl_s)
        self.max_attempts = max_attempts
        self.engine = engine or _make_engine(database_url, sqlite_synchronous)
        # SQLite commits fsync only with FULL/EXTRA (WAL + NORMAL: only checkpoints do)
        self.commit_fsyncs = (
            self.engine.dialect.name != "sqlite"
            or sqlite_synchronous.strip().upper() in ("FULL", "EXTRA")
        )
        self.metadata = MetaData()
        p = table_prefix
        self.conversations = Table(
            f"{p}conversations",
            self.metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("channel", String(16), nullable=False),
            Column("sender_hash", String(64), nullable=False),
            Column("sender_masked", String(64), nullable=False),
            Column("reply_address", String(256), nullable=False),
            Column("taken_over", Boolean, nullable=False, default=False),
            Column("opted_out", Boolean, nullable=False, default=False),
            Column("last_inbound_at", DateTime),
            Column("pushes_since_inbound", Integer, nullable=False, default=0),
            Column("created_at", DateTime, nullable=False),
            Column("updated_at", DateTime, nullable=False),
            Column("token_hash", String(64)),
            UniqueConstraint("channel", "sender_hash", name=f"{p}uq_conv_sender"),
        )
        self.messages = Table(
            f"{p}messages",
            self.metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column(
                "conversation_id",
                Integer,
                ForeignKey(f"{p}conversations.id", ondelete="CASCADE"),
                nullable=False,
            ),
            Column("channel", String(16), nullable=False),
            Column("direction", String(4), nullable=False),
            Column("author", String(16), nullable=False),
            Column("external_id", String(128)),
            Column("text", Text, nullable=False),
            Column("status", String(16), nullable=False),
            Column("reply", Text),
            Column("delivery", String(16)),
            Column("attempts", Integer, nullable=False, default=0),
            Column("claimed_until", DateTime),
            Column("last_error", String(500)),
            Column("created_at", DateTime, nullable=False),
            Column("updated_at", DateTime, nullable=False),
            UniqueConstraint("channel", "external_id", name=f"{p}uq_msg_external"),
            Index(f"{p}ix_msg_status", "status", "claimed_until"),
            Index(f"{p}ix_msg_conv", "conversation_id", "id"),
        )
        # The per-message statements run on raw DBAPI connections (see `channels.hotpath`).
        self._hot = HotPath(self.engine, self.conversations, self.messages)

    # -- schema ---------------------------------------------------------------------------
    # Columns added after the first release: (table, column) → DDL type; nullable, no default.
    ADDED_COLUMNS = {("conversations", "token_hash"): "VARCHAR(64)"}

    def create_all(self) -> None:
        """Create missing tables, then add the columns an older version's tables lack."""
        for attempt in range(len(self.metadata.tables) + 1):
            try:
                self.metadata.create_all(self.engine)
                break
            except DBAPIError:
                # Another worker created a table between the check and the CREATE: look again.
                if attempt == len(self.metadata.tables):
                    raise
        for (table_attr, column), ddl_type in self.ADDED_COLUMNS.items():
            self._add_column(getattr(self, table_attr), column, ddl_type)

    def _add_column(self, table: Table, column: str, ddl_type: str) -> None:
        def present() -> bool:
            return column in {c["name"] for c in inspect(self.engine).get_columns(table.name)}

        if present():
            return
        prep = self.engine.dialect.identifier_preparer
        sql = (f"ALTER TABLE {prep.format_table(table)} ADD COLUMN "
               f"{prep.quote(column)} {ddl_type}")
        try:
            with self.engine.begin() as conn:
                conn.execute(text(sql))
        except DBAPIError:
            if not present():  # not another worker adding it at the same moment
                raise

    def drop_all(self) -> None:
        self.metadata.drop_all(self.engine)

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    # -- identifiers ----------------------------------------------------------------------
    def sender_hash(self, channel: str, sender: str) -> str:
        return hash_sender(self.hash_secret, channel, sender)

    # -- inbound --------------------------------------------------------------------------
    def record_inbound(
        self,
        channel: str,
        sender: str,
        text_: str,
        external_id: str | None,
        token: TokenCheck | None = None,
    ) -> Inbound:
        """Store an inbound message before anything else happens to it.

        One transaction: touch (or create) the conversation, insert the message already
        claimed by the caller (status `pending`). If `(channel, external_id)` was seen before,
        nothing changes and the earlier message is returned with `duplicate=True`.

        With `token` (web and API messages): a new conversation is created with
        `token.new_hash`; an existing conversation takes the message only if
        `token.presented_hash` matches its token, else nothing is stored and `TokenRefused` is
        raised. A conversation from before tokens is refused too, except to a trusted (API-key)
        caller, whose message gives it a token (`token_issued`). Checked inside the
        transaction, so two first messages racing for one sender cannot both get a token.
        """
        hot = self._hot
        now = utcnow()
        params = {
            "channel": channel,
            "sender_hash": self.sender_hash(channel, sender),
            "address": sender,
            "now": hot.dt(now),
        }

        def work(cur: Any) -> tuple[Any, Any, bool]:
            issued = False
            conv_row = cur.execute(hot.sql_touch_conv, params).fetchone()
            if conv_row is None:
                cur.execute(hot.sql_insert_conv, {**params, "sender_masked": mask_sender(sender),
                                                  "no": False,
                                                  "token_hash": token and token.new_hash})
                conv_row = cur.fetchone()
                issued = conv_row is not None and token is not None
                conv_row = conv_row or cur.execute(hot.sql_touch_conv, params).fetchone()
            if token is not None and not issued:
                stored = conv_row[hot.conv_token_index]
                if stored is None:  # a conversation from before tokens
                    if not token.trusted:
                        # Whoever knows its id could claim it and read its history through
                        # `updates`: the public starts a new conversation (the widget does).
                        raise Rollback(_REFUSED)
                    cur.execute(hot.sql_set_token, {"cid": conv_row[0],
                                                    "token_hash": token.new_hash})
                    if cur.rowcount != 1:
                        raise Rollback(_REFUSED)
                    conv_row = cur.execute(hot.sql_conv_by_id, {"cid": conv_row[0]}).fetchone()
                    issued = True
                elif not token.trusted and not digests_match(stored, token.presented_hash):
                    raise Rollback(_REFUSED)
            msg_row = cur.execute(hot.sql_insert_msg, {
                "cid": conv_row[0],
                "channel": channel,
                "external_id": external_id,
                "text": text_,
                "status": PENDING,
                "claimed_until": hot.dt(now + self.claim_ttl),
                "now": params["now"],
            }).fetchone()
            if msg_row is None:  # a duplicate: undo the conversation touch (and any token)
                raise Rollback(None)
            return conv_row, msg_row, issued

        stored = hot.run(work)
        if stored is _REFUSED:
            raise TokenRefused(channel)
        if stored is None:
            return self._duplicate(channel, external_id)
        conv_row, msg_row, issued = stored
        return Inbound(_message(hot.msg_row(msg_row)), _conversation(hot.conv_row(conv_row)),
                       duplicate=False, token_issued=issued)

    def _duplicate(self, channel: str, external_id: str | None) -> Inbound:
        """The earlier copy of a message and its (untouched) conversation."""
        hot = self._hot
        if external_id is None:  # cannot happen: NULL never conflicts
            raise RuntimeError("insert refused without an external id")

        def work(cur: Any) -> tuple[Any, Any]:
            msg_row = cur.execute(
                hot.sql_msg_by_external, {"channel": channel, "external_id": external_id}
            ).fetchone()
            conv_row = cur.execute(hot.sql_conv_by_id, {"cid": msg_row[1]}).fetchone()
            return conv_row, msg_row

        conv_row, msg_row = hot.run(work)
        return Inbound(_message(hot.msg_row(msg_row)), _conversation(hot.conv_row(conv_row)),
                       duplicate=True)

    def finish(
        self,
        message_id: int,
        status: str,
        replies: list[dict[str, Any]] | None = None,
        delivery: str | None = None,
        error: str | None = None,
    ) -> None:
        """Set the outcome of a message and release its claim (None keeps a field)."""
        self._finish(message_id, status, None, replies, delivery, error)

    def finish_answered(self, message_id: int, replies: list[dict[str, Any]]) -> None:
        """Store the bot's answer; the claim is kept until the answer is delivered."""
        self._finish(message_id, ANSWERED, self.claim_ttl, replies, None, None)

    def _finish(
        self,
        message_id: int,
        status: str,
        keep_claim: timedelta | None,
        replies: list[dict[str, Any]] | None,
        delivery: str | None,
        error: str | None,
    ) -> None:
        hot = self._hot
        now = utcnow()
        params = {
            "mid": message_id,
            "status": status,
            "claimed_until": hot.dt(now + keep_claim) if keep_claim is not None else None,
            "now": hot.dt(now),
            "reply": json.dumps(replies, ensure_ascii=False) if replies is not None else None,
            "delivery": delivery,
            "error": error[:500] if error is not None else None,
        }
        hot.run(lambda cur: cur.execute(hot.sql_finish, params))

    def manual_checkpoints(self) -> None:
        """SQLite: the hot path's commits stop checkpointing the WAL; the caller must call
        `checkpoint()` regularly (the gateway does, from a background thread)."""
        self._hot.manual_checkpoints = True

    def checkpoint(self) -> None:
        self._hot.checkpoint()

    def close(self) -> None:
        """Release the hot path's connections (before `engine.dispose()`)."""
        self._hot.close()

    def release(self, message_id: int, error: str) -> None:
        """Give up the claim after a failed attempt; the worker will retry it later."""
        m = self.messages.c
        with self.engine.begin() as conn:
            conn.execute(
                update(self.messages)
                .where(m.id == message_id)
                .values(
                    claimed_until=None,
                    attempts=m.attempts + 1,
                    last_error=error[:500],
                    updated_at=utcnow(),
                )
            )

    def unclaim(self, message_id: int) -> None:
        """Give a claim back without counting an attempt."""
        with self.engine.begin() as conn:
            conn.execute(
                update(self.messages)
                .where(self.messages.c.id == message_id)
                .values(claimed_until=None)
            )

    def claim_due(self, limit: int = 20) -> list[Message]:
        """Claim up to `limit` messages that still need work (pending or undelivered)."""
        m = self.messages.c
        now = utcnow()
        with self.engine.connect() as conn:
            ids = (
                conn.execute(
                    select(m.id)
                    .where(
                        m.direction == "in",
                        m.status.in_([PENDING, ANSWERED]),
                        or_(m.claimed_until.is_(None), m.claimed_until < now),
                        m.attempts < self.max_attempts,
                    )
                    .order_by(m.id)
                    .limit(limit)
                )
                .scalars()
                .all()
            )
        claimed: list[Message] = []
        for mid in ids:
            with self.engine.begin() as conn:
                got = conn.execute(
                    update(self.messages)
                    .where(
                        and_(
                            m.id == mid,
                            m.status.in_([PENDING, ANSWERED]),
                            or_(m.claimed_until.is_(None), m.claimed_until < now),
                        )
                    )
                    .values(claimed_until=now + self.claim_ttl)
                ).rowcount
            if got == 1:
                msg = self.get_message(mid)
                if msg is not None:
                    claimed.append(msg)
        return claimed

    def give_up_exhausted(self) -> int:
        """Mark messages that ran out of attempts as failed; returns how many."""
        m = self.messages.c
        with self.engine.begin() as conn:
            return conn.execute(
                update(self.messages)
                .where(
                    m.status.in_([PENDING, ANSWERED]),
                    m.attempts >= self.max_attempts,
                )
                .values(status=FAILED, updated_at=utcnow())
            ).rowcount

    # -- outbound -------------------------------------------------------------------------
    def record_outbound(
        self, conversation_id: int, text_: str, author: str, status: str, error: str | None = None
    ) -> Message:
        now = utcnow()
        conv = self.get_conversation(conversation_id)
        if conv is None:
            raise KeyError(conversation_id)
        with self.engine.begin() as conn:
            new_id = conn.execute(
                insert(self.messages)
                .values(
                    conversation_id=conversation_id,
                    channel=conv.channel,
                    direction="out",
                    author=author,
                    text=text_,
                    status=status,
                    attempts=1,
                    last_error=error[:500] if error else None,
                    created_at=now,
                    updated_at=now,
                )
                .returning(self.messages.c.id)
            ).scalar_one()
        msg = self.get_message(new_id)
        assert msg is not None
        return msg

    def take_push_quota(self, conversation_id: int, window_s: float, quota: int) -> str | None:
        """Reserve one customer-service push; returns None if allowed, else the reason."""
        c = self.conversations.c
        cutoff = utcnow() - timedelta(seconds=window_s)
        with self.engine.begin() as conn:
            got = conn.execute(
                update(self.conversations)
                .where(
                    c.id == conversation_id,
                    c.last_inbound_at >= cutoff,
                    c.pushes_since_inbound < quota,
                )
                .values(pushes_since_inbound=c.pushes_since_inbound + 1)
            ).rowcount
        if got == 1:
            return None
        conv = self.get_conversation(conversation_id)
        if conv is None or conv.last_inbound_at is None or conv.last_inbound_at < cutoff:
            return "window"
        return "quota"

    # -- conversation flags ---------------------------------------------------------------
    def set_opted_out(self, conversation_id: int, opted_out: bool) -> None:
        self._set_conv(conversation_id, opted_out=opted_out)

    def set_taken_over(self, conversation_id: int, taken_over: bool) -> None:
        """Staff took over (True: the gateway stops forwarding to the bot) or handed back."""
        self._set_conv(conversation_id, taken_over=taken_over)

    def _set_conv(self, conversation_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(self.conversations)
                .where(self.conversations.c.id == conversation_id)
                .values(updated_at=utcnow(), **values)
            )

    # -- reads ----------------------------------------------------------------------------
    def get_message(self, message_id: int) -> Message | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(self.messages).where(self.messages.c.id == message_id)
            ).first()
        return _message(row) if row is not None else None

    def get_conversation(self, conversation_id: int) -> Conversation | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(self.conversations).where(self.conversations.c.id == conversation_id)
            ).first()
        return _conversation(row) if row is not None else None

    def find_conversation(self, channel: str, sender: str) -> Conversation | None:
        c = self.conversations.c
        h = self.sender_hash(channel, sender)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(self.conversations).where(c.channel == channel, c.sender_hash == h)
            ).first()
        return _conversation(row) if row is not None else None

    def list_conversations(
        self, channel: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[Conversation]:
        """Most recently active first."""
        c = self.conversations.c
        q = select(self.conversations).order_by(c.updated_at.desc(), c.id.desc())
        if channel:
            q = q.where(c.channel == channel)
        with self.engine.connect() as conn:
            rows = conn.execute(q.limit(limit).offset(offset)).all()
        return [_conversation(r) for r in rows]

    def list_messages(
        self, conversation_id: int, limit: int = 100, after_id: int = 0
    ) -> list[Message]:
        """Messages of one conversation in order (inbound with bot replies, staff messages)."""
        m = self.messages.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(self.messages)
                .where(m.conversation_id == conversation_id, m.id > after_id)
                .order_by(m.id)
                .limit(limit)
            ).all()
        return [_message(r) for r in rows]

    def count_by_status(self) -> dict[str, int]:
        m = self.messages.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(m.status, func.count()).where(m.direction == "in").group_by(m.status)
            ).all()
        return {status: n for status, n in rows}


SQLITE_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


def _make_engine(url: str, synchronous: str = "NORMAL") -> Engine:
    """SQLite: WAL with `synchronous` NORMAL by default: a commit survives a crash or kill of
    the gateway (what "pending messages survive a restart" relies on), but the last commits
    before an OS crash or power cut may be rolled back; the WAL is fsync'ed at checkpoints.
    FULL fsyncs every commit (power-cut safe) and cost ~5x the overhead in bench/gateway.py
    (two fsyncs per message on one writer thread); PostgreSQL is the power-cut-safe choice."""
    synchronous = synchronous.strip().upper()
    if synchronous not in SQLITE_SYNCHRONOUS:
        raise ValueError(f"SQLITE_SYNCHRONOUS must be one of {', '.join(SQLITE_SYNCHRONOUS)}")
    url = engine_url(url)
    if url.startswith("sqlite"):
        # hide_parameters: an error's message (and so a logged traceback) never quotes the
        # statement's values, which may be phone numbers or openids.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10,
                         hide_parameters=True)


def _conversation(row: Any) -> Conversation:
    """From a SQLAlchemy row or a column → value dict (hot path)."""
    d = row if isinstance(row, dict) else dict(row._mapping)
    return Conversation(**d)


def _message(row: Any) -> Message:
    d = row if isinstance(row, dict) else dict(row._mapping)
    d.pop("claimed_until", None)
    return Message(**d)
