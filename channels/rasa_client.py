"""Talks to the Rasa server's REST channel (`POST /webhooks/rest/webhook`).

`RASA_URL` may list several replicas (comma-separated); they share the tracker store and a
Redis lock store (bot/endpoints-cluster.yml), so any replica can take any turn. Turns go
round-robin to the replicas not marked down; a replica that refuses the connection or drops
it is marked down for `DOWN_FOR_S` and the turn is tried on the next one at once (Rasa saves
a turn only after it has answered, so a turn that got no answer was not processed). Rasa's
HTTP API (pause/resume) needs `RASA_TOKEN` (`rasa run --auth-token`); the REST webhook and
`/` do not.

The channel the message came from travels in `metadata.channel` ("sms" | "wechat" | "web")
so the bot's actions render for the medium. The conversation id sent to Rasa is the hashed
`channels.identity.conversation_id`, never a phone number or openid.
"""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp

from channels.replies import Reply, from_rasa

# aiohttp rather than httpx on this hot path: httpx/httpcore cost several ms of CPU per
# request under concurrency here (see bench/gateway.py); aiohttp well under one.


_JSON = {"Content-Type": "application/json"}
DOWN_FOR_S = 2.0
# Errors after which the turn was certainly not processed, or the replica died while
# processing it (it saves nothing before answering): try the next replica.
_RETRYABLE = (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError)


class BackendUnavailable(Exception):
    """Rasa or its action server did not give a usable answer (down, slow, 5xx, empty)."""


class RasaClient:
    def __init__(self, base_url: str, timeout_s: float, token: str = "") -> None:
        self.base_urls = [u.strip().rstrip("/") for u in base_url.split(",") if u.strip()]
        if not self.base_urls:
            raise ValueError("RASA_URL is empty")
        self.timeout_s = timeout_s
        self.token = token
        self._session: aiohttp.ClientSession | None = None
        self._next = 0
        self._down_until: dict[str, float] = {}

    def _order(self) -> list[str]:
        """Replicas to try for one turn: round-robin, the ones marked down last."""
        n = len(self.base_urls)
        start, self._next = self._next, (self._next + 1) % n
        ring = [self.base_urls[(start + i) % n] for i in range(n)]
        now = time.monotonic()
        return sorted(ring, key=lambda u: self._down_until.get(u, 0.0) > now)

    def _client(self) -> aiohttp.ClientSession:
        # Created lazily: a session belongs to the running event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(
                    total=self.timeout_s, connect=min(3.0, self.timeout_s)
                ),
                connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=300),
                json_serialize=lambda obj: json.dumps(obj, ensure_ascii=False),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def send(self, conversation_id: str, text: str, channel: str) -> list[Reply]:
        payload = {"sender": conversation_id, "message": text, "metadata": {"channel": channel}}
        body = json.dumps(payload, ensure_ascii=False).encode()
        status, raw = await self._post_turn(body)
        if status != 200:
            raise BackendUnavailable(f"rasa: HTTP {status}")
        try:
            body: Any = json.loads(raw)
        except ValueError as exc:
            raise BackendUnavailable("rasa: response is not JSON") from exc
        if not isinstance(body, list):
            raise BackendUnavailable("rasa: response is not a list")
        replies = from_rasa(body)
        if not replies:
            # Rasa answers 200 with [] when an action failed (e.g. action server down).
            raise BackendUnavailable("rasa: empty answer (action server down?)")
        return replies

    async def _post_turn(self, body: bytes) -> tuple[int, bytes]:
        last: Exception | None = None
        for base in self._order():
            try:
                async with self._client().post(
                    f"{base}/webhooks/rest/webhook", data=body, headers=_JSON
                ) as resp:
                    return resp.status, await resp.read()
            except _RETRYABLE as exc:
                self._down_until[base] = time.monotonic() + DOWN_FOR_S
                last = exc
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                raise BackendUnavailable(f"rasa: {type(exc).__name__}") from exc
        raise BackendUnavailable(f"rasa: {type(last).__name__}") from last

    async def set_paused(self, conversation_id: str, paused: bool) -> bool:
        """Pause/resume the bot for one conversation (needs `rasa run --enable-api`)."""
        event = {"event": "pause" if paused else "resume"}
        params = {"token": self.token} if self.token else None
        for base in self._order():  # shared tracker store: any live replica will do
            url = f"{base}/conversations/{conversation_id}/tracker/events"
            try:
                async with self._client().post(url, json=event, params=params) as resp:
                    return resp.status == 200
            except (TimeoutError, aiohttp.ClientError, OSError):
                continue
        return False

    async def health(self) -> tuple[bool, str]:
        """Up when at least one replica answers; the detail names each one's state."""
        states = [await self._replica_health(base) for base in self.base_urls]
        ok = [s for s in states if s == "HTTP 200"]
        if len(states) == 1:
            return bool(ok), states[0]
        return bool(ok), f"{len(ok)}/{len(states)} replicas up"

    async def _replica_health(self, base: str) -> str:
        try:
            async with self._client().get(
                f"{base}/", timeout=aiohttp.ClientTimeout(total=2.0)
            ) as resp:
                if resp.status == 200:
                    self._down_until.pop(base, None)
                return f"HTTP {resp.status}"
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return type(exc).__name__
