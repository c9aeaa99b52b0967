"""WeChat's SHA-1 signatures, compared in constant time.

Both signatures WeChat sends are SHA-1 over the sorted concatenation of their parts:
`signature` over (token, timestamp, nonce) — the URL only, never the body — and, in safe
mode, `msg_signature` over (token, timestamp, nonce, Encrypt), which covers the encrypted
body. wechatpy compares them with `!=`; here the comparison is `hmac.compare_digest`, so
the time taken does not tell a forger how many leading characters were right.
"""

from __future__ import annotations

import hmac

from wechatpy.utils import WeChatSigner


def wechat_signature(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def signature_matches(given: str, *parts: str) -> bool:
    """Whether `given` is WeChat's signature over `parts` (constant-time comparison)."""
    expected = wechat_signature(*parts).encode()
    # Bytes, not str: compare_digest refuses non-ASCII str, and `given` is caller input.
    return hmac.compare_digest(expected, given.encode("utf-8", "surrogatepass"))


def url_signature_ok(token: str, args: dict[str, str]) -> bool:
    """`signature` of a GET (URL verification) or POST: token, timestamp, nonce."""
    return signature_matches(
        args.get("signature", ""), token, args.get("timestamp", ""), args.get("nonce", "")
    )


def msg_signature_ok(token: str, args: dict[str, str], encrypt: str) -> bool:
    """Safe/compatible mode `msg_signature`: token, timestamp, nonce and the Encrypt element."""
    return signature_matches(
        args.get("msg_signature", ""), token, args.get("timestamp", ""), args.get("nonce", ""),
        encrypt,
    )
