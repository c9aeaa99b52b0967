"""Resident identifiers: keyed hashes for lookups, masks for display, redaction for logs.

Phone numbers and WeChat openids are personal data. The message log stores
`sender_hash` (HMAC-SHA256 with `SENDER_HASH_SECRET`) for lookups and `sender_masked` for
display; the raw identifier is stored once, in `conversations.reply_address`, because the
gateway needs it to send a reply later (SMS after an outage, WeChat customer-service
messages, staff messages). Logs never carry it: use `mask_sender`, and the
`RedactingFilter` below scrubs anything that still looks like a phone number, ID number or
openid, in the message and in the traceback of a logged exception.

The HMAC key is `SENDER_HASH_SECRET`, or else a random key generated once per installation
and kept in `SENDER_HASH_SECRET_FILE` (`load_sender_hash_secret`); there is no built-in
default, because a key known to everyone lets anyone reverse the hashes by enumerating phone
numbers.

Web and API conversations are opened with a `conversation_token` (`new_conversation_token`):
the sender id names a conversation, the token proves the caller is the one who opened it.
Only `token_digest(token)` is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import stat
from pathlib import Path

# What people put between the digit groups of a phone number: spaces (ASCII, tab, no-break,
# the ideographic space a Chinese IME types, other Unicode spaces), dots (ASCII, full-width,
# 。) and dashes (ASCII, U+2010-U+2015, minus sign, small and full-width hyphen-minus).
# Not line breaks: a match is masked into one piece, and log lines must stay lines.
# (The body of a regex character class, for every phone-number rule to share.)
PHONE_SEPARATORS = (
    "\t \xa0\u1680\u2000-\u200a\u202f\u205f\u3000"
    ".\u3002\uff0e"
    "\\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d"
)
_PHONE_RE = re.compile(rf"\+?\d[\d{PHONE_SEPARATORS}]{{6,}}\d")
_SEPARATOR_RE = re.compile(f"[{PHONE_SEPARATORS}]")
# With "." a separator, an IPv4 address would read as a number: it stays as it is (a phone
# number's 4-digit groups never make one).
_IPV4_RE = re.compile(r"(?:(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])")
# WeChat openids: 28 characters starting with "o" (base64url alphabet).
_OPENID_RE = re.compile(r"(?<![A-Za-z0-9_\-])o[A-Za-z0-9_\-]{27}(?![A-Za-z0-9_\-])")
_MIN_SECRET_CHARS = 32


class SecretUnavailable(RuntimeError):
    """No sender-hash secret: configured neither in the environment nor in a usable file."""


def hash_sender(secret: str, channel: str, sender: str) -> str:
    """Stable keyed hash of one resident on one channel (hex, 64 chars)."""
    msg = f"{channel}\x00{sender}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


MASK_MAX_CHARS = 64  # conversations.sender_masked


def mask_sender(sender: str) -> str:
    """Display form: keep a short prefix and the last 4 characters, e.g. `+86*******5678`
    (at most `MASK_MAX_CHARS`: a long web sender id gets fewer stars)."""
    s = sender.strip()
    if len(s) <= 4:
        return "*" * len(s)
    keep_head = 3 if s.startswith("+") else 0
    if len(s) <= 8:
        keep_head = 0
    stars = min(len(s), MASK_MAX_CHARS) - keep_head - 4
    return s[:keep_head] + "*" * stars + s[-4:]


def conversation_id(channel: str, sender_hash: str) -> str:
    """The conversation id the gateway uses towards Rasa: no raw identifier leaves the edge."""
    return f"{channel}-{sender_hash[:24]}"


def redact(text: str) -> str:
    """Mask phone numbers (separators dropped, last 4 digits kept) and openids in `text`."""
    text = _PHONE_RE.sub(_mask_phone, text)
    return _OPENID_RE.sub(lambda m: mask_sender(m.group(0)), text)


def _mask_phone(match: re.Match[str]) -> str:
    value = match.group(0)
    if _IPV4_RE.fullmatch(value):
        return value
    return mask_sender(_SEPARATOR_RE.sub("", value))


_TRACEBACKS = logging.Formatter()


class RedactingFilter(logging.Filter):
    """Masks phone numbers, ID numbers and openids in every log record passing through a
    handler: in the message and in the text of its exception and stack (a database error's
    message may quote the values it failed on)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
            cleaned = redact(message)
            if cleaned != message:
                record.msg = cleaned
                record.args = None
            if record.exc_info and not record.exc_text:
                # Formatters reuse `exc_text` once set: format the traceback here, redacted.
                record.exc_text = _TRACEBACKS.formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = redact(record.exc_text)
            if record.stack_info:
                record.stack_info = redact(record.stack_info)
        except Exception:  # noqa: BLE001 - a broken record must not break logging
            return True
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


# -- the sender-hash secret ------------------------------------------------------------------
def load_sender_hash_secret(configured: str, path: str | os.PathLike[str]) -> str:
    """The HMAC key for resident identifiers: `configured` (SENDER_HASH_SECRET) if set, else
    the one in `path` (SENDER_HASH_SECRET_FILE), created once with a random value."""
    if configured.strip():
        return configured
    return persisted_secret(path, "SENDER_HASH_SECRET")


def persisted_secret(path: str | os.PathLike[str], setting: str) -> str:
    """The secret in `path`, created once with a random value (also Rasa's API token).

    Creation is atomic: the value is written to a private temporary file and hard-linked into
    place, which fails if another process got there first; everyone then reads the one file,
    so several workers starting at once agree. Raises `SecretUnavailable` (the process must
    not start) if there is no readable, writable place for the file or it holds too little.
    """
    target = Path(path)
    try:
        if not target.exists():
            _create_secret_file(target)
        secret = target.read_text(encoding="utf-8").strip()
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError as exc:
        raise SecretUnavailable(
            f"{setting} is not set and its file {os.fspath(path)} cannot be created or read "
            f"({exc.strerror or exc}); set one of them"
        ) from None
    if len(secret) < _MIN_SECRET_CHARS:
        raise SecretUnavailable(
            f"{os.fspath(path)} holds no usable {setting} (fewer than {_MIN_SECRET_CHARS} "
            f"characters); remove it to have one generated, or set {setting}"
        )
    if mode & 0o077:
        logging.getLogger("channels").warning(
            "%s is readable by other users (mode %o); chmod 600 it", os.fspath(path), mode)
    return secret


def _create_secret_file(target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secrets.token_hex(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temp, target)
        except FileExistsError:
            pass  # another worker created it first: use theirs
    finally:
        temp.unlink(missing_ok=True)


# -- conversation tokens ---------------------------------------------------------------------
def new_conversation_token() -> str:
    """A fresh secret for one web/API conversation (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the message log keeps of a conversation token (SHA-256, hex). The token carries
    256 random bits, so an unkeyed hash cannot be reversed by guessing."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def digests_match(stored: str | None, presented: str | None) -> bool:
    """Constant-time comparison of two token digests; False if either is missing."""
    if not stored or not presented:
        return False
    return hmac.compare_digest(stored.encode(), presented.encode())
