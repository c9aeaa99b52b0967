"""Refuse replayed WeChat requests: a ±300 s timestamp window and a nonce ledger in the database.

Window: a POST whose `timestamp` is more than `TIMESTAMP_WINDOW_S` from our clock is refused
(`inbound.verify_post`), so a captured request is worthless after five minutes and the ledger
only has to remember nonces that long. The gateway's clock must be NTP-synced.

Ledger: every authenticated POST records its `(timestamp, nonce)` — both are covered by the
signatures, so a replay must repeat both — in a table of the message store's database
(`<prefix>wechat_nonces`, primary key on that pair, `INSERT ... ON CONFLICT DO NOTHING`).
The database, not a per-process set, because with `WORKERS=N` (or several machines on one
PostgreSQL) a replay sent to another worker would pass an in-memory set. Rows expire when
their timestamp leaves the window and are deleted at most once a minute per process.
Cost per request: one transaction, ~0.2 ms on SQLite (it runs where the message transactions
run); on PostgreSQL it commits with `synchronous_commit = off` (p50 1 ms instead of 4 ms
here, no WAL flush wait): a crash of the *database server* may forget the pairs of the last
fraction of a second, which only reopens those requests to a replay for the rest of their
window — the messages themselves are committed durably by the store as before.

Decision — a repeated `(timestamp, nonce)` is not always an attack. WeChat retries a
message (three tries within 15 s) when it gets no answer within 5 s, *with the same
timestamp, nonce, signatures and body*; refusing the retry with 403 would be wrong whenever
the first attempt's answer never reached WeChat (a slow Rasa, a 503 while the database was
unreachable, a dropped connection). So the ledger also stores a SHA-256 of what the
signatures vouch for (the Encrypt element in safe mode, the raw body in plaintext mode) and
tells three cases apart:

- FIRST: never seen: processed.
- RETRY: same pair, same content: processed like any request; the message's own dedupe key
  (MsgId, or `event:<openid>:<CreateTime>` for subscribe) makes the store answer a message
  that was already recorded as a duplicate (`success`, the bot is not asked again), while a
  message whose first attempt failed before it was stored is processed now and not lost.
  Events with no dedupe key of their own (unsubscribe, menu clicks) are answered `success`
  without acting again, so replaying an unsubscribe after the resident subscribed again
  cannot opt them out. The price: if the first attempt of an unsubscribe failed (database
  error) after its pair was recorded, the retry does not set the opt-out either; pushes to
  that resident then end as `failed` on WeChat's own refusal (43004 unsubscribed).
- REPLAY: same pair, different content: refused with 403. In safe mode this cannot come from
  WeChat (it would need a valid msg_signature over the new Encrypt); in plaintext mode it is
  exactly the attack the body-less signature allows.

What a replayed identical request can still do within the window is what WeChat's own retry
does: nothing new. Plaintext mode stays weaker (an on-path attacker can get a forged body in
*before* the genuine one); that is why the README asks for safe mode.
"""

from __future__ import annotations

import hmac
import time
from enum import Enum

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

TIMESTAMP_WINDOW_S = 300
CLEANUP_EVERY_S = 60.0


class Seen(Enum):
    FIRST = "first"
    RETRY = "retry"
    REPLAY = "replay"


class NonceLedger:
    """The `(timestamp, nonce)` pairs of authenticated WeChat POSTs still inside the window."""

    def __init__(self, engine: Engine, table_prefix: str = "gw_") -> None:
        self.engine = engine
        self.metadata = MetaData()
        self.table = Table(
            f"{table_prefix}wechat_nonces",
            self.metadata,
            Column("pair", String(96), primary_key=True),  # "<timestamp>:<nonce>"
            Column("digest", String(64), nullable=False),
            Column("expires_at", BigInteger, nullable=False),  # epoch seconds
            Index(f"ix_{table_prefix}wechat_nonces_expires_at", "expires_at"),
        )
        self._postgresql = engine.dialect.name == "postgresql"
        self._insert = pg_insert if self._postgresql else sqlite_insert
        self._next_cleanup = 0.0

    def create(self) -> None:
        """Create the table; tolerates another worker creating it at the same moment."""
        try:
            self.metadata.create_all(self.engine)
        except DBAPIError:
            if not inspect(self.engine).has_table(self.table.name):
                raise

    def drop(self) -> None:
        self.metadata.drop_all(self.engine)

    def record(self, timestamp: int, nonce: str, digest: str, now: float | None = None) -> Seen:
        """Record a verified request's pair; tell a first sight from a retry or a replay."""
        now = time.time() if now is None else now
        pair = f"{timestamp}:{nonce}"
        with self.engine.begin() as conn:
            if self._postgresql:
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            if time.monotonic() >= self._next_cleanup:
                self._cleanup(conn, now)
            stmt = self._insert(self.table).values(
                pair=pair, digest=digest, expires_at=timestamp + TIMESTAMP_WINDOW_S
            ).on_conflict_do_nothing(index_elements=["pair"]).returning(self.table.c.pair)
            if conn.execute(stmt).first() is not None:  # (rowcount is -1 on psycopg)
                return Seen.FIRST
            stored = conn.execute(
                select(self.table.c.digest).where(self.table.c.pair == pair)
            ).scalar_one_or_none()
        if stored is None:  # expired and deleted by another worker in between
            with self.engine.begin() as conn:
                conn.execute(insert(self.table).values(
                    pair=pair, digest=digest, expires_at=timestamp + TIMESTAMP_WINDOW_S))
            return Seen.FIRST
        return Seen.RETRY if hmac.compare_digest(stored, digest) else Seen.REPLAY

    def _cleanup(self, conn: Connection, now: float) -> None:
        self._next_cleanup = time.monotonic() + CLEANUP_EVERY_S
        conn.execute(delete(self.table).where(self.table.c.expires_at < int(now)))

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(self.table)).scalar_one())
