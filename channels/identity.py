"""Resident identifiers: keyed hashes for lookups, masks for display, redaction for logs.

Phone numbers and WeChat openids are personal data. The message log stores
`sender_hash` (HMAC-SHA256 with `SENDER_HASH_SECRET`) for lookups and `sender_masked` for
display; the raw identifier is stored once, in `conversations.reply_address`, because the
gateway needs it to send a reply later (SMS after an outage, WeChat customer-service
messages, staff messages). Logs never carry it: use `mask_sender`, and the
`RedactingFilter` below scrubs anything that still looks like a phone number.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re

_PHONE_RE = re.compile(r"\+?\d[\d\- ]{6,}\d")


def hash_sender(secret: str, channel: str, sender: str) -> str:
    """Stable keyed hash of one resident on one channel (hex, 64 chars)."""
    msg = f"{channel}\x00{sender}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def mask_sender(sender: str) -> str:
    """Display form: keep a short prefix and the last 4 characters, e.g. `+86*******5678`."""
    s = sender.strip()
    if len(s) <= 4:
        return "*" * len(s)
    keep_head = 3 if s.startswith("+") else 0
    if len(s) <= 8:
        keep_head = 0
    return s[:keep_head] + "*" * (len(s) - keep_head - 4) + s[-4:]


def conversation_id(channel: str, sender_hash: str) -> str:
    """The conversation id the gateway uses towards Rasa: no raw identifier leaves the edge."""
    return f"{channel}-{sender_hash[:24]}"


def redact(text: str) -> str:
    return _PHONE_RE.sub(lambda m: mask_sender(re.sub(r"[\- ]", "", m.group(0))), text)


class RedactingFilter(logging.Filter):
    """Masks phone-number-like digit runs in every log record passing through a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record must not break logging
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


def install_log_redaction() -> None:
    """Attach the redacting filter to every handler of the root and Sanic loggers."""
    flt = RedactingFilter()
    for name in ("", "sanic.root", "sanic.error", "sanic.access", "channels"):
        logger = logging.getLogger(name)
        logger.addFilter(flt)
        for handler in logger.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(flt)
