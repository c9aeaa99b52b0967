"""Admin pages: users (create, reset password, enable/disable) and the audit log."""

from __future__ import annotations

import asyncio

from sanic import Request
from sanic.response import HTTPResponse, redirect

from channels.console.accounts import ROLES, AccountError
from channels.console.web import accounts, audit, bp, render, require_admin, session_of

AUDIT_ACTIONS = {
    "signin": "登录", "signin_failed": "登录失败", "signin_locked": "锁定期间尝试登录",
    "signout": "退出", "take_over": "接管会话", "staff_message": "发送人工消息",
    "hand_back": "交还机器人", "close_handoff": "关闭转人工请求", "create_user": "创建用户",
    "create_admin": "创建首个管理员", "reset_password": "重置密码", "disable_user": "停用用户",
    "enable_user": "启用用户",
}


@bp.get("/users")
async def users(request: Request) -> HTTPResponse:
    if (denied := require_admin(request)) is not None:
        return denied
    acc = accounts(request.app)
    rows = await asyncio.to_thread(acc.list_users)
    return render(request, "users.html", rows=rows, roles=ROLES,
                  notice=request.args.get("notice", ""), error=request.args.get("error", ""))


@bp.post("/users")
async def user_action(request: Request) -> HTTPResponse:
    if (denied := require_admin(request)) is not None:
        return denied
    acc = accounts(request.app)
    form = request.form or {}
    action = form.get("action") or ""
    username = (form.get("username") or "").strip()
    me = session_of(request).user.username
    try:
        if action == "create":
            await asyncio.to_thread(acc.create_user, username, form.get("password") or "",
                                    form.get("role") or "staff")
            notice = f"已创建用户 {username}"
        elif action == "reset_password":
            await asyncio.to_thread(acc.set_password, username, form.get("password") or "")
            notice = f"已重置 {username} 的密码"
        elif action in ("disable", "enable"):
            if username == me:
                raise AccountError("不能停用自己的账号")
            await asyncio.to_thread(acc.set_active, username, action == "enable")
            notice = f"已{'启用' if action == 'enable' else '停用'} {username}"
        else:
            raise AccountError("未知操作")
    except AccountError as exc:
        from urllib.parse import urlencode

        return redirect("/console/users?" + urlencode({"error": str(exc)}))
    log_action = {"create": "create_user", "reset_password": "reset_password",
                  "disable": "disable_user", "enable": "enable_user"}[action]
    await asyncio.to_thread(audit, request, log_action, f"user:{username}")
    from urllib.parse import urlencode

    return redirect("/console/users?" + urlencode({"notice": notice}))


@bp.get("/audit")
async def audit_log(request: Request) -> HTTPResponse:
    if (denied := require_admin(request)) is not None:
        return denied
    action = request.args.get("action") or None
    if action and action not in AUDIT_ACTIONS:
        action = None
    rows = await asyncio.to_thread(accounts(request.app).audit_entries, 500, action)
    return render(request, "audit.html", rows=rows, actions=AUDIT_ACTIONS, action=action or "")
