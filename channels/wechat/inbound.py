"""Verify and open a WeChat webhook POST: which message mode is accepted, and when.

The accepted mode follows our configuration, never the caller's `encrypt_type`:

- **AES key configured** (`WECHAT_ENCODING_AES_KEY`): only `encrypt_type=aes` with a valid
  `msg_signature` over token, timestamp, nonce *and the Encrypt element*. A plaintext body
  (no `encrypt_type`, or `raw`) is refused with 403 even when its URL `signature` is valid:
  that signature covers only token, timestamp and nonce, so anyone who has seen one signed
  URL (a proxy log) could otherwise post any message as any openid. In compatible mode
  (plaintext fields and `<Encrypt>` in one body) only the decrypted Encrypt part is read;
  the plaintext fields beside it are not covered by any signature and are ignored.
- **No key configured**: plaintext mode. A compatible-mode body (what WeChat sends after the
  admin console is switched to 兼容模式 and before the key is set here) is read from its
  plaintext fields and answered in plaintext, which WeChat accepts in that mode; a
  safe-mode body (Encrypt only) cannot be read: 400.

Every POST also needs a valid URL `signature` and a timestamp within ±`TIMESTAMP_WINDOW_S`
of our clock; the nonce check, which needs the database, is `replay.NonceLedger`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException

from channels.wechat.replay import TIMESTAMP_WINDOW_S
from channels.wechat.signature import msg_signature_ok, url_signature_ok
from channels.wechat.xmlsafe import XmlRejected, parse_xml

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_NONCE = re.compile(r"[\x21-\x7e]{1,64}")  # WeChat sends digits; printable ASCII is kept


class Refused(Exception):
    """The request is answered with `status` before anything is stored."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Inbound:
    msg: dict[str, str]
    encrypted: bool  # answer with an encrypted reply
    timestamp: int
    nonce: str
    digest: str  # SHA-256 of what the signatures vouch for (replay.NonceLedger)


def verify_post(
    args: dict[str, str],
    body: bytes,
    *,
    token: str,
    crypto: WeChatCrypto | None,
    now: float,
    max_bytes: int,
) -> Inbound:
    """The message of an authentic, fresh POST; raises Refused (403/400) otherwise."""
    if not url_signature_ok(token, args):
        raise Refused(403, "bad signature")
    timestamp = _fresh_timestamp(args.get("timestamp", ""), now)
    nonce = args.get("nonce", "")
    if not _NONCE.fullmatch(nonce):
        raise Refused(403, "missing or malformed nonce")
    try:
        outer = parse_xml(body, max_bytes=max_bytes)
    except XmlRejected as exc:
        raise Refused(400, f"body rejected: {exc}") from exc
    if crypto is not None:
        if args.get("encrypt_type", "raw") != "aes":
            raise Refused(403, "plaintext message refused: safe mode is configured")
        encrypt = outer.get("Encrypt", "")
        if not encrypt:
            raise Refused(400, "no Encrypt element")
        if not msg_signature_ok(token, args, encrypt):
            raise Refused(403, "bad msg_signature")
        msg = _decrypt(crypto, encrypt, max_bytes)
        return Inbound(msg, True, timestamp, nonce, _sha256(encrypt.encode()))
    if "FromUserName" not in outer:
        raise Refused(400, "encrypted message but no AES key configured")
    return Inbound(outer, False, timestamp, nonce, _sha256(body))


def _fresh_timestamp(value: str, now: float) -> int:
    if not _TIMESTAMP.fullmatch(value):
        raise Refused(403, "missing or malformed timestamp")
    timestamp = int(value)
    if abs(now - timestamp) > TIMESTAMP_WINDOW_S:
        raise Refused(403, "timestamp outside the window (replay, or our clock is not synced)")
    return timestamp


def _decrypt(crypto: WeChatCrypto, encrypt: str, max_bytes: int) -> dict[str, str]:
    try:
        inner = PrpCrypto(crypto.key).decrypt(encrypt, crypto.app_id)
    except InvalidAppIdException as exc:
        raise Refused(403, "message for another app id") from exc
    except Exception as exc:  # noqa: BLE001 - bad base64 / padding / UTF-8 from wechatpy
        raise Refused(400, f"undecryptable: {type(exc).__name__}") from exc
    try:
        return parse_xml(inner, max_bytes=max_bytes)
    except XmlRejected as exc:
        raise Refused(400, f"decrypted body rejected: {exc}") from exc


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
