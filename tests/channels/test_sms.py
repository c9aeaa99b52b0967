"""Twilio SMS webhook through the real gateway, with a fake Rasa and a fake Twilio API."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.channels.support import (
    FakeRasa,
    FakeTwilio,
    client,
    gateway_app,
    gateway_settings,
    serve,
    wait_for,
)
from tests.channels.twilio_support import signed, sms_params

PUBLIC = "https://gateway.example.org"
URL = f"{PUBLIC}/sms/twilio"


def twiml_messages(xml: str) -> list[str]:
    root = ElementTree.fromstring(xml)
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


async def _post(http, params, url=URL, token=None):  # noqa: ANN001, ANN202
    body, headers = signed(params, url) if token is None else signed(params, url, token)
    return await http.post("/sms/twilio", content=body, headers=headers)


def test_signed_sms_is_answered_by_the_bot(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            settings = gateway_settings(tmp_path, rasa_url=rasa_url)
            app = gateway_app(settings)
            async with serve(app) as base, client(base) as http:
                resp = await _post(http, sms_params("会宁县今年交多少钱"))
                assert resp.status_code == 200
                assert resp.headers["content-type"].startswith("application/xml")
                assert twiml_messages(resp.text) == ["答复：会宁县今年交多少钱"]
                call = rasa.calls[-1]
                assert call["metadata"] == {"channel": "sms"}
                assert "13812345678" not in call["sender"]  # hashed conversation id
                msgs = app.ctx.store.list_messages(app.ctx.store.list_conversations()[0].id)
                assert msgs[0].status == "delivered" and msgs[0].delivery == "inline"

    asyncio.run(main())


def test_forged_signature_is_rejected_without_side_effects(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                params = sms_params("你好")
                # wrong token
                resp = await _post(http, params, token="not-the-token")
                assert resp.status_code == 403
                # signed for the internal URL instead of the public one
                resp = await _post(http, params, url=f"{base}/sms/twilio")
                assert resp.status_code == 403
                # valid signature, body tampered with afterwards
                body, headers = signed(params, URL)
                resp = await http.post(
                    "/sms/twilio", content=body.replace("%E4%BD%A0", "%E6%88%91"),
                    headers=headers,
                )
                assert resp.status_code == 403
                # no signature at all
                resp = await http.post("/sms/twilio", content=body,
                                       headers={"Content-Type": headers["Content-Type"]})
                assert resp.status_code == 403
                assert rasa.calls == []
                assert app.ctx.store.list_conversations() == []

    asyncio.run(main())


def test_replayed_message_sid_is_answered_once(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                params = sms_params("白银市低保户缴费")
                first = await _post(http, params)
                again = await asyncio.gather(*[_post(http, params) for _ in range(3)])
                assert twiml_messages(first.text) == ["答复：白银市低保户缴费"]
                for resp in again:
                    assert resp.status_code == 200
                    assert twiml_messages(resp.text) == []
                assert len(rasa.calls) == 1

    asyncio.run(main())


def test_stop_start_help_keywords(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa()
        twilio = FakeTwilio()
        async with serve(rasa.app()) as rasa_url, serve(twilio.app()) as twilio_url:
            app = gateway_app(
                gateway_settings(tmp_path, rasa_url=rasa_url, twilio_api_base_url=twilio_url)
            )
            async with serve(app) as base, client(base) as http:
                sender = "+8613900001111"
                help_ = twiml_messages((await _post(http, sms_params("帮助", sender))).text)
                assert "12393" in "".join(help_)
                stop = twiml_messages((await _post(http, sms_params("退订", sender))).text)
                assert len(stop) == 1 and "退订" in stop[0]
                # opted out: recorded, nothing sent, bot not asked
                quiet = twiml_messages((await _post(http, sms_params("会宁县缴费", sender))).text)
                assert quiet == []
                assert rasa.calls == []
                conv = app.ctx.store.list_conversations()[0]
                assert conv.opted_out
                # staff cannot push to an opted-out number either
                out = await app.ctx.gateway.send_to_conversation(conv.id, "您好")
                assert out.status == "failed" and out.last_error == "opted_out"
                assert twilio.sent == []
                # English keywords, any case, full width too
                again = twiml_messages((await _post(http, sms_params("ｓｔａｒｔ", sender))).text)
                assert len(again) == 1
                assert not app.ctx.store.list_conversations()[0].opted_out
                answer = twiml_messages((await _post(http, sms_params("会宁县缴费", sender))).text)
                assert answer == ["答复：会宁县缴费"]
                stop2 = twiml_messages((await _post(http, sms_params(" stop ", sender))).text)
                assert len(stop2) == 1
                assert app.ctx.store.list_conversations()[0].opted_out

    asyncio.run(main())


def test_long_answer_is_split_into_numbered_parts(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                long_question = "参保缴费" * 60  # the fake bot echoes it: 243 characters
                parts = twiml_messages((await _post(http, sms_params(long_question))).text)
                assert len(parts) == 2
                assert parts[0].startswith("(1/2)") and parts[1].startswith("(2/2)")
                assert all(len(p.encode("utf-16-le")) // 2 <= 134 for p in parts)

    asyncio.run(main())


def test_rasa_down_apologises_and_delivers_later(tmp_path: Path) -> None:
    async def main() -> None:
        twilio = FakeTwilio()
        rasa = FakeRasa()
        async with serve(twilio.app()) as twilio_url:
            settings = gateway_settings(tmp_path, twilio_api_base_url=twilio_url)
            rasa_port = int(settings.rasa_url.rsplit(":", 1)[1])
            app = gateway_app(settings)
            async with serve(app) as base, client(base) as http:
                resp = await _post(http, sms_params("会宁县缴费", "+8613700002222"))
                parts = twiml_messages(resp.text)
                assert len(parts) == 1 and "12393" in parts[0]
                store = app.ctx.store
                assert store.count_by_status() == {"pending": 1}
                # the back end comes back on its usual port
                async with serve(rasa.app(), port=rasa_port):
                    await wait_for(lambda: len(twilio.sent) == 1)
                    assert twilio.sent[0]["To"] == "+8613700002222"
                    assert twilio.sent[0]["Body"] == "答复：会宁县缴费"
                    await wait_for(lambda: store.count_by_status() == {"delivered": 1})
                    await asyncio.sleep(0.5)
                    assert len(twilio.sent) == 1

    asyncio.run(main())


def test_phone_numbers_never_logged_in_clear(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    async def main() -> None:
        async with serve(FakeRasa().app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                await _post(http, sms_params("会宁县缴费", "+8613612349876"))
                await _post(http, sms_params("退订", "+8613612349876"))

    asyncio.run(main())
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "sms from" in text
    assert "13612349876" not in text
    assert "9876" in text


def test_slow_backend_apologises_then_sends_answer_once(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa(delay_s=1.5)
        twilio = FakeTwilio()
        async with serve(rasa.app()) as rasa_url, serve(twilio.app()) as twilio_url:
            settings = gateway_settings(tmp_path, rasa_url=rasa_url,
                                        twilio_api_base_url=twilio_url, sync_reply_budget_s=0.5)
            app = gateway_app(settings)
            async with serve(app) as base, client(base) as http:
                resp = await _post(http, sms_params("退役军人怎么参保", "+8613600004444"))
                parts = twiml_messages(resp.text)
                assert len(parts) == 1 and "12393" in parts[0]
                await wait_for(lambda: len(twilio.sent) == 1)
                assert twilio.sent[0]["Body"] == "答复：退役军人怎么参保"
                assert twilio.sent[0]["From"] == settings.twilio_from_number
                await asyncio.sleep(0.6)
                assert len(twilio.sent) == 1 and len(rasa.calls) == 1

    asyncio.run(main())


def test_provider_error_is_stored_without_the_phone_number(tmp_path: Path) -> None:
    """Twilio quotes the number back in its error `message`; what the gateway stores (and
    the console shows) keeps only its masked form."""
    from tests.console.test_privacy import refusing_twilio

    async def main() -> None:
        async with serve(refusing_twilio()) as twilio_url:
            app = gateway_app(gateway_settings(tmp_path, twilio_api_base_url=twilio_url))
            async with serve(app):
                sender = "+8613900001111"
                store = app.ctx.store
                conv = store.record_inbound("sms", sender, "转人工", "SM-err").conversation
                out = await app.ctx.gateway.send_to_conversation(conv.id, "您好")
                assert out.status == "failed"
                assert "21211" in out.last_error and "+86*******1111" in out.last_error
                assert "13900001111" not in out.last_error

    asyncio.run(main())


# -- issue 12 fuzz finding: characters XML 1.0 forbids in a reply -----------------------------
@pytest.mark.parametrize("body", ["\x1b", "问\x08题\x0b", "\ufffe缴费\uffff"],
                         ids=["escape", "backspace-vtab", "noncharacters"])
def test_reply_with_control_characters_is_well_formed_twiml(tmp_path: Path, body: str) -> None:
    """The fake bot echoes what the resident sent; TwiML holding a control character is not
    XML Twilio can read, so the resident got no answer (tests/fuzz:
    test_sms_never_5xx_and_stores_what_it_answers). The forbidden characters are dropped."""

    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                resp = await _post(http, sms_params(body))
                assert resp.status_code == 200
                kept = "".join(ch for ch in body if ch.isprintable())
                assert twiml_messages(resp.text) == [f"答复：{kept}"]

    asyncio.run(main())


def test_pushed_sms_drops_forbidden_characters_and_empty_parts() -> None:
    """`send` (answers after the passive reply, staff messages) cleans its parts the same
    way; a part left empty is not sent."""
    from channels.sms.twilio import TwilioProvider
    from tests.channels.support import TWILIO_FROM, TWILIO_SID, TWILIO_TOKEN

    async def main() -> None:
        twilio = FakeTwilio()
        async with serve(twilio.app()) as twilio_url:
            provider = TwilioProvider(TWILIO_SID, TWILIO_TOKEN, TWILIO_FROM, twilio_url)
            try:
                await provider.send("+8613700002222", ["答复：\x1b好\ud800", "\x00\x1f"])
            finally:
                await provider.close()
        assert [m["Body"] for m in twilio.sent] == ["答复：好"]

    asyncio.run(main())
