"""Console settings from environment variables (separate from the gateway's Settings)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ConsoleConfig:
    admin_user: str = ""  # CONSOLE_ADMIN_USER: first admin, created at start if no admin exists
    admin_password: str = ""  # CONSOLE_ADMIN_PASSWORD
    session_ttl_s: int = 8 * 3600  # CONSOLE_SESSION_TTL_S: absolute session lifetime
    idle_timeout_s: int = 3600  # CONSOLE_IDLE_TIMEOUT_S: signed out after this long idle
    lockout_threshold: int = 5  # CONSOLE_LOCKOUT_THRESHOLD: failed sign-ins before lock-out
    lockout_s: int = 15 * 60  # CONSOLE_LOCKOUT_S: how long a locked account stays locked
    cookie_secure: bool | None = None  # CONSOLE_COOKIE_SECURE: default = PUBLIC_BASE_URL is https

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ConsoleConfig:
        env = os.environ if env is None else env

        def num(name: str, default: int) -> int:
            raw = env.get(name, "")
            try:
                return int(raw) if raw else default
            except ValueError as exc:
                raise ValueError(f"{name} must be an integer, got {raw!r}") from exc

        secure_raw = env.get("CONSOLE_COOKIE_SECURE", "")
        return cls(
            admin_user=env.get("CONSOLE_ADMIN_USER", "").strip(),
            admin_password=env.get("CONSOLE_ADMIN_PASSWORD", ""),
            session_ttl_s=num("CONSOLE_SESSION_TTL_S", cls.session_ttl_s),
            idle_timeout_s=num("CONSOLE_IDLE_TIMEOUT_S", cls.idle_timeout_s),
            lockout_threshold=num("CONSOLE_LOCKOUT_THRESHOLD", cls.lockout_threshold),
            lockout_s=num("CONSOLE_LOCKOUT_S", cls.lockout_s),
            cookie_secure=secure_raw.lower() in {"1", "true", "yes", "on"} if secure_raw else None,
        )
