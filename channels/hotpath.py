"""The per-message statements of the message log, run on raw DBAPI connections.

Every inbound message costs two transactions: one that stores it (already claimed by the
request that will answer it) and one that records the outcome. Through SQLAlchemy's
engine/pool/execution-context machinery these cost several times the database work itself
(py-spy under `bench/gateway.py`: `record_inbound` alone was 37 % of the sampled time, SQLite's
own execute and commit ~16 %), so the hot path uses hand-written SQL on DBAPI connections
kept out of SQLAlchemy's pool between calls. Everything else in `MessageStore` stays on SQLAlchemy Core.

Both SQLite (≥ 3.35) and PostgreSQL are supported: `INSERT ... ON CONFLICT DO NOTHING
RETURNING` refuses a duplicate without an exception, datetimes are stored in SQLAlchemy's
format so the Core queries read them back unchanged. A DBAPI error is re-raised as
SQLAlchemy's wrapped exception (the app answers 503 for those), and the connection is
rolled back, or dropped if it is broken.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Boolean, DateTime, Table
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

T = TypeVar("T")


class Rollback(Exception):  # noqa: N818 - control flow, not an error
    """Raised by a unit of work to roll its transaction back and return `value`."""

    def __init__(self, value: object) -> None:
        super().__init__("rollback")
        self.value = value


def sqlite_datetime(value: datetime | None) -> str | None:
    """SQLAlchemy's SQLite DATETIME storage format (always with microseconds)."""
    return None if value is None else f"{value:%Y-%m-%d %H:%M:%S.%f}"


class HotPath:
    def __init__(self, engine: Engine, conversations: Table, messages: Table) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self._dbapi_error: type[Exception] = engine.dialect.loaded_dbapi.Error
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._open: list[Any] = []
        self._lock = threading.Lock()
        # SQLite: set by the gateway when it checkpoints the WAL from a background thread
        # (`checkpoint`); the hot path's own commits then never run a checkpoint (and its fsync).
        self.manual_checkpoints = False
        self._checkpoint_conn: Any = None
        self.conv_cols = [c.name for c in conversations.c]
        self.conv_token_index = self.conv_cols.index("token_hash")
        self.msg_cols = [c.name for c in messages.c]
        self._conv_convert = self._converters(conversations)
        self._msg_convert = self._converters(messages)
        q = engine.dialect.identifier_preparer.format_table
        conv, msg = q(conversations), q(messages)
        conv_ret, msg_ret = ", ".join(self.conv_cols), ", ".join(self.msg_cols)
        self.sql_touch_conv = self._sql(
            f"UPDATE {conv} SET last_inbound_at = :now, pushes_since_inbound = 0, "
            f"updated_at = :now, reply_address = :address "
            f"WHERE channel = :channel AND sender_hash = :sender_hash RETURNING {conv_ret}"
        )
        self.sql_insert_conv = self._sql(
            f"INSERT INTO {conv} (channel, sender_hash, sender_masked, reply_address, "
            f"taken_over, opted_out, last_inbound_at, pushes_since_inbound, created_at, "
            f"updated_at, token_hash) VALUES (:channel, :sender_hash, :sender_masked, :address, "
            f":no, :no, :now, 0, :now, :now, :token_hash) ON CONFLICT (channel, sender_hash) "
            f"DO NOTHING RETURNING {conv_ret}"
        )
        self.sql_set_token = self._sql(
            f"UPDATE {conv} SET token_hash = :token_hash WHERE id = :cid AND token_hash IS NULL"
        )
        self.sql_insert_msg = self._sql(
            f"INSERT INTO {msg} (conversation_id, channel, direction, author, external_id, "
            f"text, status, attempts, claimed_until, created_at, updated_at) VALUES (:cid, "
            f":channel, 'in', 'resident', :external_id, :text, :status, 0, :claimed_until, "
            f":now, :now) ON CONFLICT (channel, external_id) DO NOTHING RETURNING {msg_ret}"
        )
        self.sql_msg_by_external = self._sql(
            f"SELECT {msg_ret} FROM {msg} WHERE channel = :channel AND external_id = :external_id"
        )
        self.sql_conv_by_id = self._sql(f"SELECT {conv_ret} FROM {conv} WHERE id = :cid")
        self.sql_finish = self._sql(
            f"UPDATE {msg} SET status = :status, claimed_until = :claimed_until, "
            f"updated_at = :now, reply = COALESCE(:reply, reply), "
            f"delivery = COALESCE(:delivery, delivery), "
            f"last_error = COALESCE(:error, last_error) WHERE id = :mid"
        )

    # -- SQL and values ----------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        """`:name` placeholders (sqlite3's named style) → `%(name)s` for psycopg."""
        if self.sqlite:
            return sql
        return re.sub(r":(\w+)", r"%(\1)s", sql)

    def dt(self, value: datetime | None) -> Any:
        return sqlite_datetime(value) if self.sqlite else value

    def _converters(self, table: Table) -> list[Callable[[Any], Any] | None]:
        out: list[Callable[[Any], Any] | None] = []
        for col in table.c:
            if self.sqlite and isinstance(col.type, DateTime):
                out.append(lambda v: datetime.fromisoformat(v) if isinstance(v, str) else v)
            elif self.sqlite and isinstance(col.type, Boolean):
                out.append(lambda v: None if v is None else bool(v))
            else:
                out.append(None)
        return out

    def conv_row(self, row: tuple[Any, ...]) -> dict[str, Any]:
        return _row(self.conv_cols, self._conv_convert, row)

    def msg_row(self, row: tuple[Any, ...]) -> dict[str, Any]:
        return _row(self.msg_cols, self._msg_convert, row)

    # -- connections ---------------------------------------------------------------------------
    def run(self, work: Callable[[Any], T]) -> T:
        """Run `work(cursor)` in one transaction on an idle connection and commit (or roll
        back and return `value` if it raises `Rollback(value)`)."""
        try:
            fairy = self._idle.get_nowait()
        except queue.Empty:
            fairy = self.engine.raw_connection()
            if self.sqlite and self.manual_checkpoints:
                fairy.driver_connection.execute("PRAGMA wal_autocheckpoint=0")
            with self._lock:
                self._open.append(fairy)
        conn = fairy.driver_connection
        try:
            cur = conn.cursor()
            try:
                result = work(cur)
            finally:
                cur.close()
            conn.commit()
        except Rollback as undo:
            self._recover(fairy, conn)
            return undo.value  # type: ignore[return-value]
        except BaseException as exc:
            self._recover(fairy, conn)
            if isinstance(exc, self._dbapi_error):
                raise DBAPIError.instance(
                    None, None, exc, self._dbapi_error, dialect=self.engine.dialect
                ) from exc
            raise
        self._idle.put(fairy)
        return result

    def _recover(self, fairy: Any, conn: Any) -> None:
        try:
            conn.rollback()
        except Exception:  # noqa: BLE001 - broken connection: drop it, the pool makes a new one
            with self._lock:
                if fairy in self._open:
                    self._open.remove(fairy)
            fairy.invalidate()
            return
        self._idle.put(fairy)

    def checkpoint(self) -> None:
        """SQLite: copy committed WAL frames into the database file (fsync'ed) without waiting
        for or blocking writers (`PASSIVE`); the next writer then restarts the WAL."""
        if self._checkpoint_conn is None:
            self._checkpoint_conn = self.engine.raw_connection()
        self._checkpoint_conn.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        """Give every connection back to SQLAlchemy's pool."""
        if self._checkpoint_conn is not None:
            self._checkpoint_conn.close()
            self._checkpoint_conn = None
        with self._lock:
            fairies, self._open = self._open, []
        while True:
            try:
                self._idle.get_nowait()
            except queue.Empty:
                break
        for fairy in fairies:
            try:
                fairy.close()
            except Exception:  # noqa: BLE001 - closing at shutdown is best effort
                pass


def _row(
    cols: list[str], convert: list[Callable[[Any], Any] | None], row: tuple[Any, ...]
) -> dict[str, Any]:
    return {
        name: (fn(value) if fn is not None else value)
        for name, fn, value in zip(cols, convert, row, strict=True)
    }
