"""Rasa's SQL tracker store on an embedded SQLite file, tuned for one REST turn at a time.

Rasa's ``SQLTrackerStore`` opens SQLite in its default rollback-journal mode with
``synchronous=FULL``: every saved turn costs several fsyncs on the event loop, and SQLAlchemy
1.4 opens and closes the file for every session (``NullPool``): 19 ms per save + retrieve here,
3.2 ms with this store. Here the connection is kept per thread (Rasa uses the store from
the event loop's thread) and in WAL mode with ``synchronous=NORMAL`` a commit only appends to
the write-ahead log: a crash of the Rasa process loses nothing, a power cut can lose the last
turns of a conversation (the gateway's own message log keeps every resident message either
way). Several replicas on PostgreSQL use ``UrlSQLTrackerStore`` below (bot/endpoints-cluster.yml).

endpoints.yml::

    tracker_store:
      type: components.tracker_store.SQLiteTrackerStore
      db: var/rasa-tracker.db
"""

from __future__ import annotations

import itertools
import json
import pickle
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

KEPT_TRACKERS = 2000  # conversations whose last saved tracker a Rasa process keeps
EVENTS: sa.Table = SQLTrackerStore.SQLEvent.__table__
# "The id of a conversation's last event", asked once per turn. With Rasa's index on
# sender_id alone, PostgreSQL answers max(id) by walking the primary key backwards until it
# meets the conversation: the whole table for a new conversation (27 ms at 71,000 events,
# growing with every conversation ever held). On (sender_id, id) it is one index lookup.
LAST_EVENT_INDEX = sa.Index("ix_events_sender_id_id", EVENTS.c.sender_id, EVENTS.c.id)


def _last_id_query(sender_id: str) -> sa.sql.Select:
    return sa.select(sa.func.max(EVENTS.c.id)).where(EVENTS.c.sender_id == sender_id)


@dataclass
class _Kept:
    pickled: bytes  # the tracker as saved (see KeptTrackerMixin on why not the object)
    last_id: int  # id of the conversation's last stored event when the tracker was kept
    stored: int  # how many of the tracker's events are in the database


class KeptTrackerMixin:
    """Hands the tracker a turn saved back to the next turn instead of rebuilding it.

    ``SQLTrackerStore.retrieve`` reads every event of the conversation and replays it into a
    new tracker, and ``save`` counts the stored events to find the new ones, so a turn costs
    more the longer the conversation (retrieve alone was a third of Rasa's CPU at 20 turns,
    bench/rasa_profile.py). The tracker object a turn saved is kept with the id of the
    conversation's last stored event; the next ``retrieve`` checks that id with one indexed
    query and, when nobody (no other replica) has stored an event since, hands the kept object
    over; its ``save`` then writes just the events after those already stored. Handed over,
    not shared: a turn that fails before saving leaves nothing kept, and the next turn
    rebuilds from the database as Rasa does. With an event broker configured nothing is kept
    (Rasa's own ``save`` then diffs against the database and must see a rebuilt tracker).

    The tracker is kept pickled, not as the live object: a 20-turn tracker is ~900 Python
    objects, and Python's full garbage collection walks every live object while the event
    loop waits (kept objects made collections of 0.3-1.5 s under load: "gc full" in
    bench/rasa_profile.py). Bytes are not walked; unpickling takes ~1.3 ms against ~19 ms to
    rebuild from the database.
    """

    engine: sa.engine.Engine
    event_broker: EventBroker | None

    def _index_last_event_lookup(self) -> None:
        """Create LAST_EVENT_INDEX on a database made before it existed (Rasa's own
        ``create_all`` makes it with a new table only)."""
        try:
            LAST_EVENT_INDEX.create(self.engine, checkfirst=True)
        except sa.exc.DBAPIError:  # another replica created it at the same moment
            names = {i["name"] for i in sa.inspect(self.engine).get_indexes(EVENTS.name)}
            if LAST_EVENT_INDEX.name not in names:
                raise

    def _slots(self) -> tuple[OrderedDict[str, _Kept],
                              dict[str, tuple[DialogueStateTracker, _Kept]]]:
        if not hasattr(self, "_kept_trackers"):
            self._kept_trackers: OrderedDict[str, _Kept] = OrderedDict()
            self._handed_over: dict[str, tuple[DialogueStateTracker, _Kept]] = {}
        return self._kept_trackers, self._handed_over

    def _autocommit(self) -> sa.engine.Connection:
        """A connection without a transaction: a single statement needs no BEGIN, COMMIT or
        ROLLBACK, each a round trip that holds up the event loop (the driver is synchronous)."""
        return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def _last_event_id(self, sender_id: str) -> int | None:
        with self._autocommit() as conn:
            return conn.execute(_last_id_query(sender_id)).scalar()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        kept, handed = self._slots()
        entry = kept.pop(sender_id, None)
        handed.pop(sender_id, None)  # a turn that never saved
        if self.event_broker is not None:  # Rasa's own count-based save: rebuild every time
            return await super().retrieve(sender_id)  # type: ignore[misc]
        if entry is not None and entry.last_id == self._last_event_id(sender_id):
            tracker = pickle.loads(entry.pickled)
            handed[sender_id] = (tracker, entry)
            return tracker
        return await super().retrieve(sender_id)  # type: ignore[misc]

    async def save(self, tracker: DialogueStateTracker) -> None:
        kept, handed = self._slots()
        handed_over, entry = handed.pop(tracker.sender_id, (None, None))
        if entry is None or handed_over is not tracker:
            await super().save(tracker)  # type: ignore[misc]
            last_id = self._last_event_id(tracker.sender_id)
        else:
            last_id = self._append(tracker, entry.stored) or entry.last_id
        if last_id is not None:
            kept[tracker.sender_id] = _Kept(pickle.dumps(tracker, pickle.HIGHEST_PROTOCOL),
                                            last_id, len(tracker.events))
            if len(kept) > KEPT_TRACKERS:
                kept.popitem(last=False)

    def _append(self, tracker: DialogueStateTracker, stored: int) -> int | None:
        """Store the tracker's events after the first `stored`; the id of the last one."""
        rows = []
        for event in itertools.islice(tracker.events, stored, None):
            data = event.as_dict()  # the columns as Rasa's SQLTrackerStore.save fills them
            rows.append({
                "sender_id": tracker.sender_id, "type_name": event.type_name,
                "timestamp": data.get("timestamp"), "action_name": data.get("name"),
                "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
                "data": json.dumps(data)})
        if not rows:
            return None
        # SQLAlchemy Core: the ORM's unit of work cost more.
        if self.engine.dialect.name == "postgresql":  # one statement, atomic by itself
            with self._autocommit() as conn:
                return max(conn.execute(
                    EVENTS.insert().values(rows).returning(EVENTS.c.id)).scalars())
        with self.engine.begin() as conn:  # SQLite (SQLAlchemy 1.4 has no RETURNING for it)
            conn.execute(EVENTS.insert(), rows)
            return conn.execute(_last_id_query(tracker.sender_id)).scalar()

PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=5000")


def _apply_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


class SQLiteTrackerStore(KeptTrackerMixin, SQLTrackerStore):
    """``SQLTrackerStore`` with ``dialect: sqlite``, kept connections and WAL pragmas."""

    def __init__(self, domain: Domain | None = None, db: str = "rasa.db",
                 event_broker: EventBroker | None = None, host: str | None = None,
                 **kwargs: Any) -> None:
        # ``host`` is the endpoint's ``url``, which an embedded file does not use.
        super().__init__(domain=domain, dialect="sqlite", db=db, event_broker=event_broker,
                         **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, poolclass=sa.pool.SingletonThreadPool)
        sa.event.listen(self.engine, "connect", _apply_pragmas)
        self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)
        self._index_last_event_lookup()


class UrlSQLTrackerStore(KeptTrackerMixin, SQLTrackerStore):
    """Rasa's ``SQLTrackerStore`` configured by one URL, the ``DATABASE_URL`` the gateway reads.

    Rasa's own ``type: SQL`` wants host, port, db, user and password as separate keys; the
    deployments (make cluster, compose, Kubernetes) pass one URL, so the replicas of Rasa, the
    gateway and the action server are pointed at the same database by one variable::

        tracker_store:
          type: components.tracker_store.UrlSQLTrackerStore
          url: ${DATABASE_URL}     # postgresql://user:password@host:5432/yibao
    """

    def __init__(self, domain: Domain | None = None, host: str | None = None,
                 event_broker: EventBroker | None = None, **kwargs: Any) -> None:
        if not host:
            raise ValueError("UrlSQLTrackerStore needs `url:` (DATABASE_URL)")
        url = sa.engine.make_url(host)
        # Rasa's venv has psycopg2; the gateway's URL may name psycopg (3).
        dialect = url.get_backend_name()
        super().__init__(domain=domain, dialect=dialect, host=url.host, port=url.port,
                         db=url.database, username=url.username, password=url.password,
                         query=dict(url.query) or None,  # e.g. sslmode=require
                         event_broker=event_broker, **kwargs)
        self._index_last_event_lookup()
