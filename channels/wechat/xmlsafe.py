"""Parse WeChat's flat `<xml>` messages safely and render replies that cannot break.

Inbound: size-limited, no DTD / entity declarations / external references (defusedxml),
root must be `<xml>`, children must be simple text fields. Anything else raises
XmlRejected before the message touches the store.

Outbound: text goes in CDATA sections, and `]]>` inside the text is split across two
sections, so no reply content can end the section early; characters XML 1.0 forbids are
dropped (`clean_text`: C0 controls other than tab and line ends, U+FFFE/U+FFFF, and lone
surrogates, which Rasa's JSON can carry as a "\\ud800" escape and UTF-8 cannot encode). The
SMS provider uses `clean_text` too: TwiML is XML as well.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

MAX_FIELDS = 64
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class XmlRejected(ValueError):
    """The body is not an acceptable WeChat XML message."""


def parse_xml(body: bytes | str, *, max_bytes: int = 64 * 1024) -> dict[str, str]:
    # "surrogatepass": a lone surrogate in a str becomes bytes expat refuses (XmlRejected),
    # not a UnicodeEncodeError here.
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if len(raw) > max_bytes:
        raise XmlRejected("body too large")
    if not raw.strip():
        raise XmlRejected("empty body")
    try:
        root = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise XmlRejected(f"malformed XML: {type(exc).__name__}") from exc
    if root.tag != "xml":
        raise XmlRejected("root element must be <xml>")
    fields: dict[str, str] = {}
    for child in root:
        if len(fields) >= MAX_FIELDS:
            raise XmlRejected("too many fields")
        if not isinstance(child.tag, str):
            continue
        # Nested structures (e.g. ScanCodeInfo) are kept as their concatenated text.
        fields[child.tag] = (
            "".join(child.itertext()).strip() if len(child) else (child.text or "").strip()
        )
    return fields


def clean_text(value: str) -> str:
    """Drop characters XML 1.0 forbids; normalise line ends as XML parsers do."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _INVALID_XML_CHARS.sub("", value)


def cdata(value: str) -> str:
    value = clean_text(value)
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_text_reply(to_user: str, from_user: str, create_time: int, content: str) -> str:
    return (
        "<xml>"
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(create_time)}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content>"
        "</xml>"
    )


def fit_bytes(text: str, max_bytes: int = 2048, marker: str = "…") -> str:
    """Shorten `text` so its UTF-8 form fits WeChat's 2048-byte text limit."""
    if len(text.encode()) <= max_bytes:
        return text
    budget = max_bytes - len(marker.encode())
    out: list[str] = []
    used = 0
    for ch in text:
        n = len(ch.encode())
        if used + n > budget:
            break
        out.append(ch)
        used += n
    return "".join(out) + marker
