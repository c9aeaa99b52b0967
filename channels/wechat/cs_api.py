"""WeChat customer-service message API (`cgi-bin/message/custom/send`) with token cache.

Used when an answer misses the 5-second passive-reply window, for answers to messages that
waited out a back-end outage, and for staff messages. The API only works within 48 hours of
the resident's last message and allows a limited number of messages per resident message;
the gateway tracks both in the store (`take_push_quota`) and the API's own refusals
(45015 window, 45047 quota) are final, not retried.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from channels.replies import Reply, as_text
from channels.service import DeliveryError
from channels.store import Conversation, MessageStore
from channels.wechat.xmlsafe import clean_text, fit_bytes

TOKEN_ERRORS = {40001, 40014, 42001}
FINAL_ERRORS = {45015: "window", 45047: "quota", 43004: "unsubscribed", 40003: "bad openid"}


class CustomerServiceClient:
    def __init__(
        self,
        api_base_url: str,
        app_id: str,
        app_secret: str,
        *,
        retries: int = 3,
        backoff_s: float = 0.5,
    ) -> None:
        self.api_base_url = api_base_url.rstrip("/")
        self.app_id = app_id
        self.app_secret = app_secret
        self.retries = retries
        self.backoff_s = backoff_s
        self._client = httpx.AsyncClient(timeout=10.0)
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()

    async def close(self) -> None:
        await self._client.aclose()

    async def _access_token(self, force: bool = False) -> str:
        async with self._token_lock:
            if not force and self._token and time.monotonic() < self._token_expires:
                return self._token
            resp = await self._client.get(
                f"{self.api_base_url}/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.app_id,
                    "secret": self.app_secret,
                },
            )
            data = resp.json()
            token = data.get("access_token")
            if not token:
                raise DeliveryError(f"wechat token: {data.get('errcode')}", retryable=True)
            self._token = str(token)
            # Refresh a little early; tokens last 7200 s.
            lifetime = int(data.get("expires_in", 7200))
            self._token_expires = time.monotonic() + max(60, lifetime - 300)
            return self._token

    async def send_text(self, openid: str, content: str) -> None:
        payload = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        last = "unknown"
        force_token = False
        for attempt in range(self.retries):
            try:
                token = await self._access_token(force=force_token)
                force_token = False
                resp = await self._client.post(
                    f"{self.api_base_url}/cgi-bin/message/custom/send",
                    params={"access_token": token},
                    content=_json_utf8(payload),
                    headers={"Content-Type": "application/json; charset=utf-8"},
                )
                data = resp.json()
            except (httpx.HTTPError, ValueError) as exc:
                last = f"wechat: {type(exc).__name__}"
            else:
                code = int(data.get("errcode", 0) or 0)
                if code == 0:
                    return
                last = f"wechat: errcode {code}"
                if code in FINAL_ERRORS:
                    raise DeliveryError(f"wechat: {FINAL_ERRORS[code]} ({code})", retryable=False)
                if code in TOKEN_ERRORS:
                    force_token = True
                    continue
            await asyncio.sleep(self.backoff_s * (2**attempt))
        raise DeliveryError(last, retryable=True)


def _json_utf8(payload: dict[str, object]) -> bytes:
    import json

    # WeChat shows \uXXXX escapes literally in some clients: send raw UTF-8.
    return json.dumps(payload, ensure_ascii=False).encode()


class WeChatOutbound:
    def __init__(
        self, client: CustomerServiceClient, store: MessageStore, window_s: float, quota: int
    ) -> None:
        self.client = client
        self.store = store
        self.window_s = window_s
        self.quota = quota

    async def push(self, conversation: Conversation, replies: list[Reply]) -> None:
        content = fit_bytes(clean_text(as_text(replies)))
        if not content:
            return
        refused = await asyncio.to_thread(
            self.store.take_push_quota, conversation.id, self.window_s, self.quota
        )
        if refused:
            raise DeliveryError(f"wechat: {refused}", retryable=False)
        await self.client.send_text(conversation.reply_address, content)
