"""Happy paths and a slow back end through the real gateway and the real Rasa stack.

`rasa_url` (tests/conftest.py) is a trained Rasa server with its action server; Twilio's
and WeChat's own APIs are faked locally.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest

from channels.wechat.xmlsafe import parse_xml
from tests.channels.support import (
    FakeWeChatApi,
    client,
    delaying_proxy,
    gateway_app,
    gateway_settings,
    serve,
    wait_for,
)
from tests.channels.twilio_support import signed, sms_params
from tests.channels.wechat_support import plain_request, text_xml

QUESTION = "会宁县2022年居民医保个人缴费标准是多少"
DOC_NO = re.compile(r"〔\d{4}〕\d+号")


@pytest.fixture(scope="module")
def live_rasa(rasa_url: str) -> str:
    """The live stack, warmed up so the first gateway test does not pay for model loading."""
    httpx.post(f"{rasa_url}/webhooks/rest/webhook",
               json={"sender": "warmup", "message": QUESTION, "metadata": {"channel": "web"}},
               timeout=120)
    return rasa_url


def _fee_answer(text: str) -> None:
    assert "元" in text, text
    assert DOC_NO.search(text), text


def test_sms_fee_question(live_rasa: str, tmp_path: Path) -> None:
    async def main() -> None:
        settings = gateway_settings(tmp_path, rasa_url=live_rasa, sync_reply_budget_s=20.0,
                                    wechat_reply_budget_s=4.0)
        async with serve(gateway_app(settings)) as base, client(base) as http:
            body, headers = signed(sms_params(QUESTION), f"{settings.public_base_url}/sms/twilio")
            resp = await http.post("/sms/twilio", content=body, headers=headers)
            assert resp.status_code == 200
            parts = [m.text or "" for m in ElementTree.fromstring(resp.text).findall("Message")]
            assert parts and all(len(p) <= 134 for p in parts)
            _fee_answer("".join(parts))

    asyncio.run(main())


def test_wechat_fee_question(live_rasa: str, tmp_path: Path) -> None:
    async def main() -> None:
        api = FakeWeChatApi()
        async with serve(api.app()) as api_url:
            settings = gateway_settings(tmp_path, rasa_url=live_rasa, wechat_api_base_url=api_url,
                                        wechat_reply_budget_s=4.0)
            async with serve(gateway_app(settings)) as base, client(base) as http:
                path, body = plain_request(text_xml(QUESTION, openid="oLive"))
                resp = await http.post(path, content=body)
                assert resp.status_code == 200
                if resp.text == "success":  # a loaded machine: answered through the API
                    await wait_for(lambda: len(api.sent) == 1, timeout_s=30)
                    content = api.sent[0]["text"]["content"]
                else:
                    content = parse_xml(resp.content)["Content"]
                _fee_answer(content)
                assert len(content) <= 600

    asyncio.run(main())


def test_json_api_fee_question(live_rasa: str, tmp_path: Path) -> None:
    async def main() -> None:
        settings = gateway_settings(tmp_path, rasa_url=live_rasa, sync_reply_budget_s=20.0,
                                    wechat_reply_budget_s=4.0)
        async with serve(gateway_app(settings)) as base, client(base) as http:
            resp = await http.post("/api/chat", json={"sender": "widget-live",
                                                     "message": QUESTION, "channel": "web"})
            assert resp.status_code == 200
            data = resp.json()
            assert data["status"] == "answered"
            text = "\n".join(m["text"] for m in data["messages"])
            _fee_answer(text)
            titles = [b["title"] for m in data["messages"] for b in m["buttons"]]
            assert "查看依据" in titles

    asyncio.run(main())


def test_wechat_rasa_slower_than_5s_is_pushed_once(live_rasa: str, tmp_path: Path) -> None:
    async def main() -> None:
        api = FakeWeChatApi()
        async with delaying_proxy(live_rasa, 5.5) as slow_rasa, serve(api.app()) as api_url:
            settings = gateway_settings(tmp_path, rasa_url=slow_rasa, wechat_api_base_url=api_url,
                                        wechat_reply_budget_s=4.0)
            app = gateway_app(settings)
            async with serve(app) as base, client(base) as http:
                path, body = plain_request(text_xml(QUESTION, openid="oSlowLive"))
                resp = await http.post(path, content=body)
                assert resp.elapsed.total_seconds() < 5.0
                assert resp.text == "success"
                await wait_for(lambda: len(api.sent) == 1, timeout_s=30)
                _fee_answer(api.sent[0]["text"]["content"])
                await asyncio.sleep(1.0)
                assert len(api.sent) == 1
                assert app.ctx.store.count_by_status() == {"delivered": 1}

    asyncio.run(main())
