"""The message store on SQLite and on the local PostgreSQL (database `test`)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from channels import health
from channels.store import MessageStore, utcnow
from tests.channels.conftest import PG_URL, table_prefix
from tests.channels.support import (
    FakeRasa,
    client,
    gateway_app,
    gateway_settings,
    serve,
)
from tests.channels.twilio_support import signed, sms_params


def test_dedupe_and_masking(store: MessageStore) -> None:
    first = store.record_inbound("sms", "+8613812345678", "你好", "twilio:SM1")
    again = store.record_inbound("sms", "+8613812345678", "你好", "twilio:SM1")
    assert not first.duplicate and again.duplicate
    assert again.message.id == first.message.id
    conv = store.list_conversations()[0]
    assert conv.sender_masked == "+86*******5678"
    assert conv.sender_hash == store.sender_hash("sms", "+8613812345678")
    assert "13812345678" not in str(conv.public())
    assert conv.key.startswith("sms-") and "138" not in conv.key
    # the same id on another channel is a different message
    other = store.record_inbound("wechat", "oX", "你好", "twilio:SM1")
    assert not other.duplicate


def test_claims_are_exclusive_across_workers(store: MessageStore) -> None:
    ids = [store.record_inbound("web", f"u{i}", "q", f"m{i}").message.id for i in range(10)]
    with store.engine.begin() as conn:  # as if the handlers had died: claims expired
        conn.execute(update(store.messages).values(claimed_until=utcnow() - timedelta(1)))
    with ThreadPoolExecutor(4) as pool:
        batches = list(pool.map(lambda _: store.claim_due(10), range(4)))
    claimed = [m.id for batch in batches for m in batch]
    assert sorted(claimed) == sorted(ids)  # each exactly once
    assert store.claim_due(10) == []


def test_release_retry_and_give_up(store: MessageStore) -> None:
    store.max_attempts = 2
    mid = store.record_inbound("web", "u", "q", "r1").message.id
    store.release(mid, "down")
    store.release(mid, "down")
    assert store.give_up_exhausted() == 1
    assert store.get_message(mid).status == "failed"  # type: ignore[union-attr]


def test_flags_quota_and_listing(store: MessageStore) -> None:
    inbound = store.record_inbound("wechat", "oA", "hi", "1")
    cid = inbound.conversation.id
    store.set_opted_out(cid, True)
    store.set_taken_over(cid, True)
    conv = store.get_conversation(cid)
    assert conv is not None and conv.opted_out and conv.taken_over
    assert store.take_push_quota(cid, 3600, 2) is None
    assert store.take_push_quota(cid, 3600, 2) is None
    assert store.take_push_quota(cid, 3600, 2) == "quota"
    store.record_inbound("wechat", "oA", "again", "2")  # a new message resets the quota
    assert store.take_push_quota(cid, 3600, 2) is None
    assert store.take_push_quota(cid, 0, 2) == "window"
    out = store.record_outbound(cid, "工作人员回复", "staff", "sent")
    listed = store.list_messages(cid)
    assert [m.direction for m in listed] == ["in", "in", "out"]
    assert listed[-1].id == out.id and listed[-1].public()["author"] == "staff"
    assert store.list_conversations(channel="sms") == []


def test_gateway_runs_on_postgresql(tmp_path: Path) -> None:
    prefix = table_prefix()

    async def main() -> None:
        async with serve(FakeRasa().app()) as rasa_url:
            settings = gateway_settings(tmp_path, rasa_url=rasa_url, database_url=PG_URL,
                                        database_table_prefix=prefix)
            app = gateway_app(settings)
            try:
                async with serve(app) as base, client(base) as http:
                    params = sms_params("会宁县缴费")
                    body, headers = signed(params, f"{settings.public_base_url}/sms/twilio")
                    for _ in range(2):
                        resp = await http.post("/sms/twilio", content=body, headers=headers)
                        assert resp.status_code == 200
                    assert app.ctx.store.count_by_status() == {"delivered": 1}
                    detail = await health.report(app)
                    assert detail["checks"]["database"]["backend"] == "postgresql"
            finally:
                app.ctx.store.drop_all()
                app.ctx.store.engine.dispose()

    asyncio.run(main())
