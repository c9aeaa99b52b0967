"""Twilio SMS: `X-Twilio-Signature` check, TwiML replies, Messages API for pushes."""

from __future__ import annotations

import asyncio

import httpx
from twilio.request_validator import RequestValidator, get_signature_algorithm
from twilio.twiml.messaging_response import MessagingResponse

from channels.identity import redact
from channels.service import DeliveryError
from channels.sms.form import FormRejected, parse_form
from channels.sms.provider import BadRequest, InboundSms, SignatureInvalid, WebhookReply
from channels.wechat.xmlsafe import clean_text


class TwilioProvider:
    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_base_url: str = "https://api.twilio.com",
        *,
        max_body_bytes: int = 64 * 1024,
        retries: int = 3,
        backoff_s: float = 0.5,
    ) -> None:
        self.account_sid = account_sid
        self.from_number = from_number
        self.api_base_url = api_base_url.rstrip("/")
        self.validator = RequestValidator(auth_token)
        self.max_body_bytes = max_body_bytes
        self.retries = retries
        self.backoff_s = backoff_s
        self._auth = (account_sid, auth_token)
        self._client = httpx.AsyncClient(timeout=10.0)

    async def close(self) -> None:
        await self._client.aclose()

    def parse_inbound(self, url: str, headers: dict[str, str], body: bytes) -> InboundSms:
        signature = headers.get("x-twilio-signature", "")
        if not signature:
            raise SignatureInvalid("missing X-Twilio-Signature")
        try:
            form = parse_form(body, max_bytes=self.max_body_bytes)
        except FormRejected as exc:
            # Unverifiable as a form: treat like any request we cannot authenticate.
            raise SignatureInvalid(str(exc)) from exc
        algorithm = get_signature_algorithm(headers.get("x-twilio-webhooks-signature-settings"))
        if not self.validator.validate(url, form, signature, algorithm=algorithm):
            raise SignatureInvalid("bad X-Twilio-Signature")
        sender = form.first("From").strip()
        sid = form.first("MessageSid").strip() or form.first("SmsSid").strip()
        if not sender or not sid:
            raise BadRequest("From and MessageSid are required")
        if form.first("AccountSid") and form.first("AccountSid") != self.account_sid:
            raise SignatureInvalid("message for another account")
        return InboundSms(sender=sender, text=form.first("Body"), message_id=sid)

    def reply(self, parts: list[str]) -> WebhookReply:
        resp = MessagingResponse()
        for part in _sendable(parts):
            resp.message(part)
        return WebhookReply(str(resp), "application/xml")

    async def send(self, to: str, parts: list[str]) -> None:
        url = f"{self.api_base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        for part in _sendable(parts):
            await self._send_one(url, to, part)

    async def _send_one(self, url: str, to: str, body: str) -> None:
        last = "unknown"
        for attempt in range(self.retries):
            try:
                resp = await self._client.post(
                    url, data={"To": to, "From": self.from_number, "Body": body}, auth=self._auth
                )
            except httpx.HTTPError as exc:
                last = f"twilio: {type(exc).__name__}"
            else:
                if resp.status_code in (200, 201):
                    return
                last = f"twilio: HTTP {resp.status_code}"
                if resp.status_code < 500 and resp.status_code != 429:
                    raise DeliveryError(_twilio_error(resp, last), retryable=False)
            await asyncio.sleep(self.backoff_s * (2**attempt))
        raise DeliveryError(last, retryable=True)


def _sendable(parts: list[str]) -> list[str]:
    """The parts without the characters XML 1.0 forbids, empty ones left out.

    `MessagingResponse` writes a control character (e.g. ESC echoed from the resident's
    message) into the TwiML as it is, and Twilio cannot parse that reply, so the resident
    gets nothing; the Messages API path is cleaned the same way so both carry the same text.
    """
    cleaned = (clean_text(part) for part in parts)
    return [part for part in cleaned if part]


def _twilio_error(resp: httpx.Response, fallback: str) -> str:
    """Twilio's error code and message for the message log and the console, with phone
    numbers masked: Twilio quotes the number back ("The 'To' number +86138... is not a valid
    phone number"), and the log must hold the raw number only in `reply_address`."""
    try:
        data = resp.json()
    except ValueError:
        return fallback
    if not isinstance(data, dict):
        return fallback
    return redact(f"twilio: {data.get('code')} {data.get('message', '')}")[:300]
