"""The console shows and filters by Beijing time (UTC+8), whatever the server's own zone."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from channels.console import clock
from tests.channels.support import client, serve
from tests.console.support import console_app, console_env, sign_in

# 17:30 UTC on 1 December is 01:30 on 2 December in Beijing.
STORED_UTC = datetime(2026, 12, 1, 17, 30, 0)


@pytest.fixture
def server_in_new_york(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_clock_converts_stored_utc_to_beijing() -> None:
    assert clock.label(STORED_UTC) == "2026-12-02 01:30:00"
    assert clock.iso(STORED_UTC) == "2026-12-02T01:30:00+08:00"
    assert clock.day_start_utc(datetime(2026, 12, 2).date()) == datetime(2026, 12, 1, 16, 0)


def test_transcript_list_and_date_filter_use_beijing_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server_in_new_york: None) -> None:
    console_env(monkeypatch, tmp_path)
    app = console_app(tmp_path)

    async def main() -> None:
        async with serve(app) as base, client(base) as http:
            store = app.ctx.store
            inbound = store.record_inbound("web", "w-night", "会宁县交多少钱", None)
            with store.engine.begin() as conn:
                conn.execute(update(store.messages)
                             .where(store.messages.c.id == inbound.message.id)
                             .values(created_at=STORED_UTC, status="delivered"))
                conn.execute(update(store.conversations)
                             .where(store.conversations.c.id == inbound.conversation.id)
                             .values(updated_at=STORED_UTC))
            assert (await sign_in(http)).status_code == 302
            cid = inbound.conversation.id

            async def listed(day: str) -> set[int]:
                resp = await http.get(f"/console/api/conversations?date={day}")
                assert resp.status_code == 200, resp.text
                return {c["id"] for c in resp.json()["conversations"]}

            assert cid in await listed("2026-12-02")
            assert cid not in await listed("2026-12-01")
            page = await http.get(f"/console/conversations/{cid}")
            assert "2026-12-02 01:30:00" in page.text
            assert "2026-12-01 17:30" not in page.text and "2026-12-01 12:30" not in page.text
            rows = (await http.get("/console/api/conversations")).json()["conversations"]
            assert [r["last_at"] for r in rows if r["id"] == cid] == ["2026-12-02T01:30:00+08:00"]

    asyncio.run(main())
