"""Console security: sessions on every route, CSRF on state changes, lock-out, masking."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from actions import handoff_store
from channels.console.passwords import hash_password, verify_password
from tests.channels.support import client, serve
from tests.console.support import ADMIN, STAFF, console_app, console_env, csrf_from, page_csrf, sign_in

PHONE = "+8613812345678"
ID_NUMBER = "620422199001011234"


def _console_routes(app) -> list[tuple[str, str]]:  # noqa: ANN001
    """(method, concrete path) for every console route; parameters filled with 1 / a name."""
    out = []
    for route in app.router.routes:
        path = "/" + route.path if not route.path.startswith("/") else route.path
        if not path.startswith("/console"):
            continue
        concrete = path.replace("<conversation_id:int>", "1").replace("<request_id:int>", "1")
        concrete = concrete.replace("<name:str>", "console.css")
        for method in route.methods:
            out.append((method, concrete))
    return sorted(set(out))


def test_every_console_route_refuses_without_session(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    console_env(monkeypatch, tmp_path)
    app = console_app(tmp_path)
    public = {("GET", "/console/login"), ("POST", "/console/login"),
              ("GET", "/console/static/console.css")}

    async def main() -> None:
        async with serve(app) as base, client(base) as http:
            routes = _console_routes(app)
            assert len(routes) >= 20, routes
            for method, path in routes:
                if (method, path) in public:
                    continue
                resp = await http.request(method, path, data={"text": "x"})
                if method == "GET" and not path.startswith("/console/api/"):
                    assert resp.status_code == 302, (method, path, resp.status_code)
                    assert resp.headers["location"].startswith("/console/login?next=")
                else:
                    assert resp.status_code == 401, (method, path, resp.status_code)
                assert "会话" not in resp.text or "请先登录" in resp.text
            # A forged or expired cookie is no session either.
            http.cookies.set("console_session", "forged-token", path="/console")
            assert (await http.get("/console/dashboard")).status_code == 302
            assert (await http.get("/console/api/conversations")).status_code == 401

    asyncio.run(main())


def test_csrf_token_required_on_state_changes(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    console_env(monkeypatch, tmp_path)
    app = console_app(tmp_path)

    async def main() -> None:
        async with serve(app) as base, client(base) as http:
            conv = app.ctx.store.record_inbound("web", "w-csrf", "你好", None).conversation
            # The sign-in form itself needs its token (double-submit cookie).
            resp = await http.post("/console/login", data={"username": ADMIN[0],
                                                           "password": ADMIN[1]})
            assert resp.status_code == 403
            assert (await sign_in(http)).status_code == 302
            token = await page_csrf(http)
            take = f"/console/conversations/{conv.id}/take-over"
            assert (await http.post(take)).status_code == 403
            assert (await http.post(take, data={"csrf_token": "wrong"})).status_code == 403
            assert (await http.post(take, headers={"X-CSRF-Token": token[:-1]})).status_code == 403
            assert app.ctx.store.get_conversation(conv.id).taken_over is False
            resp = await http.post(take, data={"csrf_token": token})
            assert resp.status_code == 302
            assert app.ctx.store.get_conversation(conv.id).taken_over is True
            # Header form works for scripts; sign-out also needs the token.
            resp = await http.post(f"/console/conversations/{conv.id}/hand-back",
                                   headers={"X-CSRF-Token": token})
            assert resp.status_code == 302
            assert (await http.post("/console/logout")).status_code == 403
            assert (await http.post("/console/logout", data={"csrf_token": token})).status_code == 302
            assert (await http.get("/console/")).status_code == 302  # session ended

    asyncio.run(main())


def test_lockout_after_repeated_failures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    console_env(monkeypatch, tmp_path, CONSOLE_LOCKOUT_THRESHOLD="3")
    app = console_app(tmp_path)

    async def main() -> None:
        async with serve(app) as base, client(base) as http:
            for _ in range(2):
                resp = await sign_in(http, (ADMIN[0], "wrong-password-1"))
                assert resp.status_code == 401 and "用户名或密码错误" in resp.text
            resp = await sign_in(http, (ADMIN[0], "wrong-password-1"))
            assert resp.status_code == 429 and "锁定" in resp.text
            # Even the right password is refused while locked.
            resp = await sign_in(http, ADMIN)
            assert resp.status_code == 429
            assert "console_session" not in resp.headers.get("set-cookie", "")
            # Other accounts are not affected.
            app.ctx.console_accounts.create_user(*STAFF)
            assert (await sign_in(http, STAFF)).status_code == 302
            # An unknown user gets the same answer as a wrong password.
            resp = await sign_in(http, ("nobody", "whatever-123"))
            assert resp.status_code == 401 and "用户名或密码错误" in resp.text
            actions = [e["action"] for e in app.ctx.console_accounts.audit_entries()]
            assert "signin_locked" in actions and actions.count("signin_failed") >= 3

    asyncio.run(main())


def test_lock_expires(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    console_env(monkeypatch, tmp_path, CONSOLE_LOCKOUT_THRESHOLD="2", CONSOLE_LOCKOUT_S="1")
    app = console_app(tmp_path)

    async def main() -> None:
        async with serve(app) as base, client(base) as http:
            for _ in range(2):
                await sign_in(http, (ADMIN[0], "bad-password-9"))
            assert (await sign_in(http, ADMIN)).status_code == 429
            await asyncio.sleep(1.2)
            assert (await sign_in(http, ADMIN)).status_code == 302

    asyncio.run(main())


def test_no_resident_phone_or_id_in_console_html(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    console_env(monkeypatch, tmp_path)
    app = console_app(tmp_path)

    async def main() -> None:
        async with serve(app) as base, client(base) as http:
            store = app.ctx.store
            text = f"我的电话是13812345678，身份证{ID_NUMBER}，会宁县交多少钱"
            inbound = store.record_inbound("sms", PHONE, text, "SM1")
            store.finish(inbound.message.id, "delivered",
                         [{"text": f"已记录您的号码 {PHONE}", "buttons": [], "links": []}], "inline")
            conv = inbound.conversation
            handoff_store.record_handoff(conv.key, "sms", f"转人工，电话 {PHONE}")
            assert (await sign_in(http)).status_code == 302
            pages = ["/console/", "/console/?channel=sms", f"/console/?q={ID_NUMBER[:6]}",
                     f"/console/conversations/{conv.id}",
                     f"/console/conversations/{conv.id}/transcript", "/console/conversations/rows",
                     "/console/handoffs", "/console/dashboard", "/console/api/conversations",
                     f"/console/api/conversations/{conv.id}/messages", "/console/audit"]
            for page in pages:
                resp = await http.get(page)
                assert resp.status_code == 200, page
                for secret in (PHONE, "13812345678", ID_NUMBER, "8613812345678"):
                    assert secret not in resp.text, (page, secret)
            detail = await http.get(f"/console/conversations/{conv.id}")
            assert "5678" in detail.text and "1234" in detail.text  # masked forms remain
            assert "会宁县交多少钱" in detail.text

    asyncio.run(main())


def test_roles_and_security_headers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    console_env(monkeypatch, tmp_path)
    app = console_app(tmp_path)

    async def main() -> None:
        async with serve(app) as base, client(base) as http:
            await http.get("/console/login")  # creates the first admin
            app.ctx.console_accounts.create_user(*STAFF)
            resp = await sign_in(http, STAFF)
            assert resp.status_code == 302
            cookie = resp.headers["set-cookie"].lower()
            assert "httponly" in cookie and "samesite=strict" in cookie
            page = await http.get("/console/")
            assert "default-src 'self'" in page.headers["content-security-policy"]
            assert page.headers["x-frame-options"] == "DENY"
            assert (await http.get("/console/users")).status_code == 403
            assert (await http.get("/console/audit")).status_code == 403
            token = csrf_from(page.text)
            resp = await http.post("/console/users", data={
                "csrf_token": token, "action": "create", "username": "evil",
                "password": "Evil-pass-2026", "role": "admin"})
            assert resp.status_code == 403
            assert app.ctx.console_accounts.get_user_by_name("evil") is None
            # Open redirect through ?next= is refused.
            await http.post("/console/logout", data={"csrf_token": token})
            page = await http.get("/console/login?next=//evil.example.org/")
            resp = await http.post("/console/login", data={
                "username": STAFF[0], "password": STAFF[1], "csrf_token": csrf_from(page.text),
                "next": "//evil.example.org/"})
            assert resp.headers["location"] == "/console/"

    asyncio.run(main())


def test_password_hashes_are_salted_scrypt() -> None:
    a, b = hash_password("Same-pass-123"), hash_password("Same-pass-123")
    assert a != b and a.startswith("scrypt$")
    assert verify_password("Same-pass-123", a) and not verify_password("same-pass-123", a)
    assert not verify_password("x", "garbage")


def test_weak_env_admin_password_is_refused_without_breaking_the_gateway(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    console_env(monkeypatch, tmp_path, CONSOLE_ADMIN_PASSWORD="123")
    app = console_app(tmp_path)

    async def main() -> None:
        async with serve(app) as base, client(base) as http:
            assert (await http.get("/healthz")).status_code in (200, 503)
            assert app.ctx.console_accounts.list_users() == []
            assert (await sign_in(http, (ADMIN[0], "123"))).status_code == 401

    asyncio.run(main())
