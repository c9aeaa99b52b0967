"""`/widget/widget.js`, `/widget/chat` + `/widget/updates` (the JSON chat API with CORS for
embedding pages on other origins) and `/widget/demo` (a host page under a strict CSP).

Allowed embedding origins: `WIDGET_ALLOWED_ORIGINS` (comma-separated, e.g.
`https://ylbzj.huining.gov.cn,https://www.example.gov.cn`); default: only the origin of
`PUBLIC_BASE_URL`; `*` (any site) only when configured so. The chat endpoints carry no
cookies: a conversation is named by the random `sender` id the widget keeps in the
browser's localStorage, and opened by the `conversation_token` kept beside it (sent as
`X-Conversation-Token`, see `channels/api/routes.py`). The channel is always `web`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, html
from sanic.response import json as json_response

from channels.api import routes as api_routes

bp = Blueprint("widget", url_prefix="/widget")
STATIC = Path(__file__).parent / "static"
DEMO_CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
            "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL (what browsers send as `Origin`)."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def allowed_origins(request: Request) -> list[str]:
    settings = request.app.ctx.settings
    configured = [o.strip().rstrip("/").lower()
                  for o in settings.widget_allowed_origins.split(",") if o.strip()]
    return configured or [origin_of(settings.public_base_url)]


def _allowed(request: Request, origin: str) -> bool:
    allowed = allowed_origins(request)
    return "*" in allowed or origin.rstrip("/").lower() in allowed


def _cors(request: Request, response: HTTPResponse) -> HTTPResponse:
    origin = request.headers.get("origin")
    if "*" in allowed_origins(request):
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origin and _allowed(request, origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type, X-Conversation-Token"
    response.headers["Access-Control-Max-Age"] = "600"
    response.headers["Access-Control-Expose-Headers"] = "Retry-After"
    return response


def _origin_refused(request: Request) -> HTTPResponse | None:
    """A browser on a site that may not embed the widget (requests without `Origin` come
    from no browser page, and CORS protects nothing there: the rate limits apply)."""
    origin = request.headers.get("origin")
    same_origin = f"{request.scheme}://{request.host}".lower()  # e.g. /widget/demo
    if origin and not _allowed(request, origin) and origin.lower() != same_origin:
        return api_routes.error(403, "origin_not_allowed", "该网站未获准嵌入医保助手挂件")
    return None


@bp.get("/widget.js")
async def widget_js(request: Request) -> HTTPResponse:
    resp = HTTPResponse((STATIC / "widget.js").read_bytes(),
                        content_type="application/javascript; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=300",
                                 "X-Content-Type-Options": "nosniff"})
    return _cors(request, resp)


@bp.route("/chat", methods=["OPTIONS"])
async def chat_preflight(request: Request) -> HTTPResponse:
    return _cors(request, HTTPResponse(status=204))


@bp.route("/updates", methods=["OPTIONS"])
async def updates_preflight(request: Request) -> HTTPResponse:
    return _cors(request, HTTPResponse(status=204))


@bp.post("/chat")
async def chat(request: Request) -> HTTPResponse:
    """Same contract as `POST /api/chat`; channel `web` only (never `console`)."""
    refused = _origin_refused(request)
    if refused is not None:
        return _cors(request, refused)
    return _cors(request, await api_routes.handle_chat(request))


@bp.get("/updates")
async def updates(request: Request) -> HTTPResponse:
    """Same contract as `GET /api/chat/updates`: late answers and staff messages."""
    refused = _origin_refused(request)
    if refused is not None:
        return _cors(request, refused)
    return _cors(request, await api_routes.handle_updates(request))


@bp.get("/demo")
async def demo(request: Request) -> HTTPResponse:
    region = (request.args.get("region") or "会宁县").strip()[:20]
    body = (STATIC / "demo.html").read_text(encoding="utf-8")
    from markupsafe import escape

    body = body.replace("{{REGION}}", str(escape(region)))
    return html(body, headers={"Content-Security-Policy": DEMO_CSP,
                               "X-Content-Type-Options": "nosniff",
                               "Referrer-Policy": "no-referrer"})


@bp.get("/demo.css")
async def demo_css(request: Request) -> HTTPResponse:
    return HTTPResponse((STATIC / "demo.css").read_bytes(), content_type="text/css; charset=utf-8")


@bp.get("/favicon.svg")
async def favicon(request: Request) -> HTTPResponse:
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
           '<rect width="16" height="16" rx="3" fill="#0b5fa5"/></svg>')
    return HTTPResponse(svg, content_type="image/svg+xml")


@bp.get("/config")
async def config(request: Request) -> HTTPResponse:
    """What the widget may need to know about this gateway (hotline)."""
    return _cors(request, json_response({"hotline": request.app.ctx.settings.hotline},
                                        ensure_ascii=False))
