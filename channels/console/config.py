"""Console settings from environment variables (separate from the gateway's Settings).

The client address behind a reverse proxy comes from the gateway's `TRUSTED_PROXIES`
(`channels.ratelimit.client_ip`), the same rule as the public endpoints'.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from channels.ratelimit import Rate

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


@dataclass(frozen=True)
class ConsoleConfig:
    admin_user: str = ""  # CONSOLE_ADMIN_USER: first admin, created at start if no admin exists
    admin_password: str = ""  # CONSOLE_ADMIN_PASSWORD
    session_ttl_s: int = 8 * 3600  # CONSOLE_SESSION_TTL_S: absolute session lifetime
    idle_timeout_s: int = 3600  # CONSOLE_IDLE_TIMEOUT_S: signed out after this long idle
    # CONSOLE_LOCKOUT_THRESHOLD: failed sign-ins for one user name from one client address
    # before that address is locked out for that user (see accounts.Accounts.begin_attempt).
    lockout_threshold: int = 5
    lockout_s: int = 15 * 60  # CONSOLE_LOCKOUT_S: how long such a lock lasts
    # CONSOLE_COOKIE_SECURE: cookies are `Secure` unless this says false (plain-http local
    # development on a host other than localhost; browsers keep Secure cookies on localhost).
    cookie_secure: bool = True
    # Sign-in attempts per minute:burst ("0": off), checked before any password hashing:
    # CONSOLE_SIGNIN_RATE_IP per client address, CONSOLE_SIGNIN_RATE_USER per user name.
    signin_rate_ip: str = "10:10"
    signin_rate_user: str = "10:10"
    # The password-hashing pool: CONSOLE_SCRYPT_WORKERS derivations at once, at most
    # CONSOLE_SCRYPT_QUEUE more waiting, none longer than CONSOLE_SCRYPT_WAIT_S (then 503).
    scrypt_workers: int = 1
    scrypt_queue: int = 8
    scrypt_wait_s: float = 2.0

    def __post_init__(self) -> None:
        Rate.parse(self.signin_rate_ip, "CONSOLE_SIGNIN_RATE_IP")
        Rate.parse(self.signin_rate_user, "CONSOLE_SIGNIN_RATE_USER")
        if self.scrypt_workers < 1 or self.scrypt_queue < 0 or self.scrypt_wait_s <= 0:
            raise ValueError("CONSOLE_SCRYPT_WORKERS >= 1, CONSOLE_SCRYPT_QUEUE >= 0 and "
                             "CONSOLE_SCRYPT_WAIT_S > 0 are required")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ConsoleConfig:
        env = os.environ if env is None else env

        def num(name: str, default: float, kind: type = int) -> float:
            raw = env.get(name, "").strip()
            try:
                return kind(raw) if raw else default
            except ValueError as exc:
                raise ValueError(f"{name} must be a number, got {raw!r}") from exc

        def flag(name: str, default: bool) -> bool:
            raw = env.get(name, "").strip().lower()
            if not raw:
                return default
            if raw not in _TRUE | _FALSE:
                raise ValueError(f"{name} must be true or false, got {raw!r}")
            return raw in _TRUE

        return cls(
            admin_user=env.get("CONSOLE_ADMIN_USER", "").strip(),
            admin_password=env.get("CONSOLE_ADMIN_PASSWORD", ""),
            session_ttl_s=int(num("CONSOLE_SESSION_TTL_S", cls.session_ttl_s)),
            idle_timeout_s=int(num("CONSOLE_IDLE_TIMEOUT_S", cls.idle_timeout_s)),
            lockout_threshold=int(num("CONSOLE_LOCKOUT_THRESHOLD", cls.lockout_threshold)),
            lockout_s=int(num("CONSOLE_LOCKOUT_S", cls.lockout_s)),
            cookie_secure=flag("CONSOLE_COOKIE_SECURE", cls.cookie_secure),
            signin_rate_ip=env.get("CONSOLE_SIGNIN_RATE_IP", cls.signin_rate_ip),
            signin_rate_user=env.get("CONSOLE_SIGNIN_RATE_USER", cls.signin_rate_user),
            scrypt_workers=int(num("CONSOLE_SCRYPT_WORKERS", cls.scrypt_workers)),
            scrypt_queue=int(num("CONSOLE_SCRYPT_QUEUE", cls.scrypt_queue)),
            scrypt_wait_s=float(num("CONSOLE_SCRYPT_WAIT_S", cls.scrypt_wait_s, float)),
        )
