"""Issue 12, the public JSON API and the widget: M1 (channel and sender ids), M2 (the
conversation token), M3 (the sender-hash secret), M5 (crafted input), M6 (widget origins) and
resident data in logs. Every test drives the real gateway over HTTP where it can."""

from __future__ import annotations

import ast
import asyncio
import hashlib
import logging
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from channels.app import create_app
from channels.identity import install_log_redaction
from channels.settings import Settings
from channels.store import MessageStore
from tests.channels.conftest import PG_URL, table_prefix
from tests.channels.support import (
    FakeRasa,
    client,
    free_port,
    gateway_app,
    gateway_settings,
    serve,
)

ROOT = Path(__file__).resolve().parents[2]
CHAT_PATHS = ("/api/chat", "/widget/chat")
UPDATE_PATHS = ("/api/chat/updates", "/widget/updates")


def _count(app: Any) -> int:
    return sum(app.ctx.store.count_by_status().values())


# -- M1: channel and sender ids ------------------------------------------------------------
def test_widget_never_uses_the_console_channel(tmp_path: Path) -> None:
    async def main() -> None:
        async with serve(FakeRasa().app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                resp = await http.post("/widget/chat", json={"sender": "w-1", "message": "你好",
                                                             "channel": "console"})
                assert resp.status_code == 400
                assert resp.json()["error"]["code"] == "invalid_channel"
                upd = await http.get("/widget/updates", params={"sender": "w-1",
                                                                "channel": "console"})
                assert upd.status_code == 400
                assert app.ctx.store.list_conversations() == []
                ok = await http.post("/widget/chat", json={"sender": "w-1", "message": "你好"})
                assert ok.status_code == 200
                assert [c.channel for c in app.ctx.store.list_conversations()] == ["web"]

    asyncio.run(main())


def test_api_console_channel_only_with_an_api_key(tmp_path: Path) -> None:
    async def main() -> None:
        async with serve(FakeRasa().app()) as rasa_url:
            open_app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(open_app) as base, client(base) as http:
                resp = await http.post("/api/chat", json={"sender": "c-1", "message": "你好",
                                                          "channel": "console"})
                assert resp.status_code == 400
                assert resp.json()["error"]["code"] == "invalid_channel"
                assert open_app.ctx.store.list_conversations() == []
            (tmp_path / "keyed").mkdir()
            keyed = gateway_app(gateway_settings(tmp_path / "keyed", rasa_url=rasa_url,
                                                 api_keys="k-1"))
            async with serve(keyed) as base, client(base) as http:
                resp = await http.post("/api/chat", headers={"X-API-Key": "k-1"},
                                       json={"sender": "c-1", "message": "你好",
                                             "channel": "console"})
                assert resp.status_code == 200
                assert [c.channel for c in keyed.ctx.store.list_conversations()] == ["console"]

    asyncio.run(main())


@pytest.mark.parametrize("sender", ["abc\n", "a" * 129, "a\tb", "a\x00b", "a\u2028b", "ａbc"])
def test_malformed_sender_ids_are_refused(tmp_path: Path, sender: str) -> None:
    """`abc\\n` passed the old `^...$` check and opened a second conversation beside `abc`."""
    async def main() -> None:
        async with serve(FakeRasa().app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                first = await http.post("/api/chat", json={"sender": "abc", "message": "你好"})
                assert first.status_code == 200
                for path in CHAT_PATHS:
                    resp = await http.post(path, json={"sender": sender, "message": "你好"})
                    assert resp.status_code == 400, (path, resp.text)
                    assert resp.json()["error"]["code"] == "invalid_sender"
                for path in UPDATE_PATHS:
                    resp = await http.get(path, params={"sender": sender})
                    assert resp.status_code == 400, (path, resp.text)
                assert len(app.ctx.store.list_conversations()) == 1

    asyncio.run(main())


# -- M2: the conversation token ------------------------------------------------------------
def _db_values(app: Any) -> list[str]:
    """Every value stored in the conversations table, as text."""
    store = app.ctx.store
    with store.engine.connect() as conn:
        rows = conn.execute(store.conversations.select()).all()
    return [str(v) for row in rows for v in row]


def test_first_reply_carries_a_token_and_only_its_hash_is_stored(tmp_path: Path) -> None:
    async def main() -> None:
        async with serve(FakeRasa().app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                tokens = []
                for path, sender in (("/api/chat", "w-a"), ("/widget/chat", "w-b")):
                    resp = await http.post(path, json={"sender": sender, "message": "你好"})
                    body = resp.json()
                    assert resp.status_code == 200 and body["status"] == "answered"
                    token = body["conversation_token"]
                    assert isinstance(token, str) and len(token) >= 43  # >= 256 bits, base64url
                    tokens.append(token)
                    again = await http.post(path, json={"sender": sender, "message": "再问"},
                                            headers={"X-Conversation-Token": token})
                    assert again.status_code == 200
                    assert "conversation_token" not in again.json()  # issued once
                assert tokens[0] != tokens[1]
                stored = _db_values(app)
                for token in tokens:
                    assert token not in stored
                    assert hashlib.sha256(token.encode()).hexdigest() in stored

    asyncio.run(main())


def test_updates_answer_only_with_the_token(tmp_path: Path) -> None:
    async def main() -> None:
        async with serve(FakeRasa().app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                first = await http.post("/api/chat", json={"sender": "w-victim",
                                                           "message": "我的身份证号是多少"})
                token = first.json()["conversation_token"]
                conv = app.ctx.store.list_conversations()[0]
                await app.ctx.gateway.send_to_conversation(conv.id, "工作人员：请提供手机号")
                for path in UPDATE_PATHS:
                    params = {"sender": "w-victim", "channel": "web", "after": "0"}
                    alone = await http.get(path, params=params)  # the id alone reads nothing
                    assert alone.status_code == 401, alone.text
                    assert alone.json()["error"]["code"] == "conversation_token_required"
                    assert "工作人员" not in alone.text
                    wrong = await http.get(path, params={**params, "conversation_token": "x" * 43})
                    assert wrong.status_code == 403
                    assert wrong.json()["error"]["message"] and "工作人员" not in wrong.text
                    other = await http.get(path, params={**params, "sender": "w-other",
                                                         "conversation_token": token})
                    assert other.status_code == 403  # a token opens its own conversation only
                    by_query = await http.get(path, params={**params, "conversation_token": token})
                    by_header = await http.get(path, params=params,
                                               headers={"X-Conversation-Token": token})
                    for ok in (by_query, by_header):
                        assert ok.status_code == 200
                        assert ok.json()["messages"][-1]["text"] == "工作人员：请提供手机号"
                # a sender that never wrote: the same answers, so no one learns which ids exist
                none = await http.get("/api/chat/updates", params={"sender": "w-nobody"})
                assert none.status_code == 401

    asyncio.run(main())


def test_continuing_a_conversation_needs_its_token(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                first = await http.post("/widget/chat", json={"sender": "w-owner",
                                                              "message": "我是低保户"})
                token = first.json()["conversation_token"]
                calls = len(rasa.calls)
                for path in CHAT_PATHS:
                    for headers in ({}, {"X-Conversation-Token": "forged" * 8}):
                        resp = await http.post(path, headers=headers,
                                               json={"sender": "w-owner", "message": "我交多少钱"})
                        assert resp.status_code == 403, resp.text
                        error = resp.json()["error"]
                        assert error["code"] == "conversation_token_invalid"
                        assert "会话" in error["message"]  # Chinese, fit to show
                assert len(rasa.calls) == calls and _count(app) == 1  # nothing stored or asked
                in_body = await http.post("/api/chat", json={"sender": "w-owner", "message": "好",
                                                             "conversation_token": token})
                assert in_body.status_code == 200 and _count(app) == 2

    asyncio.run(main())


def test_api_key_callers_continue_by_sender_id_but_read_updates_only_with_the_token(
        tmp_path: Path) -> None:
    """A bureau portal's back end (API key) relays its residents by sender id; the public
    widget on the same gateway still needs the token, and so does reading `updates`."""
    async def main() -> None:
        async with serve(FakeRasa().app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url, api_keys="portal-key"))
            key = {"X-API-Key": "portal-key"}
            async with serve(app) as base, client(base) as http:
                first = await http.post("/api/chat", headers=key,
                                        json={"sender": "p-1", "message": "我是低保户"})
                token = first.json()["conversation_token"]
                again = await http.post("/api/chat", headers=key,
                                        json={"sender": "p-1", "message": "我交多少钱"})
                assert again.status_code == 200 and again.json()["status"] == "answered"
                updates = await http.get("/api/chat/updates", headers=key,
                                         params={"sender": "p-1", "channel": "web", "after": 0})
                assert updates.status_code == 401
                updates = await http.get("/api/chat/updates",
                                         headers={**key, "X-Conversation-Token": token},
                                         params={"sender": "p-1", "channel": "web", "after": 0})
                assert updates.status_code == 200
                widget = await http.post("/widget/chat", json={"sender": "p-1", "message": "好"})
                assert widget.status_code == 403
                assert _count(app) == 2

    asyncio.run(main())


def test_conversation_from_before_tokens_cannot_be_claimed_by_the_public(tmp_path: Path) -> None:
    """Whoever knows an old sender id must not get a token for it (and with it the history
    through `updates`); the widget starts a new conversation. A keyed portal may go on."""
    async def main() -> None:
        async with serve(FakeRasa().app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url, api_keys="portal"))
            for sender in ("w-old", "p-old"):  # no token stored
                app.ctx.store.record_inbound("web", sender, "去年的问题", None)
            async with serve(app) as base, client(base) as http:
                resp = await http.post("/widget/chat", json={"sender": "w-old", "message": "在吗"})
                assert resp.status_code == 403 and "conversation_token" not in resp.json()
                upd = await http.get("/widget/updates", params={"sender": "w-old"},
                                     headers={"X-Conversation-Token": "guess" * 9})
                assert upd.status_code == 403
                keyed = await http.post("/api/chat", headers={"X-API-Key": "portal"},
                                        json={"sender": "p-old", "message": "在吗"})
                assert keyed.status_code == 200 and keyed.json()["conversation_token"]
                assert _count(app) == 3  # the refused message was not stored

    asyncio.run(main())


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_database_of_the_previous_version_gains_the_token_column(
    tmp_path: Path, backend: str
) -> None:
    url = f"sqlite:///{tmp_path}/old.db" if backend == "sqlite" else PG_URL
    prefix = table_prefix()
    old = MessageStore(url, table_prefix=prefix, hash_secret="k")
    old.create_all()
    conv_table = old.conversations.name
    try:
        columns = {c["name"] for c in inspect(old.engine).get_columns(conv_table)}
        if "token_hash" in columns:  # make it the previous version's table
            with old.engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {conv_table} DROP COLUMN token_hash"))
        old.engine.dispose()
        with MessageStore(url, table_prefix=prefix, hash_secret="k").engine.begin() as conn:
            conn.execute(text(
                f"INSERT INTO {conv_table} (channel, sender_hash, sender_masked, reply_address, "
                "taken_over, opted_out, pushes_since_inbound, created_at, updated_at) VALUES "
                "('web', 'h', '****', 'w-legacy', false, false, 0, '2025-01-01 00:00:00', "
                "'2025-01-01 00:00:00')"))
        new = MessageStore(url, table_prefix=prefix, hash_secret="k")
        new.create_all()  # a restart on the old database
        new.create_all()  # and another (or a second worker): nothing to do
        columns = {c["name"] for c in inspect(new.engine).get_columns(conv_table)}
        assert "token_hash" in columns
        assert [c.sender_masked for c in new.list_conversations()] == ["****"]
        assert new.record_inbound("web", "w-new", "你好", None).conversation.id > 0
        new.close()
    finally:
        MessageStore(url, table_prefix=prefix, hash_secret="k").drop_all()


# -- M3: the sender-hash secret ------------------------------------------------------------
def _string_constants() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "channels").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def _installation(tmp_path: Path, name: str) -> Settings:
    home = tmp_path / name
    home.mkdir(exist_ok=True)
    return Settings.from_env({"DATABASE_URL": f"sqlite:///{home}/gw.db",
                              "SENDER_HASH_SECRET_FILE": str(home / "var" / "hash-secret")})


def test_hash_secret_is_generated_once_per_installation(tmp_path: Path) -> None:
    phone = "+8613812345678"
    first = create_app(_installation(tmp_path, "a"), name="secret_a1", retry_worker=False)
    secret = first.ctx.store.hash_secret
    again = create_app(_installation(tmp_path, "a"), name="secret_a2", retry_worker=False)
    assert again.ctx.store.hash_secret == secret  # a restart keeps the hashes
    other = create_app(_installation(tmp_path, "b"), name="secret_b", retry_worker=False)
    assert other.ctx.store.sender_hash("sms", phone) != first.ctx.store.sender_hash("sms", phone)
    assert secret not in _string_constants() and len(secret) >= 64
    path = tmp_path / "a" / "var" / "hash-secret"
    assert path.read_text().strip() == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # an explicitly configured secret wins over the file
    explicit = Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path}/a/gw.db",
                                  "SENDER_HASH_SECRET": "configured-" + "x" * 40,
                                  "SENDER_HASH_SECRET_FILE": str(path)})
    configured = create_app(explicit, name="secret_cfg", retry_worker=False)
    assert configured.ctx.store.hash_secret == "configured-" + "x" * 40
    for app in (first, again, other, configured):
        app.ctx.store.engine.dispose()


def test_concurrent_first_starts_agree_on_one_secret(tmp_path: Path) -> None:
    """Workers starting at once on a fresh installation: one creates the file, all read it."""
    from channels.identity import load_sender_hash_secret  # new in issue 12
    path = tmp_path / "var" / "hash-secret"
    found: list[str] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        found.append(load_sender_hash_secret("", path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(found) == 8 and len(set(found)) == 1
    assert [p.name for p in path.parent.iterdir()] == ["hash-secret"]  # no temporary left


def test_gateway_refuses_to_start_without_a_usable_secret(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    bad = {"DATABASE_URL": f"sqlite:///{tmp_path}/gw.db",
           "SENDER_HASH_SECRET_FILE": str(blocker / "hash-secret")}
    with pytest.raises(Exception, match="SENDER_HASH_SECRET"):
        create_app(Settings.from_env(bad), name="secret_refused", retry_worker=False)
    port = free_port()
    env = {**os.environ, **bad, "PORT": str(port), "HOST": "127.0.0.1", "SENDER_HASH_SECRET": "",
           "RASA_URL": f"http://127.0.0.1:{free_port()}"}
    proc = subprocess.Popen([sys.executable, "-m", "channels"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise AssertionError("the gateway started without a usable hash secret") from None
    assert proc.returncode != 0
    assert b"SENDER_HASH_SECRET" in out and b"Traceback" not in out


# -- M5: crafted input ---------------------------------------------------------------------
def test_deeply_nested_json_is_a_400(tmp_path: Path) -> None:
    async def main() -> None:
        app = gateway_app(gateway_settings(tmp_path))
        async with serve(app) as base, client(base) as http:
            for body in (b"[" * 10_000 + b"]" * 10_000,
                         b'{"sender": "w-1", "message": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
                         b'{"a": ' * 5_000 + b"1" + b"}" * 5_000):
                for path in CHAT_PATHS:
                    resp = await http.post(path, content=body,
                                           headers={"Content-Type": "application/json"})
                    assert resp.status_code == 400, (path, resp.status_code)
                    assert resp.json()["error"]["code"] == "invalid_json"
            # brackets inside strings are text, not nesting
            ok = await http.post("/api/chat", json={"sender": "w-1", "message": "[" * 300})
            assert ok.status_code == 200
            assert _count(app) == 1

    asyncio.run(main())


def test_lone_surrogate_and_nul_are_stored_replaced_not_a_500(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                for path, sender in (("/api/chat", "w-s1"), ("/widget/chat", "w-s2")):
                    raw = b'{"sender": "%s", "message": "\\ud800\xe7\xbc\xb4\\u0000\\ud83d\\ude00"}'
                    resp = await http.post(path, content=raw % sender.encode(),
                                           headers={"Content-Type": "application/json"})
                    assert resp.status_code == 200, resp.text
                    assert resp.json()["status"] == "answered"
                texts = [m.text for c in app.ctx.store.list_conversations()
                         for m in app.ctx.store.list_messages(c.id)]
                assert texts == ["\ufffd缴\ufffd\U0001f600"] * 2  # kept, not lost
                bad_id = await http.post("/api/chat", content=b'{"sender": "w-s3", "message": '
                                         b'"hi", "message_id": "\\udc00"}',
                                         headers={"Content-Type": "application/json"})
                assert bad_id.status_code == 400
                assert bad_id.json()["error"]["code"] == "invalid_message_id"

    asyncio.run(main())


@pytest.mark.parametrize("after", ["9" * 20, "-1", "abc", "1e3", " 5", "\uff15", "1_000"])
def test_bad_after_is_a_400(tmp_path: Path, after: str) -> None:
    """Checked before anything else about the request: no token needed to learn it is bad."""
    async def main() -> None:
        async with serve(FakeRasa().app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                first = await http.post("/api/chat", json={"sender": "w-after", "message": "你好"})
                token = first.json().get("conversation_token", "")
                for path in UPDATE_PATHS:
                    resp = await http.get(path, params={"sender": "w-after", "after": after})
                    assert resp.status_code == 400, (path, resp.status_code, resp.text)
                    assert resp.json()["error"]["code"] == "invalid_after"
                ok = await http.get("/api/chat/updates", params={"sender": "w-after",
                                                                 "after": "9" * 18},
                                    headers={"X-Conversation-Token": token})
                assert ok.status_code == 200 and ok.json()["messages"] == []

    asyncio.run(main())


def test_long_sender_and_message_id_fit_the_external_id_column(tmp_path: Path) -> None:
    """`<sender>:<message_id>` can reach 193 characters; PostgreSQL's VARCHAR(128) refused
    it with an error (503) instead of storing the message."""
    prefix = table_prefix()

    async def main() -> None:
        async with serve(FakeRasa().app()) as rasa_url:
            settings = gateway_settings(tmp_path, rasa_url=rasa_url, database_url=PG_URL,
                                        database_table_prefix=prefix)
            app = gateway_app(settings)
            try:
                async with serve(app) as base, client(base) as http:
                    payload = {"sender": "s" * 128, "message": "你好", "message_id": "m" * 64}
                    resp = await http.post("/api/chat", json=payload)
                    assert resp.status_code == 200, resp.text
                    token = resp.json()["conversation_token"]
                    again = await http.post("/api/chat", json=payload,
                                            headers={"X-Conversation-Token": token})
                    assert again.json()["status"] == "duplicate"
            finally:
                app.ctx.store.drop_all()
                app.ctx.store.engine.dispose()

    asyncio.run(main())


# -- M6: widget origins --------------------------------------------------------------------
def test_widget_origins_default_to_the_public_base_url(tmp_path: Path) -> None:
    async def main() -> None:
        async with serve(FakeRasa().app()) as rasa_url:
            settings = gateway_settings(tmp_path, rasa_url=rasa_url,
                                        public_base_url="https://yibao.example.gov.cn/gw/")
            app = gateway_app(settings)
            async with serve(app) as base, client(base) as http:
                msg = {"sender": "w-o", "message": "你好"}
                evil = await http.post("/widget/chat", json=msg,
                                       headers={"Origin": "https://evil.example"})
                assert evil.status_code == 403
                assert "access-control-allow-origin" not in evil.headers
                pre = await http.options("/widget/updates", headers={
                    "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
                assert "access-control-allow-origin" not in pre.headers
                own = await http.post("/widget/chat", json=msg,
                                      headers={"Origin": "https://yibao.example.gov.cn"})
                assert own.status_code == 200
                assert own.headers["access-control-allow-origin"] == "https://yibao.example.gov.cn"
            (tmp_path / "any").mkdir()
            anyone = gateway_app(gateway_settings(tmp_path / "any", rasa_url=rasa_url,
                                                  widget_allowed_origins="*"))
            async with serve(anyone) as base, client(base) as http:
                resp = await http.post("/widget/chat", json={"sender": "w-o", "message": "你好"},
                                       headers={"Origin": "https://evil.example"})
                assert resp.status_code == 200
                assert resp.headers["access-control-allow-origin"] == "*"

    asyncio.run(main())


# -- logs: no resident identifiers ---------------------------------------------------------
PHONE = "+8613812345678"


def _no_phone(log_text: str) -> None:
    assert "13812345678" not in log_text and "1381234" not in log_text, log_text


def test_database_error_with_a_phone_parameter_logs_no_phone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = gateway_app(gateway_settings(tmp_path))
    store = app.ctx.store
    log = logging.getLogger("channels.service")
    try:
        with store.engine.connect() as conn:
            conn.execute(text(f"SELECT * FROM {store.conversations.name} WHERE nope = :p"),
                         {"p": PHONE})
    except SQLAlchemyError:
        log.exception("store call failed")
    else:
        raise AssertionError("the statement should have failed")
    assert "store call failed" in caplog.text and "Traceback" in caplog.text
    _no_phone(caplog.text)
    store.engine.dispose()


def test_exception_text_in_logs_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    install_log_redaction()
    openid = "oAbCdEfGhIjKlMnOpQrStUvWxYz0"
    try:
        raise ValueError(f"push to {PHONE} and {openid} failed")
    except ValueError:
        logging.getLogger("channels.sms").exception("delivery failed")
    _no_phone(caplog.text)
    assert openid not in caplog.text and "delivery failed" in caplog.text


def test_unhandled_request_error_logs_no_phone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A 5xx's traceback, as the app's error handler logs it."""
    caplog.set_level(logging.INFO)

    async def main() -> None:
        app = gateway_app(gateway_settings(tmp_path))

        @app.get("/boom")
        async def boom(request: Any) -> None:
            with app.ctx.store.engine.connect() as conn:
                conn.execute(text("SELECT * FROM missing_table WHERE phone = :p"), {"p": PHONE})

        async with serve(app) as base, client(base) as http:
            resp = await http.get("/boom")
            assert resp.status_code == 503 and resp.json()["error"]["message"]
        app.ctx.store.engine.dispose()

    asyncio.run(main())
    assert "missing_table" in caplog.text
    _no_phone(caplog.text)

