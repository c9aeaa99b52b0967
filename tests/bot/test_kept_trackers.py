"""The tracker store that keeps a saved tracker for the next turn, the URL-configured stores,
and bot/scripts/serve.py's patches: run in .venv-rasa (tests/bot/test_rasa_runtime.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bot.test_rasa_runtime import ROOT, run_in_rasa

STORE = """
    import asyncio, json
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered, ActionExecuted, BotUttered, SlotSet
    from components.tracker_store import SQLiteTrackerStore
    domain = Domain.from_yaml('''
    version: "3.1"
    slots:
      situation: {type: any, influence_conversation: false, mappings: [{type: custom}]}
    ''')
    def turn(tracker, text):
        for event in (UserUttered(text), ActionExecuted("action_answer"),
                      SlotSet("situation", {"said": text}), BotUttered("答" + text),
                      ActionExecuted("action_listen")):
            tracker.update(event)
    async def stored(store, sender):
        with store.session_scope() as s:
            return [json.loads(r.data)["event"] for r in
                    s.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender)
                     .order_by(store.SQLEvent.id)]
"""


SCRATCH_PG = """
    import psycopg2
    admin = psycopg2.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    admin.autocommit = True
    admin.cursor().execute("DROP DATABASE IF EXISTS yibao_store_test WITH (FORCE)")
    admin.cursor().execute("CREATE DATABASE yibao_store_test")
    PG = "postgresql://postgres@127.0.0.1:5432/yibao_store_test"
"""


@pytest.mark.parametrize("store", ['SQLiteTrackerStore(domain, db="t.db")',
                                   "UrlSQLTrackerStore(domain, host=PG)"])
def test_a_kept_tracker_is_handed_over_and_only_new_events_are_written(
        store: str, tmp_path: Path) -> None:
    out = run_in_rasa(STORE + SCRATCH_PG + """
    from components.tracker_store import UrlSQLTrackerStore
    import gc
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker
    rebuilt = []                            # conversations Rasa's own retrieve rebuilt
    rasa_retrieve = SQLTrackerStore.retrieve
    async def counted(self, sender_id):
        rebuilt.append(sender_id)
        return await rasa_retrieve(self, sender_id)
    SQLTrackerStore.retrieve = counted
    async def main():
        a = STORE_UNDER_TEST
        t = await a.get_or_create_tracker("c1")
        turn(t, "一"); await a.save(t)
        state = t.current_state(); del t
        # Kept as bytes: no tracker object is left for the garbage collector to walk.
        assert not any(isinstance(o, DialogueStateTracker) for o in gc.get_objects())
        rebuilt.clear()
        t2 = await a.retrieve("c1")
        assert rebuilt == [] and t2.current_state() == state   # handed over, not rebuilt
        turn(t2, "二"); await a.save(t2)
        events = await stored(a, "c1")
        assert events.count("user") == 2 and len(events) == len(t2.events), events
        # Another replica (another store on the same database) takes a turn ...
        b = STORE_UNDER_TEST
        tb = await b.retrieve("c1")
        assert rebuilt == ["c1"] and [e.text for e in tb.events if e.type_name == "user"] == ["一", "二"]
        turn(tb, "三"); await b.save(tb)
        # ... so the first replica's kept tracker is stale and is rebuilt from the database.
        t3 = await a.retrieve("c1")
        assert rebuilt == ["c1"] * 2 and [e.text for e in t3.events if e.type_name == "user"] == ["一", "二", "三"]
        assert t3.get_slot("situation") == {"said": "三"}
        turn(t3, "四"); await a.save(t3)
        events = await stored(a, "c1")
        assert events.count("user") == 4 and len(events) == len(t3.events), events
        # A turn that fails before saving leaves nothing kept: the next turn reads the database.
        t4 = await a.retrieve("c1"); turn(t4, "失败")
        t5 = await a.retrieve("c1")
        assert rebuilt == ["c1"] * 3 and [e.text for e in t5.events if e.type_name == "user"][-1] == "四"
        a.engine.dispose(); b.engine.dispose()
        admin.cursor().execute("DROP DATABASE yibao_store_test WITH (FORCE)")
        print("ok")
    asyncio.run(main())
    """.replace("STORE_UNDER_TEST", store), tmp_path)
    assert out.strip().endswith("ok")


def test_url_stores_read_database_url_and_redis_url(tmp_path: Path) -> None:
    out = run_in_rasa("""
    from rasa.utils.endpoints import EndpointConfig
    from components.tracker_store import UrlSQLTrackerStore
    from components.lock_store import UrlRedisLockStore
    store = UrlSQLTrackerStore(host="postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable")
    assert store.engine.url.database == "postgres" and store.engine.url.query == {"sslmode": "disable"}
    lock = UrlRedisLockStore(EndpointConfig(url="redis://127.0.0.1:6379/5"))
    assert lock.red.connection_pool.connection_kwargs["db"] == 5 and lock.key_prefix.startswith("yibao")
    assert lock.red.ping()
    try:
        UrlRedisLockStore(EndpointConfig(url="http://x"))
    except ValueError:
        print("ok")
    """, tmp_path)
    assert out.strip().endswith("ok")


def test_serve_patches_cache_parses_by_model_and_send_only_this_turn(tmp_path: Path) -> None:
    out = run_in_rasa(f"""
    import sys
    sys.path.insert(0, {str(ROOT / "bot" / "scripts")!r})
    import serve
    from types import SimpleNamespace
    from rasa.core.processor import MessageProcessor
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.core.events import UserUttered, ActionExecuted, BotUttered
    calls = []
    def parse(self, message, tracker, only_output_properties=True):
        calls.append(message.text)
        return {{"text": message.text, "intent": {{"name": "ask", "confidence": 1.0}}, "entities": []}}
    MessageProcessor._parse_message_with_graph = parse
    serve.cache_parses()
    proc = SimpleNamespace(model_metadata=SimpleNamespace(model_id="m1"))
    msg = SimpleNamespace(text="会宁县交多少")
    first = MessageProcessor._parse_message_with_graph(proc, msg, None)
    first["entities"].append("changed by the caller")
    again = MessageProcessor._parse_message_with_graph(proc, msg, None)
    assert calls == ["会宁县交多少"] and again["entities"] == []      # cached, and a copy
    proc.model_metadata.model_id = "m2"
    MessageProcessor._parse_message_with_graph(proc, msg, None)
    assert calls == ["会宁县交多少"] * 2                               # a new model parses anew
    serve.send_only_this_turn()
    tracker = DialogueStateTracker("c", [])
    for e in (UserUttered("一"), ActionExecuted("action_answer"), BotUttered("答"),
              ActionExecuted("action_listen"), UserUttered("二")):
        tracker.update(e)
    action = RemoteAction("action_answer", None)
    payload = action._action_call_format(tracker, SimpleNamespace(as_dict=lambda: {{}}))
    events = payload["tracker"]["events"]
    assert [e["event"] for e in events] == ["user"] and events[0]["text"] == "二"
    assert payload["tracker"]["latest_message"]["text"] == "二"
    import asyncio, gc
    import rasa.core.run
    parsed = []
    async def load_agent(*args, **kwargs):
        async def parse_message(text):
            parsed.append(text)
        return SimpleNamespace(parse_message=parse_message)
    rasa.core.run.load_agent_on_start = load_agent
    serve.warm_up_on_start()
    assert gc.get_freeze_count() == 0
    asyncio.run(rasa.core.run.load_agent_on_start())
    assert parsed == list(serve.WARM_UP) and gc.get_freeze_count() > 0  # the loaded model frozen
    print("ok")
    """, tmp_path)
    assert out.strip().endswith("ok")


def test_the_last_event_lookup_is_indexed_also_on_databases_made_before(tmp_path: Path) -> None:
    out = run_in_rasa(SCRATCH_PG + """
    import sqlalchemy as sa
    from components.tracker_store import SQLiteTrackerStore, UrlSQLTrackerStore
    try:
        for make in (lambda: SQLiteTrackerStore(db="old.db"), lambda: UrlSQLTrackerStore(host=PG)):
            with make().engine.begin() as conn:       # a database from before the index
                conn.execute(sa.text("DROP INDEX ix_events_sender_id_id"))
            store = make()
            names = {i["name"] for i in sa.inspect(store.engine).get_indexes("events")}
            assert "ix_events_sender_id_id" in names, names
        # 150 conversations of 140 events: PostgreSQL finds a new conversation's last event
        # through the index, not by walking the whole table backwards.
        with store.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO events (sender_id, type_name, data) "
                                 "SELECT 'c' || (g % 150), 'user', '{}' FROM generate_series(1, 21000) g"))
            conn.execute(sa.text("ANALYZE events"))
            plan = " ".join(r[0] for r in conn.execute(
                sa.text("EXPLAIN SELECT max(id) FROM events WHERE sender_id = 'new'")))
        assert "ix_events_sender_id_id" in plan, plan
        store.engine.dispose()
    finally:
        admin.cursor().execute("DROP DATABASE IF EXISTS yibao_store_test WITH (FORCE)")
    print("ok")
    """, tmp_path)
    assert out.strip().endswith("ok")


def test_the_redis_lock_serves_a_conversations_turns_one_at_a_time_across_replicas(
        tmp_path: Path) -> None:
    out = run_in_rasa("""
    import asyncio, time, uuid
    from rasa.core.lock_store import LockError
    from rasa.utils.endpoints import EndpointConfig
    from components.lock_store import UrlRedisLockStore
    replicas = [UrlRedisLockStore(EndpointConfig(url="redis://127.0.0.1:6379/5")) for _ in range(2)]
    conversation = "lock-test-" + uuid.uuid4().hex
    held, most, order = [0], [0], []
    async def turn(i):
        await asyncio.sleep(i * 0.01)                 # arrive in the order of i
        async with replicas[i % 2].lock(conversation, wait_time_in_seconds=0.01):
            held[0] += 1; most[0] = max(most[0], held[0]); order.append(i)
            await asyncio.sleep(0.02)
            held[0] -= 1
    async def main():
        await asyncio.gather(*(turn(i) for i in range(8)))
        assert most[0] == 1 and order == list(range(8)), (most, order)
        assert replicas[0].red.exists(replicas[0].key_prefix + "tickets:" + conversation) == 0
        # A replica that died holding the lock: its ticket expires after the lock lifetime.
        dead = replicas[0].lock(conversation, lock_lifetime=0.3)
        await dead.__aenter__()
        started = time.monotonic()
        async with replicas[1].lock(conversation, wait_time_in_seconds=0.05):
            waited = time.monotonic() - started
        assert 0.25 < waited < 2, waited
        # A waiting turn whose own ticket expired is refused, as Rasa's lock store does.
        other = "lock-test-" + uuid.uuid4().hex
        async with replicas[0].lock(other):
            try:
                async with replicas[1].lock(other, lock_lifetime=0.1, wait_time_in_seconds=0.2):
                    raise AssertionError("held a lock another turn holds")
            except LockError:
                print("ok")
    asyncio.run(main())
    """, tmp_path)
    assert out.strip().endswith("ok")
