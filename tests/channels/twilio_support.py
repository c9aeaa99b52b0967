"""Build Twilio webhook requests signed with the twilio library's own RequestValidator."""

from __future__ import annotations

import itertools
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from tests.channels.support import TWILIO_FROM, TWILIO_SID, TWILIO_TOKEN

_sids = itertools.count(1)


def sms_params(body: str, sender: str = "+8613812345678", sid: str | None = None) -> dict:
    return {
        "MessageSid": sid or f"SM{next(_sids):032x}",
        "AccountSid": TWILIO_SID,
        "From": sender,
        "To": TWILIO_FROM,
        "Body": body,
        "NumMedia": "0",
    }


def signed(params: dict, url: str, token: str = TWILIO_TOKEN) -> tuple[str, dict[str, str]]:
    """Form body and headers as Twilio would send them for `url` (the public URL)."""
    signature = RequestValidator(token).compute_signature(url, params)
    headers = {
        "X-Twilio-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return urlencode(params), headers
