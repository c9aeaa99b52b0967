"""Which Rasa replica takes the next request: a conversation's own, the ones that failed last.

A conversation goes to the same replica turn after turn (by a hash of its id), so the
replica's kept tracker is still current (bot/components/tracker_store.py: a turn on another
replica makes the next one rebuild the tracker from the database, ~3x the CPU). Any replica
can take any turn, though: when its replica fails, the conversation moves to the next one and
keeps its context through the shared tracker store. Requests without a conversation go
round-robin. Used by the gateway's Rasa client and by the local stand-in for a Kubernetes
Service in front of Rasa's REST channel (deploy/balancer.py), so both behave the same.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp

T = TypeVar("T")
DOWN_FOR_S = 2.0
# Errors after which the next replica is tried at once: no connection (the turn was not
# processed), or the replica died during the turn. In the second case it may have saved the
# turn just before dying (Rasa saves, then answers), and the next replica runs it again: the
# resident still gets one answer (the gateway stores one per message), Rasa's tracker shows
# the message twice. Measured by bench/kill_stack.py ("rasa_reprocessed"). The gateway's
# retry worker re-asks a message left pending for the same reason, on the same terms.
RETRYABLE = (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError)
# Only a refused connection marks a replica down. A dropped one is most often a kept-alive
# connection the server had just closed, not a dead replica: marking the replica down then
# sent its conversations elsewhere for DOWN_FOR_S, where their kept trackers are missing.
DOWN_ERRORS = (aiohttp.ClientConnectorError,)
# Idle connections are closed by us before Sanic closes them (its keep-alive is 5 s).
KEEPALIVE_S = 2.0


class Replicas:
    def __init__(self, urls: str | list[str], down_for_s: float = DOWN_FOR_S) -> None:
        listed = urls.split(",") if isinstance(urls, str) else urls
        self.urls = [u.strip().rstrip("/") for u in listed if u.strip()]
        if not self.urls:
            raise ValueError("no replica URL given")
        self.down_for_s = down_for_s
        self._next = 0
        self._down_until: dict[str, float] = {}

    def order(self, conversation: str | None = None) -> list[str]:
        """Replicas to try for one request, the ones marked down last."""
        n = len(self.urls)
        if conversation:
            start = zlib.crc32(conversation.encode()) % n
        else:
            start, self._next = self._next, (self._next + 1) % n
        ring = [self.urls[(start + i) % n] for i in range(n)]
        now = time.monotonic()
        return sorted(ring, key=lambda u: self._down_until.get(u, 0.0) > now)

    async def first_answer(self, conversation: str | None,
                           call: Callable[[str], Awaitable[T]]) -> T:
        """`call(base_url)` on the conversation's replica, then the next ones on a RETRYABLE
        error; raises the last such error when none answered (other errors at once)."""
        last: Exception | None = None
        for base in self.order(conversation):
            try:
                return await call(base)
            except RETRYABLE as exc:
                if isinstance(exc, DOWN_ERRORS):
                    self.mark_down(base)
                last = exc
        assert last is not None  # there is at least one replica
        raise last

    def mark_down(self, url: str) -> None:
        self._down_until[url] = time.monotonic() + self.down_for_s

    def mark_up(self, url: str) -> None:
        self._down_until.pop(url, None)
