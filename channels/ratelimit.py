"""Rate limits and the optional API key of the public JSON endpoints.

`/api/chat`, `/api/chat/updates` and the widget's `/widget/chat`, `/widget/updates` are
open to the internet. Two in-process token buckets guard each of them: one per resident
(`channel:sender`) and one per client IP (senders are free-form ids, so one client could
rotate them). Chat and polling have separate buckets: the widget polls every 4 s while open.

Configuration (see `.env.example`), `RATE:BURST` with RATE per minute, `0` turns a limit off:

    API_RATE_CHAT_SENDER=20:10   API_RATE_CHAT_IP=120:60
    API_RATE_POLL_SENDER=60:20   API_RATE_POLL_IP=1200:300
    TRUSTED_PROXIES=             # e.g. 127.0.0.1,10.0.0.0/8: only then X-Forwarded-For counts
    API_KEYS=                    # comma-separated; when set, /api/* needs one (not /widget/*)

A refused request gets 429 with `Retry-After` (whole seconds) and a Chinese message; it is
neither stored nor sent to Rasa. Callers with a valid API key (a bureau's own server relaying
many residents) skip the per-IP buckets, not the per-resident ones. Buckets live in each
gateway process: with `WORKERS=N` a client can get up to N times the rate.
"""

from __future__ import annotations

import hmac
import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Rate:
    per_min: float
    burst: int

    @classmethod
    def parse(cls, spec: str, name: str = "rate") -> Rate | None:
        """`"20:10"` → 20 per minute, bursts of 10; `"20"` → burst 20; `"0"`/`""` → no limit."""
        spec = spec.strip().lower()
        if spec in ("", "0", "off", "none"):
            return None
        per_min, _, burst = spec.partition(":")
        try:
            rate = cls(float(per_min), int(burst) if burst else max(1, int(float(per_min))))
        except ValueError as exc:
            raise ValueError(f"{name} must look like 20:10 (per minute:burst), got {spec!r}") from exc
        if rate.per_min <= 0 or rate.burst < 1:
            raise ValueError(f"{name} needs a positive rate and a burst of at least 1")
        return rate


class TokenBuckets:
    """One token bucket per key; `take(key)` → 0.0 if allowed, else seconds to wait."""

    def __init__(
        self, rate: Rate, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.per_s = rate.per_min / 60.0
        self.max_keys = max_keys
        self.clock = clock
        self._state: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str) -> float:
        now = self.clock()
        burst = self.rate.burst
        tokens, at = self._state.get(key, (burst, now))
        tokens = min(burst, tokens + (now - at) * self.per_s)
        if tokens >= 1.0:
            self._state[key] = (tokens - 1.0, now)
            if len(self._state) > self.max_keys:
                self._prune(now)
            return 0.0
        self._state[key] = (tokens, now)
        return (1.0 - tokens) / self.per_s

    def _prune(self, now: float) -> None:
        """Forget full buckets (same as new); if a flood of keys keeps it large, the oldest."""
        full_after = self.rate.burst / self.per_s
        self._state = {k: v for k, v in self._state.items() if now - v[1] < full_after}
        if len(self._state) > self.max_keys:
            keep = list(self._state.items())[-(self.max_keys // 2) :]
            self._state = dict(keep)

    def __len__(self) -> int:
        return len(self._state)


def parse_networks(spec: str) -> list[Network]:
    nets: list[Network] = []
    for part in spec.split(","):
        if part.strip():
            try:
                nets.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError as exc:
                raise ValueError(f"TRUSTED_PROXIES: {part.strip()!r} is no IP or network") from exc
    return nets


def _in(addr: str, nets: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in net for net in nets)


def client_ip(peer: str, forwarded_for: str | None, trusted: list[Network]) -> str:
    """The client's address: the TCP peer, unless the peer is a trusted proxy; then the
    right-most `X-Forwarded-For` entry that is not itself a trusted proxy (entries to its
    left were written by the client and can be forged)."""
    if not forwarded_for or not trusted or not _in(peer, trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # garbage where a proxy should have written an address
        if not _in(hop, trusted):
            return hop
    return hops[0] if hops else peer


@dataclass
class Decision:
    retry_after_s: float  # 0: allowed
    scope: str = ""  # "sender" | "ip"

    @property
    def allowed(self) -> bool:
        return self.retry_after_s <= 0

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after_s)))


class ApiGuard:
    """The limits and keys of the JSON API, built from `Settings`."""

    def __init__(
        self,
        *,
        chat_sender: str,
        chat_ip: str,
        poll_sender: str,
        poll_ip: str,
        trusted_proxies: str = "",
        api_keys: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        def buckets(spec: str, name: str) -> TokenBuckets | None:
            rate = Rate.parse(spec, name)
            return TokenBuckets(rate, clock=clock) if rate is not None else None

        self.buckets = {
            ("chat", "sender"): buckets(chat_sender, "API_RATE_CHAT_SENDER"),
            ("chat", "ip"): buckets(chat_ip, "API_RATE_CHAT_IP"),
            ("poll", "sender"): buckets(poll_sender, "API_RATE_POLL_SENDER"),
            ("poll", "ip"): buckets(poll_ip, "API_RATE_POLL_IP"),
        }
        self.trusted = parse_networks(trusted_proxies)
        self.keys = [k.strip().encode() for k in api_keys.split(",") if k.strip()]

    @property
    def keys_required(self) -> bool:
        return bool(self.keys)

    def key_ok(self, presented: str | None) -> bool:
        if not presented:
            return False
        given = presented.strip().encode()
        # compare with every key (no early exit) so timing tells nothing about which matched
        return sum(hmac.compare_digest(given, key) for key in self.keys) > 0

    def check_ip(self, kind: str, ip: str) -> Decision:
        limiter = self.buckets[(kind, "ip")]
        return Decision(limiter.take(ip) if limiter is not None else 0.0, "ip")

    def check_sender(self, kind: str, channel: str, sender: str) -> Decision:
        limiter = self.buckets[(kind, "sender")]
        return Decision(
            limiter.take(f"{channel}:{sender}") if limiter is not None else 0.0, "sender"
        )
