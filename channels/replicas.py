"""Which Rasa replica takes the next request: round-robin, the ones that just failed last.

Used by the gateway's Rasa client and by the local stand-in for a Kubernetes Service in
front of Rasa's REST channel (deploy/balancer.py), so both spread and fail over the same way.
"""

from __future__ import annotations

import time

import aiohttp

DOWN_FOR_S = 2.0
# Errors after which a request was certainly not processed (no connection), or the replica
# died while processing it (Rasa saves a turn only after answering it): try the next one.
RETRYABLE = (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError)


class Replicas:
    def __init__(self, urls: str | list[str], down_for_s: float = DOWN_FOR_S) -> None:
        listed = urls.split(",") if isinstance(urls, str) else urls
        self.urls = [u.strip().rstrip("/") for u in listed if u.strip()]
        if not self.urls:
            raise ValueError("no replica URL given")
        self.down_for_s = down_for_s
        self._next = 0
        self._down_until: dict[str, float] = {}

    def order(self) -> list[str]:
        """Replicas to try for one request: round-robin, the ones marked down last."""
        n = len(self.urls)
        start, self._next = self._next, (self._next + 1) % n
        ring = [self.urls[(start + i) % n] for i in range(n)]
        now = time.monotonic()
        return sorted(ring, key=lambda u: self._down_until.get(u, 0.0) > now)

    def mark_down(self, url: str) -> None:
        self._down_until[url] = time.monotonic() + self.down_for_s

    def mark_up(self, url: str) -> None:
        self._down_until.pop(url, None)
