"""Talks to the Rasa server's REST channel (`POST /webhooks/rest/webhook`).

The channel the message came from travels in `metadata.channel` ("sms" | "wechat" | "web")
so the bot's actions render for the medium. The conversation id sent to Rasa is the hashed
`channels.identity.conversation_id`, never a phone number or openid.
"""

from __future__ import annotations

from typing import Any

import httpx

from channels.replies import Reply, from_rasa


class BackendUnavailable(Exception):
    """Rasa or its action server did not give a usable answer (down, slow, 5xx, empty)."""


class RasaClient:
    def __init__(self, base_url: str, timeout_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=min(3.0, timeout_s)),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=40),
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def send(self, conversation_id: str, text: str, channel: str) -> list[Reply]:
        payload = {"sender": conversation_id, "message": text, "metadata": {"channel": channel}}
        try:
            resp = await self._client.post(f"{self.base_url}/webhooks/rest/webhook", json=payload)
        except httpx.HTTPError as exc:
            raise BackendUnavailable(f"rasa: {type(exc).__name__}") from exc
        if resp.status_code != 200:
            raise BackendUnavailable(f"rasa: HTTP {resp.status_code}")
        try:
            body: Any = resp.json()
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
        try:
            resp = await self._client.post(
                f"{self.base_url}/conversations/{conversation_id}/tracker/events", json=event
            )
        except httpx.HTTPError:
            return False
        return resp.status_code == 200

    async def health(self) -> tuple[bool, str]:
        try:
            resp = await self._client.get(f"{self.base_url}/", timeout=2.0)
        except httpx.HTTPError as exc:
            return False, type(exc).__name__
        return resp.status_code == 200, f"HTTP {resp.status_code}"
