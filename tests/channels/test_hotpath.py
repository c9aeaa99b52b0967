"""The per-message store path (raw DBAPI statements) and the store-thread hand-off."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from channels.store import DELIVERED, PENDING, MessageStore
from channels.store_threads import StoreThreads


def test_inbound_is_stored_claimed_and_readable_by_core_queries(store: MessageStore) -> None:
    first = store.record_inbound("sms", "+8613812345678", "你好", "twilio:SM1")
    msg, conv = first.message, first.conversation
    assert msg.status == PENDING and msg.direction == "in" and msg.attempts == 0
    assert conv.reply_address == "+8613812345678" and conv.last_inbound_at is not None
    assert conv.taken_over is False and conv.opted_out is False
    with store.engine.connect() as c:  # claimed by the request that stored it
        claimed = c.execute(select(store.messages.c.claimed_until)
                            .where(store.messages.c.id == msg.id)).scalar_one()
    assert claimed is not None and claimed > msg.created_at
    assert store.claim_due() == []  # the retry worker keeps off a claimed message
    store.finish(msg.id, DELIVERED, [{"text": "答复", "buttons": [], "links": []}], "inline")
    again = store.get_message(msg.id)
    assert again is not None and again.status == DELIVERED and again.delivery == "inline"
    assert again.replies[0]["text"] == "答复"
    store.finish(msg.id, DELIVERED, None, None, "later error")  # None keeps reply, delivery
    kept = store.get_message(msg.id)
    assert kept is not None and kept.replies and kept.delivery == "inline"
    assert kept.last_error == "later error"
    # a second message of the same resident reuses the conversation
    second = store.record_inbound("sms", "+8613812345678", "再问", None)
    assert second.conversation.id == conv.id and second.message.id > msg.id


def test_duplicate_changes_nothing(store: MessageStore) -> None:
    first = store.record_inbound("wechat", "oUser", "你好", "m1")
    before = store.get_conversation(first.conversation.id)
    dup = store.record_inbound("wechat", "oUser", "你好", "m1")
    assert dup.duplicate and dup.message.id == first.message.id
    assert dup.conversation == before
    assert store.get_conversation(first.conversation.id) == before  # not touched
    # a replayed id from another sender neither stores nor creates anything
    other = store.record_inbound("wechat", "oOther", "你好", "m1")
    assert other.duplicate and other.message.id == first.message.id
    assert store.find_conversation("wechat", "oOther") is None
    assert len(store.list_conversations()) == 1
    assert sum(store.count_by_status().values()) == 1


def test_concurrent_first_messages_make_one_conversation(store: MessageStore) -> None:
    ids: list[int] = []
    barrier = threading.Barrier(4)

    def send(i: int) -> None:
        barrier.wait()
        ids.append(store.record_inbound("web", "w-same", f"q{i}", f"w-same:{i}").conversation.id)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 1 and len(ids) == 4


def test_conversation_token_is_issued_once_and_checked_in_the_transaction(
    store: MessageStore,
) -> None:
    from channels.store import TokenCheck, TokenRefused  # new in issue 12

    first = store.record_inbound("web", "w-t", "你好", "w-t:1", TokenCheck(None, "h1"))
    assert first.token_issued and first.conversation.token_hash == "h1"
    assert "h1" not in repr(first.conversation) and "token" not in str(first.conversation.public())
    before = store.get_conversation(first.conversation.id)
    for presented in (None, "h2", "h1x"):
        with pytest.raises(TokenRefused):
            store.record_inbound("web", "w-t", "冒充", "w-t:2", TokenCheck(presented, "h9"))
    assert store.get_conversation(first.conversation.id) == before  # not even touched
    assert sum(store.count_by_status().values()) == 1
    again = store.record_inbound("web", "w-t", "再问", "w-t:3", TokenCheck("h1", "h3"))
    assert not again.token_issued and again.conversation.token_hash == "h1"
    # a conversation from before tokens: the public cannot claim it; a keyed caller gives it one
    store.record_inbound("web", "w-old", "旧", "w-old:1")
    with pytest.raises(TokenRefused):
        store.record_inbound("web", "w-old", "新", "w-old:2", TokenCheck(None, "h4"))
    assert store.find_conversation("web", "w-old").token_hash is None  # type: ignore[union-attr]
    legacy = store.record_inbound("web", "w-old", "新", "w-old:2",
                                  TokenCheck(None, "h5", trusted=True))
    assert legacy.token_issued and legacy.conversation.token_hash == "h5"
    # SMS and WeChat have no tokens
    assert store.record_inbound("sms", "+8613812345678", "你好", None).conversation.token_hash is None


def test_racing_first_messages_issue_one_token(store: MessageStore) -> None:
    from channels.identity import token_digest  # new in issue 12
    from channels.store import TokenCheck, TokenRefused

    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def send(i: int) -> None:
        barrier.wait()
        try:
            got = store.record_inbound("web", "w-race", f"q{i}", None,
                                       TokenCheck(None, token_digest(f"t{i}")))
            outcomes.append("issued" if got.token_issued else "kept")
        except TokenRefused:
            outcomes.append("refused")

    threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["issued", "refused", "refused", "refused"]
    assert sum(store.count_by_status().values()) == 1


def test_database_error_is_a_sqlalchemy_error_and_the_path_recovers(store: MessageStore) -> None:
    store.record_inbound("web", "w-1", "q", None)
    with store.engine.begin() as c:
        c.execute(text(f"DROP TABLE {store.messages.name}"))
    with pytest.raises(SQLAlchemyError):  # the app answers 503 for these
        store.record_inbound("web", "w-1", "q", None)
    store.messages.create(store.engine)
    assert not store.record_inbound("web", "w-1", "q", None).duplicate


def test_store_threads_return_results_and_errors_in_order() -> None:
    async def main() -> None:
        threads = StoreThreads(1)
        seen: list[int] = []

        def work(i: int) -> int:
            seen.append(i)
            return i * 2

        def boom() -> None:
            raise ValueError("bad")

        results = await asyncio.gather(*(threads.call(work, i) for i in range(50)))
        assert results == [i * 2 for i in range(50)] and seen == list(range(50))
        with pytest.raises(ValueError, match="bad"):
            await threads.call(boom)
        await asyncio.to_thread(threads.shutdown)
        with pytest.raises(RuntimeError):
            await threads.call(work, 1)

    asyncio.run(main())


def test_manual_checkpoints_keep_commits_durable_and_empty_the_wal(tmp_path: Path) -> None:
    """With the gateway's background checkpoints the hot path's commits never checkpoint;
    what they committed is read by a fresh store (a restart), and `checkpoint` moves it into
    the database file."""
    url = f"sqlite:///{tmp_path}/store.db"
    s = MessageStore(url, table_prefix="gw_", hash_secret="k")
    s.create_all()
    s.manual_checkpoints()
    ids = [s.record_inbound("web", f"u{i}", "问", f"u{i}:1").message.id for i in range(50)]
    conn = s._hot._idle.get_nowait()
    assert conn.driver_connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    s._hot._idle.put(conn)
    wal = tmp_path / "store.db-wal"
    assert wal.stat().st_size > 0
    again = MessageStore(url, table_prefix="gw_", hash_secret="k")  # another process's view
    assert all(again.get_message(i) is not None for i in ids)
    again.engine.dispose()
    s.checkpoint()
    with s._hot._checkpoint_conn.driver_connection as raw:  # everything copied, nothing left
        busy, frames, copied = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0 and frames == copied
    s.close()
    s.engine.dispose()
