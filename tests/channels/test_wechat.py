"""WeChat Official Account webhook through the real gateway (wechatpy-built messages)."""

from __future__ import annotations

import asyncio
import hmac
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from sanic import Sanic
from sqlalchemy.exc import OperationalError

from channels.store import MessageStore
from channels.wechat.inbound import Refused, verify_post
from channels.wechat.replay import NonceLedger, Seen
from channels.wechat.xmlsafe import parse_xml
from tests.channels.conftest import PG_URL, table_prefix
from tests.channels.support import (
    AES_KEY,
    WECHAT_TOKEN,
    FakeRasa,
    FakeWeChatApi,
    client,
    gateway_app,
    gateway_settings,
    serve,
    wait_for,
)
from tests.channels.wechat_support import (
    ACCOUNT,
    crypto,
    decrypt_reply,
    encrypt,
    event_xml,
    image_xml,
    new_nonce,
    plain_request,
    safe_body,
    safe_request,
    sign,
    text_xml,
)


@pytest.mark.parametrize("aes_key", ["", AES_KEY], ids=["plaintext-mode", "safe-mode"])
def test_url_verification(tmp_path: Path, aes_key: str) -> None:
    """In safe mode WeChat still verifies the URL with signature + plaintext echostr."""

    async def main() -> None:
        app = gateway_app(gateway_settings(tmp_path, wechat_encoding_aes_key=aes_key))
        async with serve(app) as base, client(base) as http:
            ts, nonce = str(int(time.time())), "n1"
            good = {"signature": sign(WECHAT_TOKEN, ts, nonce), "timestamp": ts,
                    "nonce": nonce, "echostr": "echo-1234"}
            resp = await http.get(f"/wechat?{urlencode(good)}")
            assert resp.status_code == 200 and resp.text == "echo-1234"
            bad = dict(good, signature="f" * 40)
            resp = await http.get(f"/wechat?{urlencode(bad)}")
            assert resp.status_code == 403

    asyncio.run(main())


def test_plaintext_message_gets_passive_reply_once(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                path, body = plain_request(text_xml("会宁县缴费标准", msg_id=42))
                resp = await http.post(path, content=body)
                assert resp.status_code == 200
                reply = parse_xml(resp.content)
                assert reply["ToUserName"] == "oUser123"
                assert reply["FromUserName"] == ACCOUNT
                assert reply["MsgType"] == "text"
                assert reply["Content"] == "答复：会宁县缴费标准"
                assert rasa.calls[-1]["metadata"] == {"channel": "wechat"}
                # WeChat retries the same MsgId: answered once
                for _ in range(3):
                    path, body = plain_request(text_xml("会宁县缴费标准", msg_id=42))
                    again = await http.post(path, content=body)
                    assert again.text == "success"
                assert len(rasa.calls) == 1

    asyncio.run(main())


def test_forged_signature_rejected_without_side_effects(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            settings = gateway_settings(tmp_path, rasa_url=rasa_url,
                                        wechat_encoding_aes_key=AES_KEY)
            app = gateway_app(settings)
            async with serve(app) as base, client(base) as http:
                path, body = plain_request(text_xml("你好"), token="wrong-token")
                assert (await http.post(path, content=body)).status_code == 403
                path, body, _, _ = safe_request(text_xml("你好"), forge_msg_signature=True)
                assert (await http.post(path, content=body)).status_code == 403
                assert rasa.calls == []
                assert app.ctx.store.list_conversations() == []

    asyncio.run(main())


def test_safe_mode_round_trip(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            settings = gateway_settings(tmp_path, rasa_url=rasa_url,
                                        wechat_encoding_aes_key=AES_KEY)
            app = gateway_app(settings)
            async with serve(app) as base, client(base) as http:
                path, body, ts, nonce = safe_request(text_xml("白银市新生儿参保"))
                resp = await http.post(path, content=body)
                assert resp.status_code == 200
                reply = decrypt_reply(resp.text, ts, nonce)
                assert reply["Content"] == "答复：白银市新生儿参保"
                assert reply["ToUserName"] == "oUser123"

    asyncio.run(main())


def test_subscribe_welcome_other_types_and_event_dedupe(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                path, body = plain_request(event_xml("subscribe", create_time=1700000001))
                welcome = parse_xml((await http.post(path, content=body)).content)
                assert "欢迎关注" in welcome["Content"] and "12393" in welcome["Content"]
                path, body = plain_request(event_xml("subscribe", create_time=1700000001))
                assert (await http.post(path, content=body)).text == "success"
                path, body = plain_request(image_xml())
                polite = parse_xml((await http.post(path, content=body)).content)
                assert "文字" in polite["Content"]
                path, body = plain_request(event_xml("unsubscribe"))
                assert (await http.post(path, content=body)).text == "success"
                assert rasa.calls == []
                conv = app.ctx.store.list_conversations()[0]
                assert conv.opted_out  # no customer-service message after unsubscribing
                sent = await app.ctx.gateway.send_to_conversation(conv.id, "您好")
                assert sent.status == "failed" and sent.last_error == "opted_out"
                path, body = plain_request(event_xml("subscribe", create_time=1700000099))
                await http.post(path, content=body)
                assert not app.ctx.store.get_conversation(conv.id).opted_out

    asyncio.run(main())


def test_slow_backend_replies_success_then_pushes_once(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa(delay_s=2.0)
        api = FakeWeChatApi()
        async with serve(rasa.app()) as rasa_url, serve(api.app()) as api_url:
            settings = gateway_settings(tmp_path, rasa_url=rasa_url, wechat_api_base_url=api_url,
                                        wechat_reply_budget_s=0.5)
            app = gateway_app(settings)
            async with serve(app) as base, client(base) as http:
                path, body = plain_request(text_xml("退役军人参保", openid="oSlow"))
                started = time.monotonic()
                resp = await http.post(path, content=body)
                assert time.monotonic() - started < 1.5
                assert resp.text == "success"
                await wait_for(lambda: len(api.sent) == 1)
                assert api.sent[0] == {"touser": "oSlow", "msgtype": "text",
                                       "text": {"content": "答复：退役军人参保"}}
                await asyncio.sleep(1.0)  # the retry worker must not send it again
                assert len(api.sent) == 1 and len(rasa.calls) == 1
                assert app.ctx.store.count_by_status() == {"delivered": 1}

    asyncio.run(main())


def test_backend_down_apologises_then_pushes_when_back(tmp_path: Path) -> None:
    async def main() -> None:
        api = FakeWeChatApi(errcodes=[-1, 40001])  # busy, then stale token: both retried
        rasa = FakeRasa()
        async with serve(api.app()) as api_url:
            settings = gateway_settings(tmp_path, wechat_api_base_url=api_url)
            app = gateway_app(settings)
            async with serve(app) as base, client(base) as http:
                path, body = plain_request(text_xml("学生怎么参保", openid="oDown"))
                reply = parse_xml((await http.post(path, content=body)).content)
                assert "12393" in reply["Content"]
                port = int(settings.rasa_url.rsplit(":", 1)[1])
                async with serve(rasa.app(), port=port):
                    await wait_for(lambda: len(api.sent) == 1)
                    assert api.sent[0]["text"]["content"] == "答复：学生怎么参保"
                    assert api.token_requests == 2

    asyncio.run(main())


def test_push_window_and_quota_are_respected(tmp_path: Path) -> None:
    async def main() -> None:
        api = FakeWeChatApi()
        async with serve(api.app()) as api_url, serve(FakeRasa().app()) as rasa_url:
            settings = gateway_settings(tmp_path, rasa_url=rasa_url, wechat_api_base_url=api_url,
                                        wechat_cs_quota=2)
            app = gateway_app(settings)
            async with serve(app) as base, client(base) as http:
                path, body = plain_request(text_xml("你好", openid="oQuota"))
                await http.post(path, content=body)
                conv = app.ctx.store.list_conversations()[0]
                gw = app.ctx.gateway
                results = [await gw.send_to_conversation(conv.id, f"工作人员回复{i}")
                           for i in range(3)]
                assert [m.status for m in results] == ["sent", "sent", "failed"]
                assert "quota" in (results[2].last_error or "")
                assert len(api.sent) == 2
                # the API's own refusal (45015: outside the 48 h window) is final
                api.errcodes = [45015]
                path, body = plain_request(text_xml("再问一次", openid="oQuota"))
                await http.post(path, content=body)
                late = await gw.send_to_conversation(conv.id, "迟到的回复")
                assert late.status == "failed" and "window" in (late.last_error or "")

    asyncio.run(main())


def test_hostile_bodies_are_rejected_without_side_effects(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url,
                                               max_body_bytes=4096))
            async with serve(app) as base, client(base) as http:
                laughs = (
                    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "ha">'
                    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                    "<xml><ToUserName>x</ToUserName><FromUserName>u</FromUserName>"
                    "<MsgType>text</MsgType><Content>&b;</Content><MsgId>1</MsgId></xml>"
                )
                external = (
                    '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                    "<xml><FromUserName>u</FromUserName><MsgType>text</MsgType>"
                    "<Content>&x;</Content><MsgId>2</MsgId></xml>"
                )
                for hostile in [laughs, external, "<xml><Content>unclosed", "not xml at all",
                                "<other><MsgType>text</MsgType></other>",
                                text_xml("长" * 5000)]:
                    path, body = plain_request(hostile)
                    resp = await http.post(path, content=body)
                    assert resp.status_code in (400, 413), hostile[:40]
                assert rasa.calls == []
                assert app.ctx.store.list_conversations() == []

    asyncio.run(main())


def test_cdata_terminator_in_reply_cannot_break_xml(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                tricky = "a]]><MsgType>news</MsgType>b"
                xml = text_xml("x").replace("<![CDATA[x]]>",
                                            "<![CDATA[a]]]]><![CDATA[><MsgType>news</MsgType>b]]>")
                path, body = plain_request(xml)
                reply = parse_xml((await http.post(path, content=body)).content)
                assert rasa.calls[-1]["message"] == tricky
                assert reply["Content"] == f"答复：{tricky}"
                assert reply["MsgType"] == "text"

    asyncio.run(main())


# -- issue 12: safe-mode downgrade (H1), replay window (H2), constant-time comparison --------
def _with_query(path: str, **changes: str | None) -> str:
    """`path` with query parameters replaced (value) or removed (None)."""
    route, _, query = path.partition("?")
    params = dict(parse_qsl(query))
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return f"{route}?{urlencode(params)}"


def _stored_texts(app: Sanic) -> list[str]:
    store = app.ctx.store
    return [m.text for c in store.list_conversations() for m in store.list_messages(c.id)]


@pytest.mark.parametrize("encrypt_type", [None, "raw"], ids=["no-encrypt_type", "raw"])
def test_plaintext_downgrade_refused_when_aes_key_configured(tmp_path: Path,
                                                             encrypt_type: str | None) -> None:
    """H1: a captured safe-mode URL (valid `signature`) with `encrypt_type` stripped or set
    to raw, and a plaintext body of the attacker's choosing (here: another resident's
    unsubscribe, and a message), is refused: that signature does not cover the body."""

    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            settings = gateway_settings(tmp_path, rasa_url=rasa_url,
                                        wechat_encoding_aes_key=AES_KEY)
            app = gateway_app(settings)
            async with serve(app) as base, client(base) as http:
                genuine, body, _, _ = safe_request(text_xml("你好", openid="oVictim"))
                assert (await http.post(genuine, content=body)).status_code == 200
                forged_path = _with_query(genuine, encrypt_type=encrypt_type, msg_signature=None)
                for forged in [event_xml("unsubscribe", openid="oVictim"),
                               text_xml("我要退保", openid="oVictim")]:
                    resp = await http.post(forged_path, content=forged.encode())
                    assert resp.status_code == 403, forged
                # also with a fresh timestamp/nonce, i.e. not caught as a replay
                path, forged_body = plain_request(text_xml("伪造消息", openid="oOther"))
                path = _with_query(path, encrypt_type=encrypt_type)
                assert (await http.post(path, content=forged_body)).status_code == 403
                assert len(rasa.calls) == 1
                assert _stored_texts(app) == ["你好"]
                assert not app.ctx.store.list_conversations()[0].opted_out

    asyncio.run(main())


def test_tampered_encrypted_body_with_old_msg_signature_refused(tmp_path: Path) -> None:
    """H1: msg_signature covers the Encrypt element: another ciphertext (validly encrypted
    with the key, or altered bytes) under the captured msg_signature is refused."""

    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            settings = gateway_settings(tmp_path, rasa_url=rasa_url,
                                        wechat_encoding_aes_key=AES_KEY)
            app = gateway_app(settings)
            async with serve(app) as base, client(base) as http:
                path, body, ts, nonce = safe_request(text_xml("原始消息"))
                original = parse_xml(body)["Encrypt"]
                other, _ = encrypt(text_xml("篡改后的消息"), ts, nonce)
                flipped = ("B" if original[10] != "B" else "C").join(
                    [original[:10], original[11:]])
                for encrypted in [other, flipped]:
                    resp = await http.post(path, content=safe_body(encrypted).encode())
                    assert resp.status_code == 403
                assert rasa.calls == [] and app.ctx.store.list_conversations() == []
                assert (await http.post(path, content=body)).status_code == 200
                assert _stored_texts(app) == ["原始消息"]

    asyncio.run(main())


def test_compatible_mode_reads_only_the_encrypted_part(tmp_path: Path) -> None:
    """H1: in compatible mode the plaintext fields beside <Encrypt> are not signed: with a
    key configured only the decrypted part is read (sender and content)."""

    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            settings = gateway_settings(tmp_path, rasa_url=rasa_url,
                                        wechat_encoding_aes_key=AES_KEY)
            app = gateway_app(settings)
            async with serve(app) as base, client(base) as http:
                path, body, ts, nonce = safe_request(
                    text_xml("真实问题", openid="oReal"),
                    plaintext_beside=text_xml("伪造问题", openid="oForged"))
                resp = await http.post(path, content=body)
                assert resp.status_code == 200
                reply = decrypt_reply(resp.text, ts, nonce)
                assert reply["Content"] == "答复：真实问题" and reply["ToUserName"] == "oReal"
                assert [c["message"] for c in rasa.calls] == ["真实问题"]
                assert _stored_texts(app) == ["真实问题"]

    asyncio.run(main())


def test_compatible_mode_without_key_reads_plaintext_part(tmp_path: Path) -> None:
    """Migration: after 兼容模式 is chosen in the admin console and before the key is set
    here, WeChat sends encrypt_type=aes with both parts; without a key this is plaintext
    mode, so the plaintext part is read and answered in plaintext (WeChat accepts either)."""

    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                xml = text_xml("迁移期间的问题")
                path, body, _, _ = safe_request(xml, plaintext_beside=xml)
                resp = await http.post(path, content=body)
                assert resp.status_code == 200
                assert parse_xml(resp.content)["Content"] == "答复：迁移期间的问题"
                # safe-mode body (Encrypt only) cannot be read without the key
                path, body, _, _ = safe_request(text_xml("只有密文"))
                assert (await http.post(path, content=body)).status_code == 400

    asyncio.run(main())


# The route reads the clock (time.time(), a float) when the request arrives, after the test
# has built it, and a WeChat timestamp is whole seconds: "now+301" built from int(time.time())
# is only 300.x s ahead by then, or exactly 300 s once the clock passes the next second, and
# was accepted in some runs. The route tests therefore stay clear of the edge (±360 s refused,
# ±290 s accepted, built right before the post); the exact ±300 s edge is proved on
# `verify_post` with the clock frozen (test_timestamp_window_edge_is_300_s).
_OUTSIDE = {"epoch+1": lambda now: 1, "now+360": lambda now: now + 360,
            "now-360": lambda now: now - 360}


@pytest.mark.parametrize("mode", ["plaintext", "safe"])
@pytest.mark.parametrize("offset", [*_OUTSIDE, "not-a-number"])
def test_timestamp_outside_window_refused(tmp_path: Path, mode: str, offset: str) -> None:
    """H2: correctly signed requests with a timestamp outside ±300 s (or none readable) are
    refused before anything is stored; inside the window they are accepted."""

    def timestamp() -> str:
        if offset == "not-a-number":
            return "17e8"
        return str(_OUTSIDE[offset](int(time.time())))

    def build(ts: str, content: str) -> tuple[str, bytes]:
        if mode == "safe":
            path, body, _, _ = safe_request(text_xml(content), timestamp=ts)
            return path, body
        return plain_request(text_xml(content), timestamp=ts)

    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            key = AES_KEY if mode == "safe" else ""
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url,
                                               wechat_encoding_aes_key=key))
            async with serve(app) as base, client(base) as http:
                path, body = build(timestamp(), "过期的请求")
                assert (await http.post(path, content=body)).status_code == 403
                assert rasa.calls == [] and app.ctx.store.list_conversations() == []
                for ahead, content in ((-290, "窗口内的请求"), (290, "稍快的时钟")):
                    path, body = build(str(int(time.time()) + ahead), content)
                    assert (await http.post(path, content=body)).status_code == 200
                assert _stored_texts(app) == ["窗口内的请求", "稍快的时钟"]

    asyncio.run(main())


@pytest.mark.parametrize("mode", ["plaintext", "safe"])
def test_timestamp_window_edge_is_300_s(mode: str) -> None:
    """H2, the edge itself, against a frozen clock: a timestamp at most 300 s from our clock
    either way is accepted, 301 s is refused; our clock's fraction of a second counts
    (300.5 s behind is outside)."""
    configured = crypto() if mode == "safe" else None
    clock = 1_700_000_000

    def verify(ts: int, now: float) -> int:
        nonce = new_nonce()
        if mode == "safe":
            path, body, _, _ = safe_request(text_xml("边界"), timestamp=str(ts), nonce=nonce)
        else:
            path, body = plain_request(text_xml("边界"), timestamp=str(ts), nonce=nonce)
        args = dict(parse_qsl(path.partition("?")[2]))
        try:
            verify_post(args, body, token=WECHAT_TOKEN, crypto=configured, now=now,
                        max_bytes=64 * 1024)
        except Refused as exc:
            return exc.status
        return 200

    assert [verify(clock + d, clock) for d in (-300, 300, -301, 301)] == [200, 200, 403, 403]
    assert verify(clock + 300, clock + 0.5) == 200  # 299.5 s ahead
    assert verify(clock - 300, clock + 0.5) == 403  # 300.5 s behind


@pytest.mark.parametrize("nonce", ["n" * 65, "12 34", "1234\x00", "é1234"],
                         ids=["too-long", "space", "nul", "non-ascii"])
def test_malformed_nonce_refused(tmp_path: Path, nonce: str) -> None:
    """A correctly signed request whose nonce cannot be a WeChat nonce gets 403, not a 500
    from the nonce ledger (PostgreSQL refuses NUL in text)."""

    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                path, body = plain_request(text_xml("你好"), nonce=nonce)
                assert (await http.post(path, content=body)).status_code == 403
                assert rasa.calls == [] and app.ctx.store.list_conversations() == []

    asyncio.run(main())


def test_replayed_nonce_with_different_body_refused(tmp_path: Path) -> None:
    """H2: plaintext mode (no key): a captured signed URL replayed with another body —
    another message, or the resident's unsubscribe — is refused; only the first is kept."""

    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                ts, nonce = str(int(time.time())), new_nonce()
                path, body = plain_request(text_xml("真实消息"), timestamp=ts, nonce=nonce)
                assert (await http.post(path, content=body)).status_code == 200
                for forged in [text_xml("伪造消息"), event_xml("unsubscribe")]:
                    resp = await http.post(path, content=forged.encode())
                    assert resp.status_code == 403
                assert [c["message"] for c in rasa.calls] == ["真实消息"]
                assert _stored_texts(app) == ["真实消息"]
                assert not app.ctx.store.list_conversations()[0].opted_out

    asyncio.run(main())


def test_replayed_unsubscribe_after_resubscribe_does_nothing(tmp_path: Path) -> None:
    """H2: an unsubscribe has no dedupe key of its own; replaying the identical request
    after the resident subscribed again must not opt them out."""

    async def main() -> None:
        async with serve(FakeRasa().app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url,
                                               wechat_encoding_aes_key=AES_KEY))
            async with serve(app) as base, client(base) as http:
                now = int(time.time())
                path, body, _, _ = safe_request(event_xml("subscribe", create_time=now - 60))
                await http.post(path, content=body)
                unsub_path, unsub_body, _, _ = safe_request(
                    event_xml("unsubscribe", create_time=now - 30))
                assert (await http.post(unsub_path, content=unsub_body)).text == "success"
                conv = app.ctx.store.list_conversations()[0]
                assert app.ctx.store.get_conversation(conv.id).opted_out
                path, body, _, _ = safe_request(event_xml("subscribe", create_time=now))
                await http.post(path, content=body)
                assert not app.ctx.store.get_conversation(conv.id).opted_out
                replay = await http.post(unsub_path, content=unsub_body)
                assert replay.status_code == 200 and replay.text == "success"
                assert not app.ctx.store.get_conversation(conv.id).opted_out

    asyncio.run(main())


def test_wechat_retry_is_answered_once(tmp_path: Path) -> None:
    """WeChat's own retries (same timestamp, nonce, signatures and body) are not refused as
    replays: the first is answered, the retries get `success`, the bot is asked once."""

    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url,
                                               wechat_encoding_aes_key=AES_KEY))
            async with serve(app) as base, client(base) as http:
                path, body, ts, nonce = safe_request(text_xml("重试的问题"))
                first = await http.post(path, content=body)
                assert decrypt_reply(first.text, ts, nonce)["Content"] == "答复：重试的问题"
                for _ in range(3):
                    again = await http.post(path, content=body)
                    assert again.status_code == 200 and again.text == "success"
                assert len(rasa.calls) == 1
                assert app.ctx.store.count_by_status() == {"delivered": 1}

    asyncio.run(main())


def test_retry_after_failed_first_attempt_is_processed(tmp_path: Path) -> None:
    """The first attempt got a 503 (message log unreachable) after its nonce was recorded:
    WeChat's identical retry must be processed, not refused or swallowed."""

    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url,
                                               wechat_encoding_aes_key=AES_KEY))
            store = app.ctx.store
            real = store.record_inbound
            failures = [OperationalError("INSERT", {}, Exception("database is locked"))]

            def flaky(*args: Any, **kwargs: Any) -> Any:
                if failures:
                    raise failures.pop()
                return real(*args, **kwargs)

            store.record_inbound = flaky
            async with serve(app) as base, client(base) as http:
                path, body, ts, nonce = safe_request(text_xml("第一次失败"))
                assert (await http.post(path, content=body)).status_code == 503
                retry = await http.post(path, content=body)
                assert retry.status_code == 200
                assert decrypt_reply(retry.text, ts, nonce)["Content"] == "答复：第一次失败"
                assert len(rasa.calls) == 1

    asyncio.run(main())


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Settings for two gateway workers on one database."""
    url = f"sqlite:///{tmp_path}/shared.db" if request.param == "sqlite" else PG_URL
    yield {"database_url": url, "database_table_prefix": table_prefix()}


def test_replay_to_another_worker_refused(tmp_path: Path, shared_database: dict[str, str]) -> None:
    """H2 with WORKERS=N: the nonce ledger is in the shared database, so a replay sent to
    another worker is refused as well, and WeChat's retry there is still a duplicate."""

    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            apps = [gateway_app(gateway_settings(tmp_path / str(i), rasa_url=rasa_url,
                                                 **shared_database)) for i in range(2)]
            try:
                async with serve(apps[0]) as base0, serve(apps[1]) as base1, \
                        client(base0) as one, client(base1) as two:
                    ts, nonce = str(int(time.time())), new_nonce()
                    path, body = plain_request(text_xml("真实消息"), timestamp=ts, nonce=nonce)
                    assert (await one.post(path, content=body)).status_code == 200
                    forged = await two.post(path, content=text_xml("伪造消息").encode())
                    assert forged.status_code == 403
                    retry = await two.post(path, content=body)
                    assert retry.status_code == 200 and retry.text == "success"
                    assert [c["message"] for c in rasa.calls] == ["真实消息"]
            finally:
                for app in apps:
                    ledger = getattr(app.ctx, "wechat_nonces", None)
                    if ledger is not None:
                        ledger.drop()
                for app in apps:
                    app.ctx.store.close()
                apps[0].ctx.store.drop_all()
                for app in apps:
                    app.ctx.store.engine.dispose()

    for i in range(2):
        (tmp_path / str(i)).mkdir()
    asyncio.run(main())


def test_nonce_ledger_first_retry_replay_expiry(store: MessageStore) -> None:
    """The ledger alone, on SQLite and PostgreSQL: concurrent first sights of one pair give
    exactly one FIRST; expired pairs are deleted."""
    prefix = table_prefix()
    ledger = NonceLedger(store.engine, prefix)
    ledger.create()
    try:
        now = time.time()
        ts = int(now)
        results: list[Seen] = []
        barrier = threading.Barrier(6)

        def record() -> None:
            barrier.wait()
            results.append(ledger.record(ts, "123456789", "a" * 64, now))

        threads = [threading.Thread(target=record) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(r.value for r in results) == ["first"] + ["retry"] * 5
        assert ledger.record(ts, "123456789", "b" * 64, now) is Seen.REPLAY
        assert ledger.record(ts + 1, "123456789", "b" * 64, now) is Seen.FIRST
        later = NonceLedger(store.engine, prefix)  # another process: cleans on first use
        assert later.record(ts + 400, "987654321", "c" * 64, now + 400) is Seen.FIRST
        assert later.count() == 1
    finally:
        ledger.drop()


def test_signatures_compared_in_constant_time(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Low: `signature` (GET and POST) and `msg_signature` are checked with
    hmac.compare_digest, observed by wrapping it; a wrong one is still refused."""
    compared: list[bytes] = []
    real = hmac.compare_digest

    def recording(a: Any, b: Any) -> bool:
        compared.append(b if isinstance(b, bytes) else str(b).encode())
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)

    async def main() -> None:
        async with serve(FakeRasa().app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url,
                                               wechat_encoding_aes_key=AES_KEY))
            async with serve(app) as base, client(base) as http:
                ts, nonce = str(int(time.time())), new_nonce()
                url_sig = sign(WECHAT_TOKEN, ts, nonce)
                get = {"signature": url_sig, "timestamp": ts, "nonce": nonce, "echostr": "e"}
                assert (await http.get(f"/wechat?{urlencode(get)}")).text == "e"
                assert url_sig.encode() in compared
                compared.clear()
                path, body, ts, nonce = safe_request(text_xml("你好"))
                assert (await http.post(path, content=body)).status_code == 200
                query = dict(parse_qsl(path.partition("?")[2]))
                assert query["signature"].encode() in compared
                assert query["msg_signature"].encode() in compared
                good = query["msg_signature"]
                wrong = _with_query(path, msg_signature=good[:-1] + ("1" if good[-1] == "0" else "0"))
                assert (await http.post(wrong, content=body)).status_code == 403

    asyncio.run(main())


# -- issue 12 fuzz findings: characters XML 1.0 forbids ----------------------------------------
@pytest.mark.parametrize("content", ["答复：\ud800", "\udfff答复", "a\ud83db"],
                         ids=["high", "low", "inside"])
def test_reply_with_lone_surrogate_encodes_and_parses(content: str) -> None:
    """A bot reply carrying a lone surrogate (Rasa's JSON may hold a "\\ud800" escape) still
    gives a reply body that encodes as UTF-8 (was UnicodeEncodeError: a 500) and parses back
    without the surrogate (tests/fuzz: test_xml_reply_always_encodes_and_parses)."""
    from channels.wechat.xmlsafe import clean_text, render_text_reply

    raw = render_text_reply("oUser", "gh_x", 1_700_000_000, content).encode("utf-8")
    expected = "".join(ch for ch in content if not "\ud800" <= ch <= "\udfff")
    assert parse_xml(raw)["Content"] == expected
    assert clean_text(content) == expected


def test_parse_xml_refuses_str_with_lone_surrogate() -> None:
    """`parse_xml` on a str holding a lone surrogate raises XmlRejected, its one refusal, not
    UnicodeEncodeError (tests/fuzz: test_xml_parser_refuses_with_xml_rejected_only)."""
    from channels.wechat.xmlsafe import XmlRejected

    for body in ("<xml><A>\ud800</A></xml>", "<xml><A><![CDATA[x\udc00]]></A></xml>"):
        with pytest.raises(XmlRejected):
            parse_xml(body)
    assert parse_xml("<xml><A>😀</A></xml>") == {"A": "😀"}  # a real astral character is kept
