"""The SMS provider interface.

A provider verifies and parses its inbound webhook, shapes the synchronous webhook reply,
and sends messages through its REST API. The gateway mounts every registered provider at
`POST /sms/<name>`; adding a domestic provider (Twilio cannot receive SMS from mainland
numbers) means writing one class like `channels.sms.twilio.TwilioProvider` and registering
it in `channels.app.build_sms_providers`; the conversation code does not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class SignatureInvalid(Exception):
    """The request is not from the provider: answer 403 and change nothing."""


class BadRequest(Exception):
    """The request is signed but unusable (missing fields...): answer 400."""


@dataclass(frozen=True)
class InboundSms:
    sender: str  # E.164 phone number (raw: goes only to the store's reply_address)
    text: str
    message_id: str  # provider's unique id, used for de-duplication


@dataclass(frozen=True)
class WebhookReply:
    body: str
    content_type: str


class SmsProvider(Protocol):
    name: str

    def parse_inbound(self, url: str, headers: dict[str, str], body: bytes) -> InboundSms:
        """Verify the signature for the public `url` and parse; raise SignatureInvalid or
        BadRequest."""
        ...

    def reply(self, parts: list[str]) -> WebhookReply:
        """The webhook response that sends `parts` (possibly none) to the sender."""
        ...

    async def send(self, to: str, parts: list[str]) -> None:
        """Send `parts` through the provider's API; raise service.DeliveryError on failure."""
        ...
