"""The gateway under fuzz: the real app and a fake Rasa served on an event loop in a thread.

One `LiveGateway` serves many examples (starting an app per example would cost more than the
example); requests go over real HTTP with httpx, store reads run on the app's loop like the
app's own. Rate limits are off, so every example reaches validation, the store and Rasa.

Properties of every answer (`check_*`):
- never a 5xx;
- a JSON endpoint's 4xx carries `{"error": {"code", "message"}}`;
- a message the gateway accepted (200) is in the store: its conversation, its text;
- an accepted sender id is well formed (1-128 characters, no space or control character);
- `/widget/chat` never stores a console-channel message;
- `/updates` shows messages only to the holder of the conversation's token (when the gateway
  issues one in `conversation_token`);
- WeChat and Twilio answers are well-formed XML.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import threading
import time
import unicodedata
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import httpx

from channels.wechat.xmlsafe import XmlRejected, parse_xml
from tests.channels.support import (
    AES_KEY,
    WECHAT_TOKEN,
    FakeRasa,
    gateway_app,
    gateway_settings,
    serve,
)
from tests.channels.twilio_support import signed
from tests.channels.wechat_support import ACCOUNT, crypto, sign

T = TypeVar("T")
OWN_ORIGIN = "https://gateway.example.org"  # the settings' PUBLIC_BASE_URL: always allowed
KNOWN_SENDERS = ("fz-known-1", "fz-known-2")
_unique = itertools.count(1)


@dataclass
class LiveGateway:
    workdir: Path
    overrides: dict[str, Any] = field(default_factory=dict)  # Settings fields
    base_url: str = ""
    app: Any = None
    http: httpx.Client = field(init=False)
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)  # (channel, sender) → token
    _loop: asyncio.AbstractEventLoop = field(init=False)
    _thread: threading.Thread = field(init=False)
    _stack: contextlib.AsyncExitStack = field(init=False)

    def start(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fuzz-gateway",
                                        daemon=True)
        self._thread.start()
        self._on_loop(self._start())
        self.http = httpx.Client(base_url=self.base_url, timeout=30.0)
        for sender in KNOWN_SENDERS:  # conversations with history for the /updates targets
            resp = self.http.post("/api/chat", json={"sender": sender, "message": "你好"})
            assert resp.status_code == 200, resp.text
            self._remember_token("web", sender, resp.json())

    async def _start(self) -> None:
        self._stack = contextlib.AsyncExitStack()
        rasa_url = await self._stack.enter_async_context(serve(FakeRasa().app()))
        off = "0"
        settings = gateway_settings(
            self.workdir, rasa_url=rasa_url, public_base_url=OWN_ORIGIN,
            api_rate_chat_sender=off, api_rate_chat_ip=off,
            api_rate_poll_sender=off, api_rate_poll_ip=off, **self.overrides,
        )
        self.app = gateway_app(settings)
        self.base_url = await self._stack.enter_async_context(serve(self.app))

    def stop(self) -> None:
        self.http.close()
        self._on_loop(self._stack.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def _on_loop(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=60)

    def store(self, method: Callable[..., T], *args: Any) -> T:
        """Call a (synchronous) store method on a worker thread of the app's loop."""
        return self._on_loop(asyncio.to_thread(method, *args))

    def _remember_token(self, channel: str, sender: str, data: dict[str, Any]) -> None:
        token = data.get("conversation_token")
        if isinstance(token, str) and token:
            self.tokens[(channel, sender)] = token


SAFE_MODE = {"wechat_encoding_aes_key": AES_KEY}  # WeChat 安全模式: AES key configured


@contextlib.contextmanager
def live_gateway(workdir: Path, **overrides: Any) -> Iterator[LiveGateway]:
    gw = LiveGateway(workdir, overrides)
    gw.start()
    try:
        yield gw
    finally:
        gw.stop()


# -- properties -----------------------------------------------------------------------------
def _no_server_error(resp: httpx.Response, what: str) -> None:
    assert resp.status_code < 500, f"{what}: {resp.status_code} {resp.text[:300]}"


def _json_error(resp: httpx.Response, what: str) -> None:
    try:
        data = resp.json()
    except ValueError as exc:
        raise AssertionError(f"{what}: {resp.status_code} without a JSON body: {resp.text[:200]!r}") from exc
    error = data.get("error") if isinstance(data, dict) else None
    assert isinstance(error, dict), f"{what}: {resp.status_code} {data!r}"
    assert isinstance(error.get("code"), str) and error["code"], data
    assert isinstance(error.get("message"), str) and error["message"], data


def sender_well_formed(sender: str) -> bool:
    return 1 <= len(sender) <= 128 and not any(
        ch.isspace() or unicodedata.category(ch)[0] in "CZ" for ch in sender
    )


def storable(text: str) -> str:
    """`text` with lone surrogates and NUL as U+FFFD: what a database can hold of it."""
    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text.replace("\x00", "\ufffd")


def _fresh_senders(body: bytes) -> bytes:
    """Each example its own conversations (`fz-…` → `fz-<n>-…`): an example then behaves the
    same when hypothesis replays it, whatever earlier examples did to their conversations."""
    return body.replace(b'"fz-', b'"fz-%d-' % next(_unique))


def check_chat(gw: LiveGateway, path: str, body: bytes) -> None:
    body = _fresh_senders(body)
    what = f"POST {path} {body[:120]!r}"
    resp = gw.http.post(path, content=body,
                        headers={"Content-Type": "application/json", "Origin": OWN_ORIGIN})
    _no_server_error(resp, what)
    if resp.status_code >= 400:
        _json_error(resp, what)
        return
    assert resp.status_code == 200, what
    data = resp.json()
    payload = json.loads(body)
    sender, message = payload["sender"], payload["message"]
    assert isinstance(sender, str) and sender_well_formed(sender), f"{what}: sender {sender!r} accepted"
    assert isinstance(message, str), what
    store = gw.app.ctx.store
    stored = gw.store(store.get_message, data["message_id"])
    assert stored is not None and stored.direction == "in", f"{what}: {data} not stored"
    conv = gw.store(store.get_conversation, stored.conversation_id)
    assert conv is not None
    assert conv.sender_hash == store.sender_hash(conv.channel, sender), f"{what}: stored for another sender"
    if path.startswith("/widget"):
        assert conv.channel == "web", f"{what}: the public widget stored a {conv.channel!r} message"
    if data["status"] != "duplicate":
        assert stored.text in (message.strip(), storable(message).strip()), f"{what}: stored {stored.text!r}"
    gw._remember_token(conv.channel, sender, data)
    token = gw.tokens.get((conv.channel, sender))
    if token:  # the conversation goes on for the holder of its token
        follow = gw.http.post(path, json={"sender": sender, "message": "还有一个问题", "channel": conv.channel},
                              headers={"Origin": OWN_ORIGIN, "X-Conversation-Token": token})
        assert follow.status_code == 200, f"{what}: follow-up with the token: {follow.status_code} {follow.text}"
        again = gw.store(store.get_message, follow.json()["message_id"])
        assert again is not None and again.conversation_id == conv.id, f"{what}: follow-up not stored"


def _query(pairs: list[tuple[str, str]]) -> str:
    """Percent-encode as a browser would, lone surrogates as their (invalid) UTF-8 bytes."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='', errors='surrogatepass')}" for k, v in pairs)


def check_updates(gw: LiveGateway, path: str, sender: str, channel: str | None, after: str | None,
                  token: str, token_in: str) -> None:
    """`token`: "right" / "wrong" / "none" or a literal value; `token_in`: "query" or "header"."""
    issued = gw.tokens.get((channel or "web", sender))
    value = {"right": issued or "", "wrong": "0" * 32, "none": ""}.get(token, token)
    pairs = [("sender", sender)]
    if channel is not None:
        pairs.append(("channel", channel))
    if after is not None:
        pairs.append(("after", after))
    headers = {"Origin": OWN_ORIGIN}
    if value and token_in == "query":
        pairs.append(("conversation_token", value))
    elif value:
        headers["X-Conversation-Token"] = quote(value, safe="", errors="surrogatepass")
    url = f"{path}?{_query(pairs)}"
    what = f"GET {url}"
    resp = gw.http.get(url, headers=headers)
    _no_server_error(resp, what)
    if resp.status_code >= 400:
        _json_error(resp, what)
        return
    data = resp.json()
    assert isinstance(data.get("messages"), list), f"{what}: {data}"
    if data["messages"] and issued:
        assert value == issued, f"{what}: history shown without the conversation's token"


def check_wechat(gw: LiveGateway, fields: dict[str, str] | None, body: bytes) -> None:
    """A plaintext-mode push (no AES key configured), signed as WeChat signs it, fresh nonce."""
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:16]
    query = urlencode({"signature": sign(WECHAT_TOKEN, timestamp, nonce), "timestamp": timestamp,
                       "nonce": nonce, "openid": "ofuzz"})
    what = f"POST /wechat {body[:160]!r}"
    resp = gw.http.post(f"/wechat?{query}", content=body, headers={"Content-Type": "text/xml"})
    _no_server_error(resp, what)
    if resp.status_code != 200 or resp.text in ("success", ""):
        return
    reply = parse_xml(resp.content)  # the reply must be well-formed: WeChat drops it otherwise
    try:
        msg = parse_xml(body)
    except XmlRejected as exc:
        raise AssertionError(f"{what}: answered a body the parser refuses") from exc
    sender = msg.get("FromUserName", "")
    assert reply["ToUserName"] == sender, what
    if msg.get("MsgType") == "text" and msg.get("Content", "").strip():
        store = gw.app.ctx.store
        conv = gw.store(store.find_conversation, "wechat", sender)
        assert conv is not None, f"{what}: answered but not stored"
        texts = {m.text for m in gw.store(store.list_messages, conv.id, 100_000)}
        limit = gw.app.ctx.settings.max_message_chars
        assert msg["Content"][:limit] in texts, f"{what}: answered but the message is not stored"


def check_sms(gw: LiveGateway, params: dict[str, str]) -> None:
    """A Twilio webhook signed with the twilio library over the public URL."""
    params = {**params, "MessageSid": f"SM{uuid.uuid4().hex}"}
    phone = re.fullmatch(r"(\s*\+\d+?)\d{8}(\s*)", params["From"])
    if phone:  # a number of its own (see `_fresh_senders`), e.g. not one opted out before
        params["From"] = f"{phone.group(1)}{next(_unique) % 10**8:08d}{phone.group(2)}"
    body, headers = signed(params, f"{OWN_ORIGIN}/sms/twilio")
    what = f"POST /sms/twilio {params!r}"[:400]
    resp = gw.http.post("/sms/twilio", content=body.encode(), headers=headers)
    _no_server_error(resp, what)
    if resp.status_code != 200:
        return
    root = ET.fromstring(resp.content)  # TwiML Twilio can read
    assert root.tag == "Response", what
    store = gw.app.ctx.store
    conv = gw.store(store.find_conversation, "sms", params["From"].strip())
    assert conv is not None, f"{what}: answered but not stored"
    texts = {m.text for m in gw.store(store.list_messages, conv.id, 100_000)}
    limit = gw.app.ctx.settings.max_message_chars
    assert params.get("Body", "")[:limit] in texts, f"{what}: answered but the message is not stored"


def check_wechat_safe_mode(gw: LiveGateway, fields: dict[str, str] | None, body: bytes, forge: str) -> None:
    """Safe mode: `fields` encrypted with wechatpy (or `body` as the Encrypt text), signed
    (`forge`: "none") or with a wrong / missing `msg_signature`, or the message sent in clear
    with only the URL signature ("plaintext": must be refused when an AES key is configured)."""
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:16]
    if fields is not None:
        plain = "<xml>" + "".join(f"<{k}><![CDATA[{v.replace(']]>', ']]]]><![CDATA[>')}]]></{k}>"
                                  for k, v in fields.items()) + "</xml>"
        encrypt = parse_xml(crypto().encrypt_message(plain, nonce, timestamp))["Encrypt"]
    else:
        encrypt = body.decode("latin-1")
    query = {"signature": sign(WECHAT_TOKEN, timestamp, nonce), "timestamp": timestamp,
             "nonce": nonce, "openid": "ofuzz", "encrypt_type": "aes",
             "msg_signature": sign(WECHAT_TOKEN, timestamp, nonce, encrypt)}
    if forge == "wrong":
        query["msg_signature"] = "0" * 40
    elif forge == "missing":
        del query["msg_signature"]
    elif forge == "plaintext":
        del query["encrypt_type"], query["msg_signature"]
    envelope = (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
                f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>")
    if forge == "plaintext" and fields is not None:  # the downgrade: the message in clear
        envelope = plain
    what = f"POST /wechat safe mode {forge} {envelope[:160]!r}"
    resp = gw.http.post(f"/wechat?{urlencode(query)}", content=envelope.encode("utf-8", "surrogatepass"),
                        headers={"Content-Type": "text/xml"})
    _no_server_error(resp, what)
    if forge != "none":
        assert resp.status_code >= 400, f"{what}: accepted without a valid msg_signature"
        return
    if fields is None or resp.status_code != 200 or resp.text in ("success", ""):
        return
    outer = parse_xml(resp.content)
    reply = parse_xml(crypto().decrypt_message(resp.text, outer["MsgSignature"], outer["TimeStamp"],
                                               outer["Nonce"]))
    msg = parse_xml(plain.encode())
    sender = msg.get("FromUserName", "")
    assert reply["ToUserName"] == sender, what
    if msg.get("MsgType") == "text" and msg.get("Content", "").strip():
        conv = gw.store(gw.app.ctx.store.find_conversation, "wechat", sender)
        assert conv is not None, f"{what}: answered but not stored"
