"""Talks to the Rasa server's REST channel (`POST /webhooks/rest/webhook`).

The channel the message came from travels in `metadata.channel` ("sms" | "wechat" | "web")
so the bot's actions render for the medium. The conversation id sent to Rasa is the hashed
`channels.identity.conversation_id`, never a phone number or openid.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from channels.replies import Reply, from_rasa

# aiohttp rather than httpx on this hot path: httpx/httpcore cost several ms of CPU per
# request under concurrency here (see bench/gateway.py); aiohttp well under one.


_JSON = {"Content-Type": "application/json"}


class BackendUnavailable(Exception):
    """Rasa or its action server did not give a usable answer (down, slow, 5xx, empty)."""


class RasaClient:
    def __init__(self, base_url: str, timeout_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None
        self._webhook = f"{self.base_url}/webhooks/rest/webhook"

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
        try:
            async with self._client().post(self._webhook, data=body, headers=_JSON) as resp:
                status = resp.status
                raw = await resp.read()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise BackendUnavailable(f"rasa: {type(exc).__name__}") from exc
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

    async def set_paused(self, conversation_id: str, paused: bool) -> bool:
        """Pause/resume the bot for one conversation (needs `rasa run --enable-api`)."""
        event = {"event": "pause" if paused else "resume"}
        url = f"{self.base_url}/conversations/{conversation_id}/tracker/events"
        try:
            async with self._client().post(url, json=event) as resp:
                return resp.status == 200
        except (TimeoutError, aiohttp.ClientError, OSError):
            return False

    async def health(self) -> tuple[bool, str]:
        try:
            async with self._client().get(
                f"{self.base_url}/", timeout=aiohttp.ClientTimeout(total=2.0)
            ) as resp:
                return resp.status == 200, f"HTTP {resp.status}"
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return False, type(exc).__name__
