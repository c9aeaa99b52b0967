"""WeChat Official Account webhook through the real gateway (wechatpy-built messages)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import urlencode

from channels.wechat.xmlsafe import parse_xml
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
    decrypt_reply,
    event_xml,
    image_xml,
    plain_request,
    safe_request,
    sign,
    text_xml,
)


def test_url_verification(tmp_path: Path) -> None:
    async def main() -> None:
        app = gateway_app(gateway_settings(tmp_path))
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
