"""`GET /console/api/health`: the gateway's health details, for signed-in staff only
(the public `/healthz` says up or down and nothing more)."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from channels import health
from channels.console.web import accounts, bp


@bp.get("/api/health")
async def api_health(request: Request) -> HTTPResponse:
    body = await health.report(request.app)
    if not accounts(request.app).config.cookie_secure:
        body["warnings"].append("CONSOLE_COOKIE_SECURE=false: console cookies also travel "
                                "over plain http (local development only)")
    return json_response(body, status=health.http_status(body["status"]), ensure_ascii=False)
