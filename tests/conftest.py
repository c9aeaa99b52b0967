"""Shared fixtures. ``rasa_url``: one live Rasa + action server stack per test session.

The stack is the real thing: the trained model (``make train`` / ``bot/scripts/train.py``;
trained here when missing or stale), ``rasa run --enable-api`` with the REST channel and an
SQLite tracker store, and the rasa-sdk action server, on free ports with a temporary
endpoints file. Handoff requests go to the SQLite database named by ``handoff_db_url``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.scripts.endpoints import endpoints_for

ROOT = Path(__file__).resolve().parents[1]
RASA_VENV = ROOT / ".venv-rasa"
MODEL = ROOT / "bot" / "models" / "current.tar.gz"
START_TIMEOUT_S = 240


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ensure_model() -> Path:
    rasa_python = RASA_VENV / "bin" / "python"
    if not rasa_python.exists():
        pytest.fail("the Rasa environment is missing: run `make train` (or `make test`) first")
    # train.py is a no-op when the model for the current bot files exists.
    subprocess.run([str(rasa_python), str(ROOT / "bot" / "scripts" / "train.py")],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return MODEL.resolve()


def _wait(url: str, procs: list[subprocess.Popen], logs: list[Path]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        for proc, log in zip(procs, logs, strict=True):
            if proc.poll() is not None:
                pytest.fail(f"{proc.args[:3]} exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} not ready after {START_TIMEOUT_S} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def handoff_db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Where the live action server writes handoff requests (see actions/handoff_store.py)."""
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'yibao.db'}"


@pytest.fixture(scope="session")
def tracker_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The live stack's SQLite tracker store file (the store of bot/endpoints.yml)."""
    return tmp_path_factory.mktemp("tracker") / "tracker.db"


@pytest.fixture(scope="session")
def rasa_url(tmp_path_factory: pytest.TempPathFactory, handoff_db_url: str,
             tracker_db: Path) -> Iterator[str]:
    """Base URL of a live Rasa server (REST channel + HTTP API) wired to a live action server."""
    # BOT_MODEL runs the live tests against another model (e.g. a pipeline being compared).
    model = Path(os.environ["BOT_MODEL"]) if os.environ.get("BOT_MODEL") else _ensure_model()
    work = tmp_path_factory.mktemp("rasa-stack")
    rasa_port, actions_port = _free_port(), _free_port()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(endpoints_for(actions_port, tracker_db), encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": handoff_db_url, "PYTHONPATH": str(ROOT / "bot"),
           "SANIC_NO_UVLOOP": "1"}
    logs = [work / "actions.log", work / "rasa.log"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "actions.server", "--port", str(actions_port)],
            cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}, start_new_session=True,
            stdout=logs[0].open("w"), stderr=subprocess.STDOUT),
        subprocess.Popen(
            [str(RASA_VENV / "bin" / "python"), str(ROOT / "bot" / "scripts" / "serve.py"), "run",
             "-m", str(model), "--enable-api",
             "-i", "127.0.0.1", "--port", str(rasa_port), "--endpoints", str(endpoints),
             "--credentials", str(ROOT / "bot" / "credentials.yml")],
            cwd=ROOT, env=env, start_new_session=True,
            stdout=logs[1].open("w"), stderr=subprocess.STDOUT),
    ]
    try:
        _wait(f"http://127.0.0.1:{actions_port}/health", procs, logs)
        _wait(f"http://127.0.0.1:{rasa_port}/status", procs, logs)
        yield f"http://127.0.0.1:{rasa_port}"
    finally:
        for proc in reversed(procs):
            _stop(proc)


class Conversation:
    """One resident talking to the live bot over the REST channel."""

    def __init__(self, base_url: str, channel: str = "web") -> None:
        self.url = f"{base_url}/webhooks/rest/webhook"
        self.sender = f"test-{uuid.uuid4().hex[:12]}"
        self.channel = channel

    def say(self, text: str) -> list[dict[str, Any]]:
        resp = httpx.post(self.url, json={"sender": self.sender, "message": text,
                                          "metadata": {"channel": self.channel}}, timeout=60)
        assert resp.status_code == 200, resp.text
        return resp.json()

    @staticmethod
    def text(messages: list[dict[str, Any]]) -> str:
        return "\n".join(m.get("text", "") for m in messages if m.get("text"))

    @staticmethod
    def custom(messages: list[dict[str, Any]]) -> dict[str, Any]:
        return next((m["custom"] for m in messages if isinstance(m.get("custom"), dict)), {})


@pytest.fixture
def conversation(rasa_url: str) -> Conversation:
    """A fresh web-channel conversation with the live bot (``.say(text)`` → messages)."""
    return Conversation(rasa_url)
