"""Handoff requests (转人工) that a staff console lists and resolves.

Table ``handoff_requests`` in the database at ``DATABASE_URL`` (SQLAlchemy URL; default
``sqlite:///var/yibao.db`` relative to the working directory, the same default as the
gateway's message store):

=============  ============  ==========================================================
column         type          meaning
=============  ============  ==========================================================
id             integer PK
sender_id      text          Rasa conversation id (the channel's user id)
channel        text          ``sms`` / ``wechat`` / ``web`` (from the message metadata)
last_message   text          the resident's message that asked for a person
topic          text          the last question topic, if any
region         text          the region slot, if any
created_at     timestamp     UTC
status         text          ``open`` → ``taken`` → ``closed`` (set by the console)
=============  ============  ==========================================================

The bot also emits Rasa's ``ConversationPaused``; the console resumes the conversation with
``POST /conversations/{sender_id}/tracker/events`` ``{"event": "resume"}``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    select,
)

DEFAULT_URL = "sqlite:///var/yibao.db"

metadata = MetaData()
handoff_requests = Table(
    "handoff_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender_id", String(128), nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("last_message", Text, nullable=False, default=""),
    Column("topic", String(64)),
    Column("region", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False, default="open", index=True),
)


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def engine_url(url: str) -> str:
    """`DATABASE_URL` made ready for `create_engine`, one rule for the gateway and the actions:
    `postgresql://…` names psycopg 3, the driver this project installs (SQLAlchemy's default
    for the bare scheme is psycopg2), and an SQLite file's folder is created if missing."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return url


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    engine = create_engine(engine_url(url), future=True, hide_parameters=True)
    metadata.create_all(engine)
    return engine


def record_handoff(sender_id: str, channel: str, last_message: str,
                   topic: str | None = None, region: str | None = None,
                   url: str | None = None) -> int:
    """Store one open request and return its id."""
    engine = engine_for(url or database_url())
    with engine.begin() as conn:
        result = conn.execute(insert(handoff_requests).values(
            sender_id=sender_id, channel=channel, last_message=last_message[:2000],
            topic=topic, region=region, created_at=datetime.now(UTC), status="open"))
        return int(result.inserted_primary_key[0])


def list_handoffs(status: str | None = "open", url: str | None = None) -> list[dict]:
    """Requests, oldest first (what a console shows)."""
    engine = engine_for(url or database_url())
    query = select(handoff_requests).order_by(handoff_requests.c.id)
    if status:
        query = query.where(handoff_requests.c.status == status)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]
