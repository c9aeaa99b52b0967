"""Talks to the Rasa server's REST channel (`POST /webhooks/rest/webhook`).

`RASA_URL` may list several replicas (comma-separated); they share the tracker store and a
Redis lock store (bot/endpoints-cluster.yml), so any replica can take any turn. Turns go
to the conversation's own replica; one that refuses the connection or drops it is marked down
for a moment and the turn is tried on the next one at once (channels/replicas.py). Rasa's
HTTP API (pause/resume) needs `RASA_TOKEN` (`rasa run --auth-token`); the REST webhook and
`/` do not.

The channel the message came from travels in `metadata.channel` ("sms" | "wechat" | "web")
so the bot's actions render for the medium. The conversation id sent to Rasa is the hashed
`channels.identity.conversation_id`, never a phone number or openid.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from channels.replicas import KEEPALIVE_S, Replicas
from channels.replies import Reply, from_rasa

# aiohttp rather than httpx on this hot path: httpx/httpcore cost several ms of CPU per
# request under concurrency here (see bench/gateway.py); aiohttp well under one.


_JSON = {"Content-Type": "application/json"}


class BackendUnavailable(Exception):
    """Rasa or its action server did not give a usable answer (down, slow, 5xx, empty)."""


class RasaClient:
    def __init__(self, base_url: str, timeout_s: float, token: str = "") -> None:
        self.replicas = Replicas(base_url)
        self.timeout_s = timeout_s
        self.token = token
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Created lazily: a session belongs to the running event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(
                    total=self.timeout_s, connect=min(3.0, self.timeout_s)
                ),
                connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=300,
                                               keepalive_timeout=KEEPALIVE_S),
                json_serialize=lambda obj: json.dumps(obj, ensure_ascii=False),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def send(self, conversation_id: str, text: str, channel: str) -> list[Reply]:
        payload = {"sender": conversation_id, "message": text, "metadata": {"channel": channel}}
        body = json.dumps(payload, ensure_ascii=False).encode()
        status, raw = await self._post_turn(conversation_id, body)
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

    async def _post_turn(self, conversation_id: str, body: bytes) -> tuple[int, bytes]:
        async def post(base: str) -> tuple[int, bytes]:
            async with self._client().post(
                f"{base}/webhooks/rest/webhook", data=body, headers=_JSON
            ) as resp:
                return resp.status, await resp.read()

        try:
            return await self.replicas.first_answer(conversation_id, post)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise BackendUnavailable(f"rasa: {type(exc).__name__}") from exc

    async def set_paused(self, conversation_id: str, paused: bool) -> bool:
        """Pause/resume the bot for one conversation (Rasa's HTTP API, with RASA_TOKEN)."""
        event = {"event": "pause" if paused else "resume"}
        params = {"token": self.token} if self.token else None
        for base in self.replicas.order(conversation_id):
            url = f"{base}/conversations/{conversation_id}/tracker/events"
            try:
                async with self._client().post(url, json=event, params=params) as resp:
                    return resp.status == 200
            except (TimeoutError, aiohttp.ClientError, OSError):
                continue
        return False

    async def health(self) -> tuple[bool, str]:
        """Up when at least one replica answers; the detail names each one's state."""
        states = [await self._replica_health(base) for base in self.replicas.urls]
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
                    self.replicas.mark_up(base)
                return f"HTTP {resp.status}"
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return type(exc).__name__
