"""`GET /healthz`: each dependency's state; 503 only when messages cannot be stored."""

from __future__ import annotations

import asyncio

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from channels.settings import DEV_HASH_SECRET

bp = Blueprint("health")


@bp.get("/healthz")
async def healthz(request: Request) -> HTTPResponse:
    ctx = request.app.ctx
    settings = ctx.settings
    checks: dict[str, dict[str, object]] = {}
    try:
        await asyncio.to_thread(ctx.store.ping)
        counts = await asyncio.to_thread(ctx.store.count_by_status)
        checks["database"] = {
            "ok": True,
            "backend": ctx.store.engine.dialect.name,
            "messages": counts,
        }
    except Exception as exc:  # noqa: BLE001 - report, never raise
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    rasa_ok, rasa_detail = await ctx.gateway.rasa.health()
    checks["rasa"] = {"ok": rasa_ok, "detail": rasa_detail}
    checks["twilio"] = {"ok": settings.twilio_enabled, "configured": settings.twilio_enabled}
    checks["wechat"] = {
        "ok": settings.wechat_enabled,
        "configured": settings.wechat_enabled,
        "safe_mode": settings.wechat_safe_mode,
        "customer_service_api": settings.wechat_can_push,
    }
    warnings = []
    if settings.sender_hash_secret == DEV_HASH_SECRET:
        warnings.append("SENDER_HASH_SECRET is the development default")
    db_ok = bool(checks["database"]["ok"])
    status = "ok" if db_ok and rasa_ok else ("degraded" if db_ok else "down")
    return json(
        {"status": status, "checks": checks, "warnings": warnings}, status=200 if db_ok else 503
    )
