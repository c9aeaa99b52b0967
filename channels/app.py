"""The gateway's Sanic app factory.

`create_app(settings)` wires the message store, the Rasa client, the channel outbounds and
the blueprints: SMS (`/sms/<provider>`), WeChat (`/wechat`), JSON API (`/api/...`) and
`/healthz`. Packages `channels.console` and `channels.widget`, when they exist, are mounted
too if they expose a Sanic `Blueprint` named `bp` (or pass `blueprints=[...]`).

Everything the routes need lives on `app.ctx`: `settings`, `store` (`MessageStore`),
`gateway` (`Gateway`: receive, retry worker, `send_to_conversation`, `take_over`),
`api_guard` (`ApiGuard`: rate limits and API keys of the JSON endpoints),
`sms_providers` (name → provider) and `wechat_crypto` (None unless safe mode).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import importlib
import itertools
import logging
import sys

from sanic import Blueprint, Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json
from sqlalchemy.exc import SQLAlchemyError
from wechatpy.crypto import WeChatCrypto

from channels import health
from channels.api import routes as api_routes
from channels.identity import install_log_redaction, load_sender_hash_secret
from channels.rasa_client import RasaClient
from channels.ratelimit import ApiGuard
from channels.service import Gateway, Outbound
from channels.settings import Settings
from channels.sms import routes as sms_routes
from channels.sms.provider import SmsProvider
from channels.sms.twilio import TwilioProvider
from channels.store import MessageStore
from channels.wechat import routes as wechat_routes
from channels.wechat.cs_api import CustomerServiceClient, WeChatOutbound

log = logging.getLogger("channels")
OPTIONAL_BLUEPRINT_PACKAGES = ("channels.console", "channels.widget")
_names = itertools.count()


def build_sms_providers(settings: Settings) -> dict[str, SmsProvider]:
    """Registered SMS providers; add a domestic provider here (see sms/provider.py)."""
    providers: dict[str, SmsProvider] = {}
    if settings.twilio_enabled:
        providers["twilio"] = TwilioProvider(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.twilio_from_number,
            settings.twilio_api_base_url,
            max_body_bytes=settings.max_body_bytes,
            retries=settings.outbound_retries,
            backoff_s=settings.outbound_backoff_s,
        )
    return providers


def _optional_blueprints() -> list[Blueprint]:
    found: list[Blueprint] = []
    for name in OPTIONAL_BLUEPRINT_PACKAGES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        bp = getattr(module, "bp", None)
        if isinstance(bp, Blueprint):
            found.append(bp)
    return found


def create_app(
    settings: Settings | None = None,
    *,
    blueprints: list[Blueprint] | None = None,
    name: str | None = None,
    retry_worker: bool = True,
) -> Sanic:
    settings = settings or Settings.from_env()
    # Configured, or generated once per installation; SecretUnavailable: do not start.
    settings = dataclasses.replace(settings, sender_hash_secret=load_sender_hash_secret(
        settings.sender_hash_secret, settings.sender_hash_secret_file))
    app = Sanic(name or f"channels_{next(_names)}")
    install_log_redaction()  # after Sanic() has set up its own log handlers
    app.config.REQUEST_MAX_SIZE = max(settings.max_body_bytes, 1024) * 2
    app.config.FALLBACK_ERROR_FORMAT = "json"

    store = MessageStore(
        settings.database_url,
        table_prefix=settings.database_table_prefix,
        hash_secret=settings.sender_hash_secret,
        claim_ttl_s=settings.claim_ttl_s,
        max_attempts=settings.max_attempts,
        sqlite_synchronous=settings.sqlite_synchronous,
    )
    store.create_all()
    rasa = RasaClient(settings.rasa_url, settings.rasa_timeout_s, settings.rasa_token)
    providers = build_sms_providers(settings)
    outbounds: dict[str, Outbound] = {}
    if providers:
        outbounds["sms"] = sms_routes.SmsOutbound(next(iter(providers.values())))
    cs_client: CustomerServiceClient | None = None
    if settings.wechat_can_push:
        cs_client = CustomerServiceClient(
            settings.wechat_api_base_url,
            settings.wechat_app_id,
            settings.wechat_app_secret,
            retries=settings.outbound_retries,
            backoff_s=settings.outbound_backoff_s,
        )
        outbounds["wechat"] = WeChatOutbound(
            cs_client, store, settings.wechat_cs_window_s, settings.wechat_cs_quota
        )
    crypto = None
    if settings.wechat_enabled and settings.wechat_safe_mode:
        crypto = WeChatCrypto(
            settings.wechat_token, settings.wechat_encoding_aes_key, settings.wechat_app_id
        )

    app.ctx.settings = settings
    app.ctx.api_guard = ApiGuard(
        chat_sender=settings.api_rate_chat_sender,
        chat_ip=settings.api_rate_chat_ip,
        poll_sender=settings.api_rate_poll_sender,
        poll_ip=settings.api_rate_poll_ip,
        trusted_proxies=settings.trusted_proxies,
        api_keys=settings.api_keys,
    )
    app.ctx.store = store
    app.ctx.gateway = Gateway(settings, store, rasa, outbounds)
    app.ctx.sms_providers = providers
    app.ctx.wechat_crypto = crypto
    app.ctx.retry_task = None

    for bp in [health.bp, sms_routes.bp, wechat_routes.bp, api_routes.bp]:
        app.blueprint(bp)
    for bp in blueprints if blueprints is not None else _optional_blueprints():
        app.blueprint(bp)

    @app.exception(Exception)
    async def _unexpected(request: Request, exc: Exception) -> HTTPResponse:
        # Message log unreachable: 503, so WeChat retries; nothing was stored or answered.
        status = 503 if isinstance(exc, SQLAlchemyError) else getattr(exc, "status_code", 500)
        if status >= 500:
            log.exception("unhandled error on %s", request.path)
        message = "请求无效" if status < 500 else "服务暂时不可用，请稍后再试"
        return json({"error": {"code": f"http_{status}", "message": message}}, status=status)

    @app.after_server_start
    async def _start_worker(app: Sanic) -> None:
        if _process["freeze_gc"]:
            # Everything built at start-up (Sanic, SQLAlchemy, routes, ...) is never garbage:
            # keep it out of the collector, so full collections only scan request garbage.
            gc.collect()
            gc.freeze()
        if retry_worker:
            app.ctx.retry_task = asyncio.get_running_loop().create_task(
                app.ctx.gateway.retry_loop()
            )

    @app.before_server_stop
    async def _stop_worker(app: Sanic) -> None:
        task = app.ctx.retry_task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await app.ctx.gateway.close()
        for provider in providers.values():
            close = getattr(provider, "close", None)
            if close is not None:
                await close()
        if cs_client is not None:
            await cs_client.close()

    return app


_process = {"freeze_gc": False}


def configure_process(settings: Settings) -> None:
    """Process-wide knobs of a serving gateway process (not applied in tests)."""
    # Cyclic GC: young collections every 10,000 net allocations instead of 700, and the
    # start-up heap frozen once the server runs (channels/README.md "Decisions").
    gc.set_threshold(10_000, 10, 10)
    _process["freeze_gc"] = True
    if settings.gil_switch_interval_ms > 0:
        sys.setswitchinterval(settings.gil_switch_interval_ms / 1000)


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )


def app_from_env() -> Sanic:
    """App factory for `python -m channels` worker processes (settings from the env)."""
    configure_logging()
    settings = Settings.from_env()
    configure_process(settings)
    return create_app(settings, name="channels")
