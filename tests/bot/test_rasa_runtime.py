"""Rasa-side modules (bot/components) that need the Rasa environment: run in .venv-rasa."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"


def run_in_rasa(code: str, tmp_path: Path) -> str:
    if not RASA_PYTHON.exists():
        pytest.fail("the Rasa environment is missing: run `make train` (or `make test`) first")
    proc = subprocess.run([str(RASA_PYTHON), "-c", textwrap.dedent(code)], cwd=tmp_path,
                          env={"PYTHONPATH": str(ROOT / "bot"), "TF_CPP_MIN_LOG_LEVEL": "3"},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_action_responses_are_still_validated_against_rasas_schema(tmp_path: Path) -> None:
    out = run_in_rasa("""
        import components.nlu  # what Rasa imports with the model
        from jsonschema import ValidationError
        from rasa.core.actions.action import RemoteAction
        from components.action_response_schema import validate_action_result
        assert RemoteAction._validate_action_result is validate_action_result
        action = RemoteAction("action_answer", None)
        ok = {"events": [{"event": "slot", "name": "topic", "value": "fee"}],
              "responses": [{"text": "会宁县2022年个人缴费320元"}]}
        assert action._validate_action_result(ok) is True
        for bad in ({"events": [{"event": "slot", "name": 5}]}, {"responses": "text"},
                    {"events": [{"event": "no_such_event"}]}):
            try:
                action._validate_action_result(bad)
            except ValidationError as e:
                assert "Failed to validate Action server response" in e.message
            else:
                raise AssertionError(bad)
        print("ok")
        """, tmp_path)
    assert out.strip().endswith("ok")


def test_sqlite_tracker_store_keeps_conversations_in_wal_mode(tmp_path: Path) -> None:
    out = run_in_rasa("""
        import asyncio, sqlite3
        from components.tracker_store import SQLiteTrackerStore
        from rasa.shared.core.domain import Domain
        from rasa.shared.core.events import ActionExecuted, UserUttered
        from rasa.shared.core.trackers import DialogueStateTracker

        async def main():
            store = SQLiteTrackerStore(Domain.empty(), db="t.db", host="ignored")
            tracker = DialogueStateTracker("resident-1", [])
            tracker.update(UserUttered("会宁县交多少钱", {"name": "ask_fee", "confidence": 1.0}))
            await store.save(tracker)
            tracker.update(ActionExecuted("action_answer"))
            await store.save(tracker)  # only the new event is added
            again = await SQLiteTrackerStore(Domain.empty(), db="t.db").retrieve("resident-1")
            assert [e.type_name for e in again.events] == ["user", "action"], again.events

        asyncio.run(main())
        db = sqlite3.connect("t.db")
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT count(*) FROM events").fetchone()[0] == 2
        print("ok")
        """, tmp_path)
    assert out.strip().endswith("ok")
