"""JSON chat API for the widget and the staff console."""

from __future__ import annotations

import asyncio
from pathlib import Path

from channels import health
from tests.channels.support import (
    FakeRasa,
    client,
    gateway_app,
    gateway_settings,
    serve,
    wait_for,
)


def test_chat_maps_buttons_and_links(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                resp = await http.post("/api/chat", json={"sender": "widget-abc123",
                                                         "message": "会宁县缴费",
                                                         "channel": "web"})
                assert resp.status_code == 200
                data = resp.json()
                assert data["status"] == "answered"
                assert data["messages"] == [{
                    "text": "答复：会宁县缴费",
                    "buttons": [{"title": "依据", "payload": "/ask_basis"}],
                    "links": [{"title": "政策原文", "url": "https://example.org/notice"}],
                }]
                assert rasa.calls[-1]["metadata"] == {"channel": "web"}

    asyncio.run(main())


def test_bad_input_gets_clear_4xx(tmp_path: Path) -> None:
    async def main() -> None:
        app = gateway_app(gateway_settings(tmp_path, max_message_chars=50))
        async with serve(app) as base, client(base) as http:
            cases = [
                (b"{not json", 400, "invalid_json"),
                (b"[1, 2]", 400, "invalid_json"),
                (b'{"sender": "", "message": "hi"}', 400, "invalid_sender"),
                (b'{"sender": "a b", "message": "hi"}', 400, "invalid_sender"),
                (b'{"sender": "ok", "message": "   "}', 400, "empty_message"),
                (b'{"sender": "ok", "message": 5}', 400, "empty_message"),
                ('{"sender": "ok", "message": "%s"}' % ("长" * 51), 413, "message_too_long"),
                (b'{"sender": "ok", "message": "hi", "channel": "sms"}', 400, "invalid_channel"),
            ]
            for body, status, code in cases:
                content = body if isinstance(body, bytes) else body.encode()
                resp = await http.post("/api/chat", content=content,
                                       headers={"Content-Type": "application/json"})
                assert resp.status_code == status, body
                assert resp.json()["error"]["code"] == code
                assert resp.json()["error"]["message"]
            resp = await http.post("/api/chat", content=b"x" * 200_000)
            assert resp.status_code == 413
            resp = await http.get("/api/chat")
            assert resp.status_code == 405
            assert app.ctx.store.list_conversations() == []

    asyncio.run(main())


def test_pending_answer_is_stored_for_polling_and_idempotent(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa()
        settings = gateway_settings(tmp_path)
        app = gateway_app(settings)
        async with serve(app) as base, client(base) as http:
            payload = {"sender": "widget-1", "message": "缴费渠道", "message_id": "c-1"}
            resp = await http.post("/api/chat", json=payload)
            data = resp.json()
            assert data["status"] == "pending" and "12393" in data["messages"][0]["text"]
            token = {"X-Conversation-Token": data["conversation_token"]}
            again = await http.post("/api/chat", json=payload, headers=token)
            assert again.json()["status"] == "duplicate"
            port = int(settings.rasa_url.rsplit(":", 1)[1])
            async with serve(rasa.app(), port=port):
                await wait_for(lambda: app.ctx.store.count_by_status() == {"delivered": 1})
            upd = (await http.get("/api/chat/updates", headers=token,
                                  params={"sender": "widget-1", "channel": "web"})).json()
            assert [m["text"] for m in upd["messages"]] == ["答复：缴费渠道"]
            assert len(rasa.calls) == 1

    asyncio.run(main())


def test_staff_take_over_pauses_bot_and_staff_message_reaches_widget(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                first = await http.post("/api/chat", json={"sender": "w-2", "message": "转人工"})
                token = {"X-Conversation-Token": first.json()["conversation_token"]}
                conv = app.ctx.store.list_conversations()[0]
                await app.ctx.gateway.take_over(conv.id, True)
                assert rasa.calls[-1] == {"event": {"event": "pause"}, "conversation": conv.key}
                resp = await http.post("/api/chat", json={"sender": "w-2", "message": "在吗"},
                                       headers=token)
                assert resp.json()["status"] == "staff"
                assert len([c for c in rasa.calls if "message" in c]) == 1
                sent = await app.ctx.gateway.send_to_conversation(conv.id, "您好，我是工作人员")
                assert sent.status == "sent" and sent.author == "staff"
                upd = (await http.get("/api/chat/updates", params={"sender": "w-2"},
                                      headers=token)).json()
                assert upd["messages"][-1]["text"] == "您好，我是工作人员"
                await app.ctx.gateway.take_over(conv.id, False)
                resp = await http.post("/api/chat", json={"sender": "w-2", "message": "谢谢"},
                                       headers=token)
                assert resp.json()["status"] == "answered"

    asyncio.run(main())


def test_healthz_reports_dependencies(tmp_path: Path) -> None:
    """The public answer is the status only; the details are `health.report` (for staff)."""
    async def main() -> None:
        app = gateway_app(gateway_settings(tmp_path))
        async with serve(app) as base, client(base) as http:
            down = await http.get("/healthz")
            assert down.status_code == 200 and down.json() == {"status": "degraded"}
            detail = await health.report(app)
            assert detail["checks"]["database"]["ok"] is True
            assert detail["checks"]["rasa"]["ok"] is False
            assert detail["checks"]["twilio"]["configured"] is True
        async with serve(FakeRasa().app()) as rasa_url:
            app = gateway_app(gateway_settings(tmp_path, rasa_url=rasa_url))
            async with serve(app) as base, client(base) as http:
                up = await http.get("/healthz")
                assert up.status_code == 200 and up.json() == {"status": "ok"}

    asyncio.run(main())


def test_message_log_down_gives_503_not_500(tmp_path: Path) -> None:
    async def main() -> None:
        app = gateway_app(gateway_settings(tmp_path))
        async with serve(app) as base, client(base) as http:
            app.ctx.store.drop_all()  # the database lost its tables
            resp = await http.post("/api/chat", json={"sender": "w-9", "message": "你好"})
            assert resp.status_code == 503
            assert resp.json()["error"]["message"]

    asyncio.run(main())
