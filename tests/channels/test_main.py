"""`python -m channels` serves the gateway configured from environment variables."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from channels.settings import Settings
from tests.channels.support import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_settings_from_env() -> None:
    s = Settings.from_env({"PORT": "8100", "RASA_URL": "http://rasa:5005/", "WECHAT_TOKEN": "t",
                           "WECHAT_REPLY_BUDGET_S": "3.5", "TWILIO_AUTH_TOKEN": ""})
    assert s.port == 8100 and s.rasa_url == "http://rasa:5005"
    assert s.wechat_enabled and not s.twilio_enabled and s.wechat_reply_budget_s == 3.5
    assert s.database_url == "sqlite:///var/yibao.db"  # the action server's handoff queue too
    try:
        Settings.from_env({"PORT": "eighty"})
    except ValueError as exc:
        assert "PORT" in str(exc)
    else:
        raise AssertionError("a bad number must be reported")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_python_m_channels_serves_healthz(tmp_path: Path, workers: str) -> None:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "WORKERS": workers,
           "DATABASE_URL": f"sqlite:///{tmp_path}/gw.db", "RASA_URL": f"http://127.0.0.1:{free_port()}",
           "SENDER_HASH_SECRET_FILE": f"{tmp_path}/var/sender-hash-secret"}
    log = tmp_path / "gateway.log"
    proc = subprocess.Popen([sys.executable, "-m", "channels"], cwd=ROOT, env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)  # its own group: workers die with it
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                resp = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "gateway did not start"
                time.sleep(0.2)
        assert resp.status_code == 200
        assert resp.json() == {"status": "degraded"}  # database up, Rasa down
        # a channel without its secret refuses traffic instead of accepting it unsigned
        assert httpx.post(f"http://127.0.0.1:{port}/wechat", content=b"<xml/>").status_code == 503
        assert httpx.post(f"http://127.0.0.1:{port}/sms/twilio", content=b"").status_code == 404
        # the workers shared one generated hash secret (no constant fallback)
        assert len((tmp_path / "var" / "sender-hash-secret").read_text().strip()) == 64
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise AssertionError("gateway did not stop on SIGTERM") from None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # any worker left behind
