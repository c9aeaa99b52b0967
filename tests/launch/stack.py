"""The real stack started by deploy/launch.py on free ports, for the supervision test and the
kill-9 script (bench/kill_stack.py): start, talk through the gateway, kill, check the logs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from channels.store import MessageStore
from tests.channels.support import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "launcher-test-sender-hash-secret"


class Stack:
    """One `deploy/launch.py run|cluster` on free ports with its own VAR_DIR."""

    def __init__(self, mode: str, var: Path, env: dict[str, str] | None = None) -> None:
        self.mode, self.var = mode, var
        # cluster: the replicas take the ports just above the balancer's (RASA_PORT + 1 ...)
        self.rasa_port, self.gateway_port = free_port(), free_port()
        self.database_url = (env or {}).get("DATABASE_URL") or f"sqlite:///{var / 'yibao.db'}"
        full = {**os.environ, "RASA_PORT": str(self.rasa_port), "ACTIONS_PORT": str(free_port()),
                "GATEWAY_PORT": str(self.gateway_port), "VAR_DIR": str(var),
                "SENDER_HASH_SECRET": SECRET, "RETRY_INTERVAL_S": "1",
                "API_RATE_CHAT_SENDER": "0", "API_RATE_CHAT_IP": "0", **(env or {})}
        for name in ("RASA_TOKEN",) + (() if env and "DATABASE_URL" in env else ("DATABASE_URL",)):
            full.pop(name, None)
        self.proc = subprocess.Popen([sys.executable, "deploy/launch.py", mode], cwd=ROOT,
                                     env=full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        self.tokens: dict[str, str] = {}
        self.sent: dict[str, int] = {}

    def wait_ready(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("ready in"):
                return
        raise RuntimeError(f"launcher exited before ready: {self.proc.wait()}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=90)

    def pid(self, name: str) -> int:
        out = subprocess.run(
            [str(ROOT / ".venv/bin/supervisorctl"), "-c", str(self.var / "supervisord.conf"),
             "pid", name], capture_output=True, text=True, check=False).stdout.strip()
        return int(out) if out.isdigit() else 0

    def kill(self, name: str, timeout: float = 240) -> float:
        """kill -9 one process; seconds until supervisord runs a new one (not yet answering)."""
        before = self.pid(name)
        assert before, name
        os.kill(before, signal.SIGKILL)
        started = time.monotonic()
        wait(lambda: self.pid(name) not in (0, before), timeout, f"{name} restarted")
        return time.monotonic() - started

    def wait_answering(self, name: str, timeout: float = 240) -> None:
        wait(lambda: self.answers(name), timeout, f"{name} answering")

    def answers(self, name: str) -> bool:
        """The program answers on its port (its `--port` in the supervisor's configuration)."""
        conf = (self.var / "supervisord.conf").read_text().split(f"[program:{name}]", 1)[1]
        port = re.search(r"--port (\d+)", conf.split("[program:", 1)[0])
        if name == "gateway":
            url = f"http://127.0.0.1:{self.gateway_port}/healthz"
        else:
            assert port, name
            url = f"http://127.0.0.1:{port.group(1)}/" + ("health" if name == "actions" else "")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False

    def chat(self, sender: str, text: str, deadline_s: float = 180) -> dict:
        """One message; retried while the gateway itself is down (as a client does)."""
        # A client message id: a retry after the gateway died mid-request is a duplicate.
        number = self.sent.get(sender, 0) + 1
        body = json.dumps({"sender": sender, "message": text,
                           "message_id": f"{sender}-{number}"}).encode()
        headers = {"Content-Type": "application/json"}
        if sender in self.tokens:
            headers["X-Conversation-Token"] = self.tokens[sender]
        deadline = time.monotonic() + deadline_s
        while True:
            request = urllib.request.Request(f"http://127.0.0.1:{self.gateway_port}/api/chat",
                                             data=body, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=60) as resp:
                    reply = json.loads(resp.read())
                    break
            except (urllib.error.URLError, ConnectionError):  # gateway restarting
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        if reply.get("conversation_token"):
            self.tokens.setdefault(sender, reply["conversation_token"])
        self.sent[sender] = number
        return reply

    def store(self) -> MessageStore:
        return MessageStore(self.database_url, hash_secret=SECRET)

    def bot_turns(self, conversation_key: str) -> int:
        """How many resident messages Rasa answered in this conversation (its tracker, read
        with the API token): user events followed by a bot utterance. A try that failed
        (action server down) leaves a user event with no answer and does not count."""
        token = (self.var / "rasa-token").read_text().strip()
        url = (f"http://127.0.0.1:{self.rasa_port}/conversations/{conversation_key}/tracker"
               f"?token={token}")
        with urllib.request.urlopen(url, timeout=10) as resp:
            events = json.loads(resp.read())["events"]
        answered, waiting = 0, False
        for event in events:
            if event["event"] == "user":
                waiting = True
            elif event["event"] == "bot" and waiting:
                answered, waiting = answered + 1, False
        return answered

    def audit(self, timeout: float = 300) -> dict[str, int]:
        """Wait until every accepted message is delivered, then count, per resident message:
        `lost` (no answer), `doubled` (stored, so answered, twice) and, from Rasa's trackers,
        `rasa_reprocessed` (a turn Rasa ran again because the process that asked died before
        storing its answer; the resident still got one answer)."""
        store = self.store()
        wait(lambda: set(store.count_by_status()) <= {"delivered"}, timeout,
             "every message delivered")
        lost = doubled = reprocessed = 0
        for sender, count in self.sent.items():
            conv = store.find_conversation("web", sender)
            inbound = self._inbound(store, conv.id) if conv else []
            lost += max(0, count - sum(1 for m in inbound if m.replies))
            doubled += max(0, len(inbound) - count)
            reprocessed += max(0, self.bot_turns(conv.key) - count) if conv else 0
        return {"messages": sum(self.sent.values()), "lost": lost, "doubled": doubled,
                "rasa_reprocessed": reprocessed}

    @staticmethod
    def _inbound(store: MessageStore, conversation_id: int) -> list:
        messages, after = [], 0
        while page := store.list_messages(conversation_id, limit=500, after_id=after):
            messages += [m for m in page if m.direction == "in"]
            after = page[-1].id
        return messages


def wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)
