"""Build WeChat webhook requests with wechatpy's own signing and crypto."""

from __future__ import annotations

import itertools
import secrets
import time
from urllib.parse import urlencode

from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from channels.wechat.xmlsafe import parse_xml
from tests.channels.support import AES_KEY, WECHAT_APP_ID, WECHAT_TOKEN

_ids = itertools.count(10_000_000_000)
ACCOUNT = "gh_0123456789ab"


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def text_xml(content: str, openid: str = "oUser123", msg_id: int | None = None,
             create_time: int | None = None) -> str:
    return (
        "<xml>"
        f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content>"
        f"<MsgId>{msg_id or next(_ids)}</MsgId>"
        "</xml>"
    )


def event_xml(event: str, openid: str = "oUser123", create_time: int = 1700000000) -> str:
    return (
        "<xml>"
        f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event>"
        "</xml>"
    )


def image_xml(openid: str = "oUser123") -> str:
    return (
        "<xml>"
        f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[image]]></MsgType>"
        "<PicUrl><![CDATA[http://mmbiz.example/pic]]></PicUrl>"
        "<MediaId><![CDATA[media_id]]></MediaId>"
        f"<MsgId>{next(_ids)}</MsgId>"
        "</xml>"
    )


def new_nonce() -> str:
    """A fresh nonce, as WeChat sends with every request (a 9-10 digit random number)."""
    return str(secrets.randbelow(9 * 10**9) + 10**9)


def plain_request(xml: str, token: str = WECHAT_TOKEN, *, timestamp: str | None = None,
                  nonce: str | None = None) -> tuple[str, bytes]:
    """Path with query string and body, as WeChat sends a plaintext-mode message."""
    timestamp, nonce = timestamp or str(int(time.time())), nonce or new_nonce()
    query = {
        "signature": sign(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": "oUser123",
    }
    return f"/wechat?{urlencode(query)}", xml.encode()


def crypto() -> WeChatCrypto:
    return WeChatCrypto(WECHAT_TOKEN, AES_KEY, WECHAT_APP_ID)


def encrypt(xml: str, timestamp: str, nonce: str) -> tuple[str, str]:
    """wechatpy's Encrypt element for `xml` and its msg_signature."""
    envelope = parse_xml(crypto().encrypt_message(xml, nonce, timestamp))
    return envelope["Encrypt"], envelope["MsgSignature"]


def safe_request(xml: str, *, forge_msg_signature: bool = False, timestamp: str | None = None,
                 nonce: str | None = None,
                 plaintext_beside: str | None = None) -> tuple[str, bytes, str, str]:
    """A safe-mode (AES) message built with wechatpy's WeChatCrypto.

    `plaintext_beside`: a compatible-mode body, the plaintext fields of that XML message
    next to the Encrypt element (WeChat sends the same message in both).
    """
    timestamp, nonce = timestamp or str(int(time.time())), nonce or new_nonce()
    encrypted, msg_signature = encrypt(xml, timestamp, nonce)
    body = safe_body(encrypted, plaintext_beside)
    if forge_msg_signature:
        msg_signature = "0" * 40
    query = {
        "signature": sign(WECHAT_TOKEN, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": "oUser123",
        "encrypt_type": "aes",
        "msg_signature": msg_signature,
    }
    return f"/wechat?{urlencode(query)}", body.encode(), timestamp, nonce


def safe_body(encrypted: str, plaintext_beside: str | None = None) -> str:
    fields = f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
    if plaintext_beside is not None:
        fields = plaintext_beside.removeprefix("<xml>").removesuffix("</xml>")
    return f"<xml>{fields}<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"


def decrypt_reply(xml: str, timestamp: str, nonce: str) -> dict[str, str]:
    envelope = parse_xml(xml)
    plain = crypto().decrypt_message(xml, envelope["MsgSignature"], envelope["TimeStamp"],
                                     envelope["Nonce"])
    return parse_xml(plain)
