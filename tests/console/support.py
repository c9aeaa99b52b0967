"""Helpers for console tests: a real gateway app with the console, and a signed-in client."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from sanic import Sanic

from tests.channels.support import gateway_app, gateway_settings

ADMIN = ("admin", "Hotline-desk-2026")
STAFF = ("agent1", "Staff-pass-2026")
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def console_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **extra: str) -> str:
    """Point the console and the handoff store at one temporary database; return its URL.

    The tests talk plain http to 127.0.0.1 and httpx (like any cookie jar) does not send a
    `Secure` cookie over http, so they run with the local-development switch
    `CONSOLE_COOKIE_SECURE=false`; the default (Secure) has its own test.
    """
    url = f"sqlite:///{tmp_path}/gateway.db"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CONSOLE_ADMIN_USER", ADMIN[0])
    monkeypatch.setenv("CONSOLE_ADMIN_PASSWORD", ADMIN[1])
    monkeypatch.setenv("CONSOLE_COOKIE_SECURE", "false")
    for key, value in extra.items():
        monkeypatch.setenv(key, value)
    return url


def console_app(tmp_path: Path, **overrides: Any) -> Sanic:
    settings = gateway_settings(tmp_path, public_base_url="http://127.0.0.1", **overrides)
    return gateway_app(settings, retry_worker=False)


def csrf_from(html: str) -> str:
    match = _CSRF_RE.search(html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


async def sign_in(http: httpx.AsyncClient, user: tuple[str, str] = ADMIN,
                  headers: dict[str, str] | None = None) -> httpx.Response:
    page = await http.get("/console/login", headers=headers)
    assert page.status_code == 200
    return await http.post("/console/login", headers=headers, data={
        "username": user[0], "password": user[1], "csrf_token": csrf_from(page.text),
        "next": "/console/"})


async def page_csrf(http: httpx.AsyncClient, path: str = "/console/") -> str:
    resp = await http.get(path)
    assert resp.status_code == 200, resp.text[:300]
    return csrf_from(resp.text)
