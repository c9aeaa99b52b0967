"""Gateway configuration, read from environment variables (see `.env.example`).

Nothing secret has a real default: an unset Twilio or WeChat secret disables that channel's
webhook (it answers 503) instead of accepting unsigned traffic.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from actions import handoff_store
from actions.render.catalog import hotline as catalog_hotline


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Every knob of the gateway. Field `x_y` is read from env var `X_Y`."""

    public_base_url: str = "http://localhost:8000"
    host: str = "0.0.0.0"
    port: int = 8000

    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    twilio_api_base_url: str = "https://api.twilio.com"

    wechat_token: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_encoding_aes_key: str = ""
    wechat_api_base_url: str = "https://api.weixin.qq.com"
    # Passive-reply budget: WeChat drops a reply that is not back within 5 s.
    wechat_reply_budget_s: float = 4.0
    # Customer-service messages: allowed for 48 h after the resident's last message,
    # at most this many per resident message.
    wechat_cs_window_s: float = 48 * 3600
    wechat_cs_quota: int = 5

    # One database for the message log, the console and the action server's handoff queue.
    database_url: str = handoff_store.DEFAULT_URL
    database_table_prefix: str = "gw_"
    # SQLite only: FULL fsyncs every commit (a stored message survives a power cut), NORMAL
    # only at checkpoints (survives a crash of the gateway, not of the machine).
    sqlite_synchronous: str = "NORMAL"
    # HMAC key for resident identifiers (phone numbers, openids) in the message log. Empty:
    # the key in `sender_hash_secret_file` (relative to the working directory), generated
    # once; the gateway refuses to start if neither works.
    sender_hash_secret: str = field(default="", repr=False)
    sender_hash_secret_file: str = "var/sender-hash-secret"

    # One Rasa server, or several replicas comma-separated (the gateway balances across them).
    rasa_url: str = "http://localhost:5005"
    # Rasa's HTTP API token (`rasa run --auth-token`), for pause/resume on staff take-over.
    rasa_token: str = field(default="", repr=False)
    # How long one Rasa call may take in the background before the message is left pending.
    rasa_timeout_s: float = 30.0
    # How long an SMS / JSON API request waits for the answer before apologising.
    sync_reply_budget_s: float = 10.0
    # How often pending messages are retried, and how long a claim on one lasts.
    retry_interval_s: float = 5.0
    claim_ttl_s: float = 60.0
    max_attempts: int = 50
    # Outbound (Twilio / WeChat API) retries within one delivery attempt.
    outbound_retries: int = 3
    outbound_backoff_s: float = 0.5

    # How long a thread may hold the GIL before a waiting one gets it (Python's default: 5 ms).
    # The event loop and the store thread hand work back and forth for every message; while
    # the loop is busy each hand-off could wait up to the whole interval. 0: Python's default.
    gil_switch_interval_ms: float = 0.5

    hotline: str = catalog_hotline()  # the service hotline, said once (actions/render/catalog.yaml)
    max_body_bytes: int = 64 * 1024
    max_message_chars: int = 1000

    # JSON API and widget limits, "per minute:burst" per resident and per client IP ("0": off),
    # for chat messages and for polling `/updates` (see channels/ratelimit.py).
    api_rate_chat_sender: str = "20:10"
    api_rate_chat_ip: str = "120:60"
    api_rate_poll_sender: str = "60:20"
    api_rate_poll_ip: str = "1200:300"
    # Proxies whose X-Forwarded-For is believed (IPs / CIDRs, comma-separated); empty: none.
    trusted_proxies: str = ""
    # Keys for server-to-server callers of /api/* (comma-separated); when set, /api/* needs one.
    api_keys: str = field(default="", repr=False)
    # Sites allowed to embed the widget (origins, comma-separated); empty: only the origin
    # of `public_base_url`; "*": any site (only when set explicitly).
    widget_allowed_origins: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "public_base_url", self.public_base_url.rstrip("/"))
        object.__setattr__(self, "rasa_url", self.rasa_url.rstrip("/"))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from `env` (default `os.environ`); `overrides` win over both."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f.name.upper())
            if raw is None or raw == "":
                continue
            kind = type(f.default) if f.default is not None else str
            if kind is bool:
                values[f.name] = _bool(raw)
            elif kind in (int, float):
                try:
                    values[f.name] = kind(raw)
                except ValueError as exc:
                    raise ValueError(f"{f.name.upper()} must be a number, got {raw!r}") from exc
            else:
                values[f.name] = raw
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_auth_token)

    @property
    def wechat_enabled(self) -> bool:
        return bool(self.wechat_token)

    @property
    def wechat_safe_mode(self) -> bool:
        return bool(self.wechat_encoding_aes_key)

    @property
    def wechat_can_push(self) -> bool:
        return bool(self.wechat_app_id and self.wechat_app_secret)
