"""The widget's files and endpoints over HTTP: CORS, origin allow-list, strict CSP demo."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.channels.support import FakeRasa, client, serve
from tests.console.support import console_app


def test_widget_assets_and_cors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/gateway.db")

    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            app = console_app(tmp_path, rasa_url=rasa_url, widget_allowed_origins="*")
            async with serve(app) as base, client(base) as http:
                js = await http.get("/widget/widget.js")
                assert js.status_code == 200
                assert js.headers["content-type"].startswith("application/javascript")
                assert "attachShadow" in js.text and "http" not in js.text.split("*/", 1)[1].replace(
                    "https?:", "")  # no external URL in the code
                demo = await http.get("/widget/demo?region=<b>x</b>")
                csp = demo.headers["content-security-policy"]
                assert "script-src 'self'" in csp and "unsafe-inline" not in csp
                assert "<b>x</b>" not in demo.text and "&lt;b&gt;x&lt;/b&gt;" in demo.text
                pre = await http.options("/widget/chat", headers={
                    "Origin": "https://ylbzj.example.gov.cn", "Access-Control-Request-Method": "POST"})
                assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == "*"
                assert "X-Conversation-Token" in pre.headers["access-control-allow-headers"]
                resp = await http.post("/widget/chat", headers={"Origin": "https://x.example"},
                                       json={"sender": "w-1", "message": "你好", "channel": "web"})
                assert resp.status_code == 200 and resp.json()["status"] == "answered"
                assert resp.headers["access-control-allow-origin"] == "*"
                token = resp.json()["conversation_token"]
                bad = await http.post("/widget/chat", json={"sender": "bad sender!", "message": "x"})
                assert bad.status_code == 400 and "sender" in bad.json()["error"]["message"]
                upd = await http.get("/widget/updates", params={"sender": "w-1", "after": "0"},
                                     headers={"X-Conversation-Token": token})
                assert upd.status_code == 200
                assert upd.headers["access-control-allow-origin"] == "*"
                alone = await http.get("/widget/updates", params={"sender": "w-1", "after": "0"})
                assert alone.status_code == 401 and alone.headers["access-control-allow-origin"] == "*"

            (tmp_path / "listed").mkdir()
            monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/listed/gateway.db")
            listed = console_app(tmp_path / "listed", rasa_url=rasa_url,
                                 widget_allowed_origins="https://ylbzj.example.gov.cn")
            async with serve(listed) as base, client(base) as http:
                ok = await http.post("/widget/chat", headers={"Origin": "https://ylbzj.example.gov.cn"},
                                     json={"sender": "w-2", "message": "你好"})
                assert ok.headers["access-control-allow-origin"] == "https://ylbzj.example.gov.cn"
                no = await http.post("/widget/chat", headers={"Origin": "https://evil.example"},
                                     json={"sender": "w-3", "message": "你好"})
                assert no.status_code == 403 and "access-control-allow-origin" not in no.headers

    asyncio.run(main())
