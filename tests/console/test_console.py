"""Console features over HTTP: filters and search, handoff queue, staff messages on the
resident's own channel (SMS, WeChat, web), calculator, knowledge browser, dashboard, audit,
users, and the CLI."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from actions import handoff_store
from channels.console import clock
from channels.console.__main__ import main as cli_main
from channels.store import utcnow
from tests.channels.support import FakeRasa, FakeTwilio, FakeWeChatApi, client, serve
from tests.console.support import ADMIN, console_app, console_env, page_csrf, sign_in

PHONE = "+8613900001111"
OPENID = "oABCDEFG1234567890xyz"
ANSWER = {"type": "answer", "topic": "fee", "status": "ok", "region": "会宁县", "benefit_year": 2022,
          "year_label": "2021年度", "summary": "会宁县个人缴费320元",
          "figures": [{"key": "standard", "label": "个人缴费标准", "value": "320元"}],
          "citations": [{"notice_id": "huining-2021", "doc_no": "会政办发〔2021〕68号",
                         "issuer": "会宁县人民政府办公室", "section": "一",
                         "quote": "个人参保缴费标准为 320 元/人"}]}


def _answered(store, channel: str, sender: str, text: str, replies: list[dict]) -> object:  # noqa: ANN001
    inbound = store.record_inbound(channel, sender, text, None)
    store.finish(inbound.message.id, "delivered", replies, "inline")
    return inbound.conversation


def test_filters_search_transcript_and_dashboard(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    console_env(monkeypatch, tmp_path)
    app = console_app(tmp_path)

    async def main() -> None:
        async with serve(app) as base, client(base) as http:
            store = app.ctx.store
            fee = _answered(store, "web", "w-fee", "会宁县交多少钱",
                            [{"text": "会宁县2022年个人缴费320元。", "buttons": [], "links": [],
                              "data": ANSWER}])
            fallback = _answered(store, "sms", PHONE, "阿巴阿巴",
                                 [{"text": "抱歉，我没太理解。能换个说法再问一次吗？", "buttons": [],
                                   "links": [], "data": {"type": "fallback", "awaiting": None}}])
            wechat = _answered(store, "wechat", OPENID, "转人工",
                               [{"text": "已为您转人工", "buttons": [], "links": []}])
            # A WeChat answer: its structured payload is stored too, so the dashboard counts it.
            _answered(store, "wechat", OPENID, "贵州啥时候交医保",
                      [{"text": "贵州省集中征缴期……", "buttons": [], "links": [],
                        "data": {**ANSWER, "topic": "deadline", "region": "贵州省"}}])
            handoff_store.record_handoff(wechat.key, "wechat", "转人工", "fee", "会宁县")
            old = store.record_inbound("web", "w-old", "去年的问题", None)
            with store.engine.begin() as conn:
                conn.execute(update(store.messages).where(store.messages.c.id == old.message.id)
                             .values(created_at=utcnow() - timedelta(days=3), status="delivered"))
            assert (await sign_in(http)).status_code == 302

            async def listed(query: str) -> set[int]:
                resp = await http.get(f"/console/api/conversations{query}")
                assert resp.status_code == 200, resp.text
                return {c["id"] for c in resp.json()["conversations"]}

            everything = await listed("")
            assert {fee.id, fallback.id, wechat.id, old.conversation.id} <= everything
            assert await listed("?channel=sms") == {fallback.id}
            assert await listed("?handoff=1") == {wechat.id}
            assert await listed("?unanswered=1") == {fallback.id}
            assert await listed("?q=交多少") == {fee.id}
            assert await listed("?q=%25") == set()  # LIKE wildcards are literal
            today = clock.today().isoformat()  # the console filters by Beijing date
            assert old.conversation.id not in await listed(f"?date={today}")
            assert fee.id in await listed(f"?date={today}")
            bad = await http.get("/console/?date=2022-13-01&channel=fax")
            assert bad.status_code == 200 and "日期格式应为 YYYY-MM-DD" in bad.text
            assert (await http.get("/console/api/conversations?date=x")).status_code == 400

            page = await http.get(f"/console/conversations/{fee.id}")
            assert "会政办发〔2021〕68号" in page.text and "个人缴费标准" in page.text
            assert "320元" in page.text and "依据" in page.text
            page = await http.get(f"/console/conversations/{fallback.id}")
            assert "兜底回复" in page.text
            assert (await http.get("/console/conversations/99999")).status_code == 404

            dash = await http.get("/console/dashboard")
            assert dash.status_code == 200 and dash.text.count("<svg") >= 5
            assert "缴费标准/资助" in dash.text  # top topics from the stored answers,
            assert "缴费期限" in dash.text  # the WeChat one included
            assert "20.0%" in dash.text  # 1 fallback (by its payload) of 5 resident messages

    asyncio.run(main())


def test_staff_messages_reach_sms_and_wechat_residents(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    console_env(monkeypatch, tmp_path)

    async def main() -> None:
        twilio, wechat_api, rasa = FakeTwilio(), FakeWeChatApi(), FakeRasa()
        async with serve(twilio.app()) as twilio_url, serve(wechat_api.app()) as wx_url, \
                serve(rasa.app()) as rasa_url:
            app = console_app(tmp_path, twilio_api_base_url=twilio_url, wechat_api_base_url=wx_url,
                              rasa_url=rasa_url)
            async with serve(app) as base, client(base) as http:
                store = app.ctx.store
                sms = store.record_inbound("sms", PHONE, "转人工", "SM-1").conversation
                wx = store.record_inbound("wechat", OPENID, "人工", "wx-1").conversation
                handoff_store.record_handoff(sms.key, "sms", "转人工")
                assert (await sign_in(http)).status_code == 302
                token = await page_csrf(http, "/console/handoffs")
                queue = await http.get("/console/handoffs")
                assert "待接管" in queue.text and PHONE not in queue.text
                req_id = handoff_store.list_handoffs()[0]["id"]

                # Sending before taking over is refused with a clear message.
                resp = await http.post(f"/console/conversations/{sms.id}/messages",
                                       data={"csrf_token": token, "text": "您好"})
                assert "请先接管" in (await http.get(resp.headers["location"])).text
                assert twilio.sent == []

                resp = await http.post(f"/console/handoffs/{req_id}/take", data={"csrf_token": token})
                assert resp.headers["location"].startswith(f"/console/conversations/{sms.id}")
                assert store.get_conversation(sms.id).taken_over
                assert handoff_store.list_handoffs(status="taken")[0]["id"] == req_id
                assert {"event": {"event": "pause"}, "conversation": sms.key} in rasa.calls
                resp = await http.post(f"/console/conversations/{sms.id}/messages",
                                       data={"csrf_token": token, "text": "您好，我是工作人员"})
                assert resp.status_code == 302
                assert twilio.sent[-1]["To"] == PHONE and twilio.sent[-1]["Body"] == "您好，我是工作人员"
                empty = await http.post(f"/console/conversations/{sms.id}/messages",
                                        data={"csrf_token": token, "text": "  "})
                assert "error=" in empty.headers["location"]
                long = await http.post(f"/console/conversations/{sms.id}/messages",
                                       data={"csrf_token": token, "text": "字" * 1001})
                assert "error=" in long.headers["location"]
                await http.post(f"/console/conversations/{sms.id}/hand-back",
                                data={"csrf_token": token})
                assert not store.get_conversation(sms.id).taken_over
                assert handoff_store.list_handoffs(status="closed")[0]["id"] == req_id
                assert {"event": {"event": "resume"}, "conversation": sms.key} in rasa.calls

                await http.post(f"/console/conversations/{wx.id}/take-over",
                                data={"csrf_token": token})
                await http.post(f"/console/conversations/{wx.id}/messages",
                                data={"csrf_token": token, "text": "微信工作人员回复"})
                sent = wechat_api.sent[-1]
                assert sent["touser"] == OPENID and sent["text"]["content"] == "微信工作人员回复"

                log = (await http.get("/console/audit")).text
                for action in ("登录", "接管会话", "发送人工消息", "交还机器人"):
                    assert action in log
                assert OPENID not in log and PHONE not in log

    asyncio.run(main())


def test_calculator_knowledge_and_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    console_env(monkeypatch, tmp_path)
    app = console_app(tmp_path)

    async def main() -> None:
        async with serve(app) as base, client(base) as http:
            assert (await sign_in(http)).status_code == 302
            resp = await http.get("/console/calculator", params=[
                ("topic", "fee"), ("region", "会宁县"), ("benefit_year", "2022"),
                ("categories", "tekun")])
            assert resp.status_code == 200
            assert "个人实缴" in resp.text and "计算步骤" in resp.text and "会政办发〔2021〕68号" in resp.text
            resp = await http.get("/console/calculator", params={
                "topic": "deadline", "region": "贵州", "benefit_year": "2021",
                "payment_date": "2021-03-31"})
            assert resp.status_code == 200 and "2021年3月31日" in resp.text
            for params, message in [
                ({"topic": "newborn", "region": "会宁县", "birth_date": "2022/3/5"}, "出生日期格式"),
                ({"topic": "fee", "region": "", "benefit_year": "2022"}, "请填写地区"),
                ({"topic": "fee", "region": "会宁县", "benefit_year": "二〇二二"}, "待遇年度应为"),
                ({"topic": "fee", "region": "会宁县", "categories": "nobody"}, "未知的资助身份"),
                ({"topic": "rocket", "region": "会宁县"}, "请选择计算类型"),
            ]:
                resp = await http.get("/console/calculator", params=params)
                assert resp.status_code == 400 and message in resp.text, params
            resp = await http.get("/console/calculator", params={"topic": "fee", "region": "北京市"})
            assert resp.status_code == 200 and "未收录" in resp.text

            resp = await http.get("/console/knowledge", params={"region": "会宁县", "year": "2022"})
            assert resp.status_code == 200
            assert "会政办发〔2021〕68号" in resp.text and "个人缴费标准" in resp.text
            assert "安医保发" not in resp.text
            resp = await http.get("/console/knowledge")
            for doc in ("甘医保发〔2021〕55号", "安医保发〔2021〕86号", "会政办发〔2021〕68号"):
                assert doc in resp.text
            resp = await http.get("/console/knowledge", params={"region": "火星", "year": "abc"})
            assert resp.status_code == 200 and "未收录该地区" in resp.text

    asyncio.run(main())


def test_admin_manages_users_and_first_admin_once(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    console_env(monkeypatch, tmp_path)
    app = console_app(tmp_path)

    async def main() -> None:
        async with serve(app) as base, client(base) as http:
            assert (await sign_in(http)).status_code == 302
            token = await page_csrf(http, "/console/users")
            resp = await http.post("/console/users", data={
                "csrf_token": token, "action": "create", "username": "agent7",
                "password": "short", "role": "staff"})
            assert "至少需要" in (await http.get(resp.headers["location"])).text
            resp = await http.post("/console/users", data={
                "csrf_token": token, "action": "create", "username": "agent7",
                "password": "Window-seat-2026", "role": "staff"})
            assert "已创建用户" in (await http.get(resp.headers["location"])).text
            acc = app.ctx.console_accounts
            assert acc.get_user_by_name("agent7").role == "staff"
            await http.post("/console/users", data={"csrf_token": token, "action": "disable",
                                                    "username": "agent7"})
            assert not acc.get_user_by_name("agent7").active
            resp = await http.post("/console/users", data={"csrf_token": token, "action": "disable",
                                                           "username": ADMIN[0]})
            assert "不能停用自己" in (await http.get(resp.headers["location"])).text
            # The env admin is created once; a changed env password does not overwrite it.
            monkeypatch.setenv("CONSOLE_ADMIN_PASSWORD", "Another-pass-2026")
            assert acc.bootstrap_admin() is None
            assert [u.username for u in acc.list_users() if u.is_admin] == [ADMIN[0]]

    asyncio.run(main())


def test_cli_creates_users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    url = console_env(monkeypatch, tmp_path)
    monkeypatch.setenv("SENDER_HASH_SECRET", "test-secret")
    monkeypatch.setattr("sys.stdin", io.StringIO("Cli-admin-pass-1\n"))
    assert cli_main(["create-user", "boss", "--role", "admin", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("weak\n"))
    assert cli_main(["create-user", "weakling", "--password-stdin"]) == 2
    assert "至少需要" in capsys.readouterr().err
    assert cli_main(["list-users"]) == 0
    assert "boss\tadmin\tactive" in capsys.readouterr().out
    app = console_app(tmp_path, database_url=url)

    async def main() -> None:
        async with serve(app) as base, client(base) as http:
            assert (await sign_in(http, ("boss", "Cli-admin-pass-1"))).status_code == 302
            entries = app.ctx.console_accounts.audit_entries()
            assert any(e["action"] == "create_user" and e["username"] == "cli" for e in entries)
            assert json.dumps([e["action"] for e in entries])

    asyncio.run(main())
