"""Build WeChat webhook requests with wechatpy's own signing and crypto."""

from __future__ import annotations

import itertools
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


def plain_request(xml: str, token: str = WECHAT_TOKEN) -> tuple[str, bytes]:
    """Path with query string and body, as WeChat sends a plaintext-mode message."""
    timestamp, nonce = str(int(time.time())), "nonce123"
    query = {
        "signature": sign(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": "oUser123",
    }
    return f"/wechat?{urlencode(query)}", xml.encode()


def crypto() -> WeChatCrypto:
    return WeChatCrypto(WECHAT_TOKEN, AES_KEY, WECHAT_APP_ID)


def safe_request(xml: str, *, forge_msg_signature: bool = False) -> tuple[str, bytes, str, str]:
    """A safe-mode (AES) message built with wechatpy's WeChatCrypto."""
    timestamp, nonce = str(int(time.time())), "nonce456"
    envelope = parse_xml(crypto().encrypt_message(xml, nonce, timestamp))
    body = (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    )
    msg_signature = envelope["MsgSignature"]
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


def decrypt_reply(xml: str, timestamp: str, nonce: str) -> dict[str, str]:
    envelope = parse_xml(xml)
    plain = crypto().decrypt_message(xml, envelope["MsgSignature"], envelope["TimeStamp"],
                                     envelope["Nonce"])
    return parse_xml(plain)
