"""What staff see and what the public sees (issue 12, Low): provider error text without the
resident's number and never in a URL; search that cannot reveal masked digits; handoff
requests matched to exactly one conversation; `/healthz` status only, details for staff."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from urllib.parse import unquote

import pytest
from sanic import Request, Sanic
from sanic.response import HTTPResponse, json

from actions import handoff_store
from tests.channels.support import TWILIO_SID, client, serve
from tests.console.support import console_app, console_env, page_csrf, sign_in

PHONE = "+8613900001111"
ID_NUMBER = "620422199001011234"
_names = itertools.count()


def refusing_twilio() -> Sanic:
    """Twilio's Messages API refusing a number, with its documented error body (the real
    service quotes the number back in `message`)."""
    app = Sanic(f"refusing_twilio_{next(_names)}")

    @app.post("/2010-04-01/Accounts/<sid>/Messages.json")
    async def messages(request: Request, sid: str) -> HTTPResponse:
        assert sid == TWILIO_SID
        to = request.form.get("To")
        return json({"code": 21211, "status": 400,
                     "message": f"The 'To' number {to} is not a valid phone number.",
                     "more_info": "https://www.twilio.com/docs/errors/21211"}, status=400)

    return app


def test_provider_error_is_masked_and_kept_out_of_the_redirect(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    console_env(monkeypatch, tmp_path)

    async def main() -> None:
        async with serve(refusing_twilio()) as twilio_url:
            app = console_app(tmp_path, twilio_api_base_url=twilio_url)
            async with serve(app) as base, client(base) as http:
                store = app.ctx.store
                conv = store.record_inbound("sms", PHONE, "转人工", "SM-x").conversation
                assert (await sign_in(http)).status_code == 302
                token = await page_csrf(http, f"/console/conversations/{conv.id}")
                await http.post(f"/console/conversations/{conv.id}/take-over",
                                data={"csrf_token": token})
                resp = await http.post(f"/console/conversations/{conv.id}/messages",
                                       data={"csrf_token": token, "text": "您好"})
                assert resp.status_code == 302
                location = unquote(resp.headers["location"])
                assert "13900001111" not in location and "21211" not in location, location
                page = await http.get(resp.headers["location"])
                assert "发送失败" in page.text and "13900001111" not in page.text
                assert "21211" in page.text and "1111" in page.text  # code and masked tail
                sent = [m for m in store.list_messages(conv.id) if m.direction == "out"]
                assert sent[-1].status == "failed"
                assert "13900001111" not in sent[-1].last_error
                assert "21211" in sent[-1].last_error

    asyncio.run(main())


def test_search_cannot_reveal_what_masking_hides(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    console_env(monkeypatch, tmp_path)
    app = console_app(tmp_path)

    async def main() -> None:
        async with serve(app) as base, client(base) as http:
            store = app.ctx.store
            conv = store.record_inbound("sms", PHONE, f"身份证{ID_NUMBER}，帮我查一下",
                                        "SM-1").conversation
            store.record_inbound("web", "w-other", "会宁县交多少钱", None)
            assert (await sign_in(http)).status_code == 302

            async def found(q: str) -> bool:
                resp = await http.get("/console/api/conversations", params={"q": q})
                assert resp.status_code == 200
                return conv.id in {c["id"] for c in resp.json()["conversations"]}

            # Digits the console shows as *** cannot be probed by searching for them ...
            for hidden in (ID_NUMBER[:6], ID_NUMBER[:10], "1390000", "139000011"):
                assert not await found(hidden), hidden
            # ... what it shows can be searched ...
            assert await found("1234") and await found("1111") and await found("帮我查")
            # ... and staff who know the whole number find the resident by its keyed hash.
            for full in (PHONE, "8613900001111", "13900001111", "139 0000 1111"):
                assert await found(full), full
            assert not await found("13900001112")

    asyncio.run(main())


def test_handoff_request_matches_exactly_one_conversation(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    console_env(monkeypatch, tmp_path)
    app = console_app(tmp_path)

    async def main() -> None:
        async with serve(app) as base, client(base) as http:
            store = app.ctx.store
            victim = store.record_inbound("sms", PHONE, "你好", "SM-2").conversation
            # Forged ids (the bot records whatever conversation id Rasa was given): a LIKE
            # pattern, and a bare prefix of a real key.
            forged = [handoff_store.record_handoff("sms-%%%%%%%%", "sms", "转人工"),
                      handoff_store.record_handoff(victim.key[:12], "sms", "转人工")]
            assert (await sign_in(http)).status_code == 302
            token = await page_csrf(http, "/console/handoffs")
            listed = await http.get("/console/api/conversations", params={"handoff": "1"})
            assert listed.json()["conversations"] == []
            queue = await http.get("/console/handoffs")
            assert f"/console/conversations/{victim.id}" not in queue.text
            for request_id in forged:
                resp = await http.post(f"/console/handoffs/{request_id}/take",
                                       data={"csrf_token": token})
                assert resp.status_code == 404
            assert store.get_conversation(victim.id).taken_over is False
            # The real key still finds its conversation.
            real = handoff_store.record_handoff(victim.key, "sms", "转人工")
            listed = await http.get("/console/api/conversations", params={"handoff": "1"})
            assert [c["id"] for c in listed.json()["conversations"]] == [victim.id]
            resp = await http.post(f"/console/handoffs/{real}/take", data={"csrf_token": token})
            assert resp.status_code == 302 and store.get_conversation(victim.id).taken_over

    asyncio.run(main())


def test_healthz_tells_the_public_only_the_status(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    console_env(monkeypatch, tmp_path)
    app = console_app(tmp_path)

    async def main() -> None:
        async with serve(app) as base, client(base) as http:
            public = await http.get("/healthz")
            assert public.status_code == 200
            assert public.json() == {"status": "degraded"}  # Rasa is down in this test
            assert (await http.get("/console/api/health")).status_code == 401
            assert (await sign_in(http)).status_code == 302
            details = (await http.get("/console/api/health")).json()
            assert details["status"] == "degraded"
            assert details["checks"]["database"]["ok"] is True
            assert details["checks"]["rasa"]["ok"] is False
            assert details["checks"]["twilio"]["configured"] is True
            app.ctx.store.drop_all()  # the message log is gone: down, and still no details
            down = await http.get("/healthz")  # signed in or not
            assert down.status_code == 503 and down.json() == {"status": "down"}

    asyncio.run(main())
