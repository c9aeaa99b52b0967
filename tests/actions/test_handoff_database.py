"""The action server reaches the configured database with the driver the project installs."""

from __future__ import annotations

from actions.handoff_store import engine_for, list_handoffs, record_handoff

PG = "postgresql://postgres@127.0.0.1:5432/postgres"  # the form deploy/topology.yaml uses


def test_bare_postgresql_url_uses_psycopg_3_and_stores_a_request() -> None:
    engine = engine_for(PG)
    assert engine.dialect.driver == "psycopg"
    ticket = record_handoff("launch-test-sender", "web", "转人工", url=PG)
    try:
        assert any(h["id"] == ticket for h in list_handoffs(status=None, url=PG))
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM handoff_requests WHERE id = %s", (ticket,))
