"""`GET /healthz`: up or down for the public; each dependency's state for staff.

The public answer is `{"status": "ok" | "degraded" | "down"}` (503 when down, i.e. messages
cannot be stored), enough for a load balancer or an uptime probe. Which back end runs, what
Rasa answered, which channels are configured and the message counts are for signed-in
console staff (`GET /console/api/health`, `channels/console/views_health.py`), not for
anyone who can reach the gateway.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, json

bp = Blueprint("health")


async def report(app: Sanic) -> dict[str, Any]:
    """`{"status", "checks", "warnings"}`: the full picture (never raises)."""
    ctx = app.ctx
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
    db_ok = bool(checks["database"]["ok"])
    status = "ok" if db_ok and rasa_ok else ("degraded" if db_ok else "down")
    return {"status": status, "checks": checks, "warnings": []}


def http_status(status: str) -> int:
    return 503 if status == "down" else 200


@bp.get("/healthz")
async def healthz(request: Request) -> HTTPResponse:
    status = (await report(request.app))["status"]
    return json({"status": status}, status=http_status(status))
