"""The message store fixture shared by the store tests: SQLite and the local PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from channels.store import MessageStore

PG_URL = os.environ.get(
    "CHANNELS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def table_prefix() -> str:
    """A fresh table prefix, so tests on the shared PostgreSQL database never meet."""
    return f"t{uuid.uuid4().hex[:10]}_"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MessageStore]:
    url = f"sqlite:///{tmp_path}/store.db" if request.param == "sqlite" else PG_URL
    s = MessageStore(url, table_prefix=table_prefix(), hash_secret="k", claim_ttl_s=30)
    s.create_all()
    try:
        yield s
    finally:
        s.close()  # the hot path's own connections, before the tables go
        s.drop_all()
        s.engine.dispose()
