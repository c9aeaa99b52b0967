"""The console blueprint: templates, sessions, CSRF, security headers, sign-in and sign-out.

Every route under `/console` needs a live session except the sign-in page and the static
CSS/JS. Every state-changing request (POST) needs the session's CSRF token, in the form
field `csrf_token` or the `X-CSRF-Token` header; the sign-in form uses a double-submit
cookie instead because there is no session yet.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, html, redirect
from sanic.response import json as json_response

from channels.console import clock
from channels.console.accounts import (
    ROLE_NAMES,
    AccountError,
    Accounts,
    Session,
    accounts_for,
)
from channels.console.config import ConsoleConfig
from channels.console.masking import redact_text
from channels.console.queries import CHANNEL_NAMES, topic_name
from channels.console.signin import SignInService
from channels.ratelimit import client_ip as forwarded_client_ip

bp = Blueprint("console", url_prefix="/console")
log = logging.getLogger("channels.console")
HERE = Path(__file__).parent
SESSION_COOKIE = "console_session"
LOGIN_CSRF_COOKIE = "console_login_csrf"
PUBLIC_PATHS = ("/console/login", "/console/static/")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "object-src 'none'")

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["dt"] = clock.label  # 北京时间
templates.filters["redact"] = redact_text
templates.globals["CHANNEL_NAMES"] = CHANNEL_NAMES
templates.globals["ROLE_NAMES"] = ROLE_NAMES
templates.globals["topic_name"] = topic_name


def accounts(app: Sanic) -> Accounts:
    """The app's console accounts (created, with the first admin, on first use)."""
    acc = getattr(app.ctx, "console_accounts", None)
    if acc is None:
        settings = app.ctx.settings
        acc = accounts_for(app.ctx.store.engine, settings.database_table_prefix,
                           ConsoleConfig.from_env())
        try:
            acc.bootstrap_admin()
        except AccountError as exc:  # a bad env password must not take the gateway down
            log.error("CONSOLE_ADMIN_USER not created: %s", exc)
        app.ctx.console_accounts = acc
    return acc


def signin_service(app: Sanic) -> SignInService:
    svc = getattr(app.ctx, "console_signin", None)
    if svc is None:
        svc = app.ctx.console_signin = SignInService(accounts(app))
    return svc


@bp.before_server_start
async def _init_accounts(app: Sanic) -> None:
    await asyncio.to_thread(accounts, app)
    signin_service(app)


@bp.after_server_stop
async def _close_signin(app: Sanic) -> None:
    svc = getattr(app.ctx, "console_signin", None)
    if svc is not None:
        svc.close()
        app.ctx.console_signin = None


def client_ip(request: Request) -> str:
    """The client's address: X-Forwarded-For counts only from `TRUSTED_PROXIES` (the rule
    of the public endpoints, `channels.ratelimit.client_ip`)."""
    return forwarded_client_ip(str(request.ip or ""), request.headers.get("x-forwarded-for"),
                               request.app.ctx.api_guard.trusted)


def session_of(request: Request) -> Session:
    return request.ctx.console_session


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTTPResponse:
    sess: Session | None = getattr(request.ctx, "console_session", None)
    body = templates.get_template(name).render(
        user=sess.user if sess else None, csrf_token=sess.csrf_token if sess else "",
        path=request.path, **context)
    return html(body, status=status)


def refuse(request: Request, status: int, message: str) -> HTTPResponse:
    if _wants_json(request):
        return json_response({"error": {"code": f"http_{status}", "message": message}},
                             status=status, ensure_ascii=False)
    return render(request, "error.html", status=status, message=message)


def _wants_json(request: Request) -> bool:
    return request.path.startswith("/console/api/") or "application/json" in (
        request.headers.get("accept") or "")


def _cookie_secure(request: Request) -> bool:
    return accounts(request.app).config.cookie_secure


def csrf_ok(request: Request, expected: str) -> bool:
    given = request.headers.get("x-csrf-token") or ""
    if not given and request.form:
        given = request.form.get("csrf_token") or ""
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


@bp.on_request
async def _require_session(request: Request) -> HTTPResponse | None:
    if any(request.path == p or (p.endswith("/") and request.path.startswith(p))
           for p in PUBLIC_PATHS):
        return None
    acc = accounts(request.app)
    sess = await asyncio.to_thread(acc.session, request.cookies.get(SESSION_COOKIE))
    if sess is None:
        if request.method == "GET" and not _wants_json(request):
            target = request.path + (f"?{request.query_string}" if request.query_string else "")
            return redirect(f"/console/login?next={quote(target)}")
        return refuse(request, 401, "请先登录")
    request.ctx.console_session = sess
    if request.method not in ("GET", "HEAD", "OPTIONS") and not csrf_ok(request, sess.csrf_token):
        return refuse(request, 403, "安全校验失败（CSRF），请刷新页面后重试")
    return None


@bp.on_response
async def _security_headers(request: Request, response: HTTPResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if not request.path.startswith("/console/static/"):
        response.headers["Cache-Control"] = "no-store"


def require_admin(request: Request) -> HTTPResponse | None:
    if not session_of(request).user.is_admin:
        return refuse(request, 403, "需要管理员权限")
    return None


def audit(request: Request, action: str, target: str = "", detail: str = "") -> None:
    acc = accounts(request.app)
    acc.log(session_of(request).user.username, action, target, detail, client_ip(request))


# -- sign-in ----------------------------------------------------------------------------------
def _safe_next(value: str | None) -> str:
    if value and value.startswith("/console") and "//" not in value and "\\" not in value:
        return value
    return "/console/"


def _login_page(request: Request, error: str = "", status: int = 200,
                retry_after_s: float = 0.0) -> HTTPResponse:
    token = secrets.token_urlsafe(24)
    resp = render(request, "login.html", status=status, login_csrf=token, error=error,
                  next=_safe_next(request.args.get("next") or
                                  (request.form.get("next") if request.form else None)))
    resp.add_cookie(LOGIN_CSRF_COOKIE, token, path="/console/login", httponly=True,
                    samesite="Strict", secure=_cookie_secure(request), max_age=3600)
    if retry_after_s > 0:
        resp.headers["Retry-After"] = str(max(1, math.ceil(retry_after_s)))
    return resp


@bp.get("/login")
async def login_form(request: Request) -> HTTPResponse:
    return _login_page(request)


@bp.post("/login")
async def login(request: Request) -> HTTPResponse:
    svc = signin_service(request.app)
    ip = client_ip(request)
    wait = svc.address_wait(ip)
    if wait:
        return _login_page(request, _too_fast(wait), status=429, retry_after_s=wait)
    form = request.form or {}
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    given = form.get("csrf_token") or ""
    if not cookie or not given or not hmac.compare_digest(cookie.encode(), given.encode()):
        return _login_page(request, "安全校验失败，请重新提交", status=403)
    username = (form.get("username") or "").strip()[:64]
    password = form.get("password") or ""
    if not username or not password:
        return _login_page(request, "请输入用户名和密码", status=400)
    acc = accounts(request.app)
    outcome = await svc.attempt(username, password, ip)
    if outcome.kind == "limited":
        return _login_page(request, _too_fast(outcome.retry_after_s), status=429,
                           retry_after_s=outcome.retry_after_s)
    if outcome.kind == "busy":
        return _login_page(request, "登录服务繁忙，请稍后再试", status=503,
                           retry_after_s=outcome.retry_after_s)
    if outcome.kind == "locked":
        await asyncio.to_thread(acc.log, username, "signin_locked", "", "", ip)
        minutes = max(math.ceil(outcome.retry_after_s / 60), 1)
        return _login_page(
            request, f"登录失败次数过多，该账号在您当前的网络地址已锁定，请 {minutes} 分钟后再试或联系管理员",
            status=429, retry_after_s=outcome.retry_after_s)
    if outcome.user is None or outcome.token is None:
        await asyncio.to_thread(acc.log, username, "signin_failed", "", "", ip)
        return _login_page(request, "用户名或密码错误", status=401)
    await asyncio.to_thread(acc.log, outcome.user.username, "signin", "", "", ip)
    resp = redirect(_safe_next(form.get("next")))
    resp.add_cookie(SESSION_COOKIE, outcome.token, path="/console", httponly=True,
                    samesite="Strict", secure=_cookie_secure(request))
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/console/login")
    return resp


def _too_fast(wait_s: float) -> str:
    return f"登录尝试太频繁，请 {max(1, math.ceil(wait_s))} 秒后再试"


@bp.post("/logout")
async def logout(request: Request) -> HTTPResponse:
    acc = accounts(request.app)
    token = request.cookies.get(SESSION_COOKIE) or ""
    await asyncio.to_thread(acc.end_session, token)
    audit(request, "signout")
    resp = redirect("/console/login")
    resp.delete_cookie(SESSION_COOKIE, path="/console")
    return resp


# -- static assets (own files only; no CDN) ---------------------------------------------------
STATIC = {"console.css": "text/css; charset=utf-8",
          "console.js": "application/javascript; charset=utf-8",
          "favicon.svg": "image/svg+xml"}


@bp.get("/static/<name:str>")
async def static(request: Request, name: str) -> HTTPResponse:
    if name not in STATIC:
        return refuse(request, 404, "没有该文件")
    body = (HERE / "static" / name).read_bytes()
    return HTTPResponse(body, content_type=STATIC[name],
                        headers={"Cache-Control": "public, max-age=300"})
