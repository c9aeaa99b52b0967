"""Messages left pending by an outage survive a gateway restart and are answered once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.channels.support import (
    FakeRasa,
    FakeTwilio,
    FakeWeChatApi,
    client,
    free_port,
    gateway_app,
    gateway_settings,
    serve,
    wait_for,
)
from tests.channels.twilio_support import signed, sms_params
from tests.channels.wechat_support import plain_request, text_xml


def test_pending_messages_processed_after_restart(tmp_path: Path) -> None:
    async def main() -> None:
        twilio, wechat, rasa = FakeTwilio(), FakeWeChatApi(), FakeRasa()
        async with serve(twilio.app()) as twilio_url, serve(wechat.app()) as wechat_url:
            settings = gateway_settings(
                tmp_path, twilio_api_base_url=twilio_url, wechat_api_base_url=wechat_url
            )
            # 1st gateway: Rasa is down; three messages arrive and stay pending.
            first = gateway_app(settings)
            async with serve(first) as base, client(base) as http:
                for i in range(2):
                    body, headers = signed(sms_params(f"问题{i}", "+8613500003333"),
                                           f"{settings.public_base_url}/sms/twilio")
                    assert (await http.post("/sms/twilio", content=body,
                                            headers=headers)).status_code == 200
                path, body = plain_request(text_xml("微信问题", openid="oRestart"))
                assert (await http.post(path, content=body)).status_code == 200
            assert first.ctx.store.count_by_status() == {"pending": 3}
            # Rasa returns; a new gateway process starts on the same database.
            port = int(settings.rasa_url.rsplit(":", 1)[1])
            async with serve(rasa.app(), port=port):
                second = gateway_app(settings)
                async with serve(second, port=free_port()):
                    await wait_for(lambda: second.ctx.store.count_by_status()
                                   == {"delivered": 3})
                    await asyncio.sleep(0.5)
            assert sorted(m["Body"] for m in twilio.sent) == ["答复：问题0", "答复：问题1"]
            assert [m["text"]["content"] for m in wechat.sent] == ["答复：微信问题"]
            assert len(rasa.calls) == 3

    asyncio.run(main())


def test_stale_claim_from_crashed_gateway_is_taken_over(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            settings = gateway_settings(tmp_path, rasa_url=rasa_url, claim_ttl_s=0.3)
            app = gateway_app(settings, retry_worker=False)
            store = app.ctx.store
            # A gateway stored the message, claimed it and died before asking Rasa.
            inbound = store.record_inbound("web", "crash-1", "缴费期限", "crash:1")
            assert store.claim_due() == []  # still claimed
            await asyncio.sleep(0.4)
            assert await app.ctx.gateway.run_due_once() == 1
            msg = store.get_message(inbound.message.id)
            assert msg is not None and msg.status == "delivered"
            assert msg.replies[0]["text"] == "答复：缴费期限"
            assert await app.ctx.gateway.run_due_once() == 0

    asyncio.run(main())
