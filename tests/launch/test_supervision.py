"""`make run` under supervision: kill -9 of any process restarts it, no message lost or doubled.

Starts the real embedded stack (deploy/launch.py run: the trained Rasa model, the action
server, the gateway) on free ports and a temporary VAR_DIR, then kills each process with
SIGKILL while residents keep writing through the gateway's JSON API.
"""

from __future__ import annotations

import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.launch.stack import Stack

QUESTIONS = ("白银市2022年居民医保个人缴多少钱？", "低保户交多少", "什么时候开始缴费", "新生儿怎么参保")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack("run", tmp_path_factory.mktemp("var"))
    try:
        stack.wait_ready()
        yield stack
    finally:
        stack.stop()


def test_rasa_and_actions_listen_on_loopback_and_rasa_api_needs_the_token(stack: Stack) -> None:
    token = (stack.var / "rasa-token").read_text().strip()
    assert len(token) >= 32
    url = f"http://127.0.0.1:{stack.rasa_port}/status"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=5)
    assert refused.value.code == 401
    with urllib.request.urlopen(f"{url}?token={token}", timeout=5) as resp:
        assert resp.status == 200
    ss = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=True).stdout
    listening = {line.split()[3] for line in ss.splitlines()}
    for name in ("rasa-0", "actions"):
        ports = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True,
                               check=True).stdout
        pid = stack.pid(name)
        mine = [line.split()[3] for line in ports.splitlines() if f"pid={pid}," in line]
        assert mine and all(a.startswith("127.0.0.1:") for a in mine), (name, mine)
    assert f"0.0.0.0:{stack.gateway_port}" in listening  # the one public process
    assert token not in (stack.var / "supervisord.conf").read_text()
    command_line = Path(f"/proc/{stack.pid('rasa-0')}/cmdline").read_bytes().decode()
    assert token not in command_line  # `ps` shows it to every local user


@pytest.mark.parametrize("name", ["actions", "gateway", "rasa-0"])
def test_kill_9_restarts_the_process_and_every_message_is_answered_once(
        stack: Stack, name: str) -> None:
    first = stack.chat(f"{name}-a", QUESTIONS[0])
    assert first["status"] == "answered", first
    stack.kill(name)
    # Residents write while the new process is still starting (Rasa: loading its model, so
    # these are stored as pending; the gateway: the client retries until it is back).
    replies = [stack.chat(f"{name}-a", QUESTIONS[1])]
    replies += [stack.chat(f"{name}-{i}", q) for i, q in enumerate(QUESTIONS[2:])]
    if name == "rasa-0":
        assert any(r["status"] == "pending" for r in replies), replies  # they did wait
    assert all(r["status"] in ("answered", "pending", "duplicate") for r in replies), replies
    stack.wait_answering(name)
    audit = stack.audit()
    assert (audit["messages"], audit["lost"], audit["doubled"]) == (sum(stack.sent.values()), 0, 0)


def test_sigterm_stops_every_process(stack: Stack) -> None:
    pids = [stack.pid(name) for name in ("actions", "rasa-0", "gateway")]
    assert all(pids)
    assert stack.stop() == 0
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
