"""Hypothesis strategies for hostile input: JSON bodies, WeChat XML, Twilio forms, phone numbers, text.

Each strategy mixes well-formed input (so the deep paths run: storage, replies) with what an
attacker sends: deep nesting, huge numbers, lone surrogates, wrong types, control characters,
trailing line breaks, invalid UTF-8, oversize values.
"""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape

from hypothesis import strategies as st

# -- text -----------------------------------------------------------------------------------
CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
ASTRAL = st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF) | st.characters(
    min_codepoint=0x20000, max_codepoint=0x2A6DF
)
CONTROL = st.characters(min_codepoint=0, max_codepoint=0x1F) | st.sampled_from(
    ["\x7f", "\x85", "\u2028", "\u2029", "\u200b", "\ufeff", "\ufffd", "\ufffe", "\uffff"]
)
SURROGATE = st.integers(0xD800, 0xDFFF).map(chr)  # characters() never draws these
FULLWIDTH = st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E) | st.just("\u3000")
ANY_CHAR = st.characters(codec=None, blacklist_categories=())  # every code point, surrogates too
NUMERALS = st.sampled_from(list("〇零一二两三四五六七八九十百千万第几"))
UNITS = st.sampled_from(["个月", "个多月", "月", "日", "号", "天", "周", "年", "年度", "年代", "元", "块",
                         "岁", "次", "口", "个", "位", "名", "类", "保", "度"])
PUNCT = st.sampled_from(list("，。！？；、,.!?;:()（） \n\t"))

# What residents type, what the normaliser rewrites, and junk, in one alphabet.
RESIDENT_TEXT = st.text(CJK | NUMERALS | PUNCT | FULLWIDTH | st.characters(min_codepoint=0x20, max_codepoint=0x7E),
                        max_size=60)
HOSTILE_TEXT = st.text(ANY_CHAR | CONTROL | SURROGATE | CJK | ASTRAL | NUMERALS, max_size=80)
TEXT = RESIDENT_TEXT | HOSTILE_TEXT | st.lists(NUMERALS | UNITS, max_size=20).map("".join)


def mostly(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], rare_in_10: int = 3,
           ) -> st.SearchStrategy[Any]:
    """`common` in most examples, `rare` in `rare_in_10` of ten: enough well-formed input
    reaches the deep paths (storage, replies) while the hostile kind is still tried often."""
    return st.integers(0, 9).flatmap(lambda i: rare if i < rare_in_10 else common)


def mixed(*extra: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A resident's text with hostile pieces spliced in: each example carries several kinds
    at once, so a small derandomised budget still meets them all."""
    piece = st.one_of(RESIDENT_TEXT, st.text(CONTROL, min_size=1, max_size=3),
                      st.text(ASTRAL | FULLWIDTH, min_size=1, max_size=3), *extra)
    return st.lists(piece, min_size=1, max_size=6).map("".join)


# Text that can travel as UTF-8 (forms, XML), and text that cannot (JSON escapes, Python str).
MIXED = mixed()
MIXED_SURROGATES = mixed(st.text(SURROGATE, min_size=1, max_size=2))


# Long input of numerals that lengthen when written as digits (十天 → 10天, 万元 → 10000元).
LONG_NUMERALS = st.tuples(st.lists(NUMERALS | UNITS, min_size=2, max_size=8).map("".join),
                          st.integers(30, 250)).map(lambda t: t[0] * t[1])


@st.composite
def numeral_text(draw: st.DrawFn) -> str:
    """Chinese numerals next to unit words, the normaliser's own domain, with filler around."""
    pieces = draw(st.lists(st.one_of(
        st.lists(NUMERALS, min_size=1, max_size=6).map("".join),
        UNITS,
        st.text(CJK | PUNCT, max_size=3),
        st.integers(0, 99999).map(str),
    ), max_size=12))
    return "".join(pieces)


# -- JSON bodies for /api/chat and /widget/chat ---------------------------------------------
SENDER_ALPHABET = st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:@-")
)
VALID_SENDER = st.text(SENDER_ALPHABET, min_size=1, max_size=24).map(lambda s: f"fz-{s}")
SENDER = mostly(VALID_SENDER, st.one_of(
    VALID_SENDER.flatmap(lambda s: st.sampled_from([s + "\n", s + "\r\n", "\n" + s, s + " ",
                                                    s + "\x00", s + "\u2028", s + "\x85"])),
    st.text(SENDER_ALPHABET, min_size=120, max_size=140),
    st.text(ANY_CHAR | CONTROL | SURROGATE, max_size=20),
    st.just(""),
))
JSON_SCALAR = st.one_of(
    st.none(), st.booleans(),
    st.integers(), st.integers(min_value=10**18, max_value=10**40), st.integers(max_value=-1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(ANY_CHAR | CONTROL | SURROGATE, max_size=20),
)
JSON_VALUE = st.recursive(
    JSON_SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
MESSAGE = mostly(MIXED_SURROGATES, st.one_of(
    HOSTILE_TEXT,
    st.text(CJK, min_size=990, max_size=1010),  # around MAX_MESSAGE_CHARS
    JSON_VALUE,
))
CHANNEL = mostly(st.just("web"), st.one_of(
    st.sampled_from(["console", "sms", "wechat", "WEB", "web\n", ""]), JSON_VALUE))
MESSAGE_ID = mostly(st.text(SENDER_ALPHABET, min_size=1, max_size=64), st.one_of(
    st.text(SENDER_ALPHABET, min_size=65, max_size=70), st.text(ANY_CHAR | SURROGATE, max_size=10),
    JSON_VALUE))

CHAT_PAYLOAD = st.fixed_dictionaries(
    {"sender": mostly(SENDER, JSON_VALUE, 1), "message": MESSAGE},
    optional={"channel": CHANNEL, "message_id": MESSAGE_ID,
              "conversation_token": st.text(max_size=40) | JSON_VALUE,
              "metadata": JSON_VALUE},
)


def _deep(depth: int, opener: str) -> bytes:
    closer = {"[": "]", "{": "}"}[opener]
    if opener == "{":
        return ('{"sender":' * depth + "1" + "}" * depth).encode()
    return (opener * depth + closer * depth).encode()


def _encode(payload: Any, how: str) -> bytes:
    if how == "ascii":
        return json.dumps(payload, ensure_ascii=True).encode()
    if how == "utf8":  # lone surrogates become invalid UTF-8 bytes
        return json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass")
    if how == "newline":
        return json.dumps(payload).encode() + b"\n\r\n"
    return json.dumps(payload).encode() + b" trailing"


CHAT_BODY = mostly(
    st.tuples(CHAT_PAYLOAD, st.sampled_from(["ascii", "ascii", "ascii", "newline", "utf8", "junk"]))
    .map(lambda t: _encode(*t)),
    st.one_of(st.tuples(st.integers(2, 20_000), st.sampled_from(["[", "{"])).map(lambda t: _deep(*t)),
    st.integers(1, 6000).map(lambda n: b'{"sender": "fz-big", "message": ' + b"9" * n + b"}"),
    st.integers(1, 400).map(lambda n: b'{"sender": "fz-num", "message": "x", "channel": 1e' +
                            str(n).encode() + b"}"),
    JSON_VALUE.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.just(b""),
))

# -- query strings for /api/chat/updates and /widget/updates --------------------------------
AFTER = st.one_of(
    st.integers(-5, 50).map(str), st.integers(min_value=10**18, max_value=10**60).map(str),
    st.integers(max_value=-(10**19)).map(str), st.sampled_from(["", "1.5", "1e9", "0x10", " 1",
                                                               "1\n", "NaN", "-0", "٣", "１"]),
    st.text(ANY_CHAR, max_size=8),
)


# -- WeChat XML -----------------------------------------------------------------------------
XML_NAME = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_.\-]{0,15}\Z")
# Characters an XML 1.0 document can carry (the parser refuses the rest, the renderer drops them).
def xml_ok(ch: str) -> bool:
    return ch in "\t\n\r" or (0x20 <= ord(ch) and not 0xD800 <= ord(ch) <= 0xDFFF and ch not in "\ufffe\uffff")


XML_CHAR = st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff").filter(xml_ok)
XML_VALUE = st.lists(XML_CHAR | CJK | st.sampled_from(["]]>", "<", "&", "\r\n", "]]"]), max_size=40) \
    .map("".join)
MSG_TYPE = st.sampled_from(["text", "text", "text", "image", "voice", "event", "location", "", "TEXT"]) \
    | st.text(XML_CHAR, max_size=8)
EVENT = st.sampled_from(["subscribe", "unsubscribe", "CLICK", "SCAN", "LOCATION", ""]) \
    | st.text(XML_CHAR, max_size=8)


def xml_field(name: str, value: str, style: str) -> str:
    if style == "cdata":
        return f"<{name}><![CDATA[{value.replace(']]>', ']]]]><![CDATA[>')}]]></{name}>"
    return f"<{name}>{escape(value)}</{name}>"


@st.composite
def wechat_message(draw: st.DrawFn) -> dict[str, str]:
    """The fields of a WeChat push: mostly the real ones, with random values and extras."""
    fields: dict[str, str] = {
        "ToUserName": draw(st.just("gh_0123456789ab") | XML_VALUE),
        "FromUserName": draw(mostly(st.from_regex(r"\Ao[A-Za-z0-9_\-]{27}\Z"), XML_VALUE)),
        "CreateTime": draw(st.integers(0, 2**40).map(str) | XML_VALUE),
        "MsgType": draw(mostly(st.just("text"), MSG_TYPE, 5)),
    }
    if fields["MsgType"] == "text" or draw(st.booleans()):
        fields["Content"] = draw(MIXED.map(lambda t: "".join(filter(xml_ok, t))) | XML_VALUE)
    if draw(st.booleans()):
        fields["MsgId"] = draw(st.integers(0, 2**64).map(str) | XML_VALUE)
    if fields["MsgType"] == "event" or draw(st.booleans()):
        fields["Event"] = draw(EVENT)
    if fields["MsgType"] == "voice" or draw(st.integers(0, 4)) == 0:
        fields["Recognition"] = draw(XML_VALUE)
    extra = draw(st.dictionaries(XML_NAME, XML_VALUE, max_size=3))
    for name, value in extra.items():
        fields.setdefault(name, value)
    return fields


@st.composite
def wechat_body(draw: st.DrawFn, kinds: tuple[str, ...] = ("valid",) * 6 + ("mutated", "mutated", "junk"),
                ) -> tuple[dict[str, str] | None, bytes]:
    """(fields, body): a well-formed `<xml>` of `fields`, or (None, anything else)."""
    kind = draw(st.sampled_from(kinds))
    fields = draw(wechat_message())
    style = draw(st.sampled_from(["cdata", "escaped"]))
    xml = "<xml>" + "".join(xml_field(k, v, style) for k, v in fields.items()) + "</xml>"
    if kind == "valid":
        return fields, xml.encode()
    if kind == "mutated":
        mutation = draw(st.sampled_from([
            lambda x: x.replace("<xml>", '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY e "x">]><xml>'),
            lambda x: x.replace("<xml>", '<xml xmlns:a="urn:a"><a:Evil>1</a:Evil>'),
            lambda x: x.replace("</xml>", "<Nested><A>1</A><B>2</B></Nested></xml>"),
            lambda x: x.replace("</xml>", "<!-- c --><?pi x?></xml>"),
            lambda x: x.replace("<xml>", "<xml>" + "<F>1</F>" * 70),
            lambda x: x[: len(x) // 2],
            lambda x: x.replace("xml>", "XML>"),
            lambda x: "\ufeff" + x,
            lambda x: x + "<xml/>",
            lambda x: x.replace("<xml>", "<xml>" + "<N>" * 300 + "</N>" * 300),
        ]))
        return None, mutation(xml).encode()
    return None, draw(st.binary(max_size=300) | HOSTILE_TEXT.map(
        lambda s: s.encode("utf-8", "surrogatepass")))


# -- Twilio forms ---------------------------------------------------------------------------
PHONE = st.from_regex(r"\A\+861[3-9][0-9]{9}\Z")
SMS_FROM = st.one_of(PHONE, PHONE.map(lambda p: f" {p} "), st.from_regex(r"\A\+1[2-9][0-9]{9}\Z"),
                     st.text(XML_CHAR, min_size=1, max_size=30))
SMS_BODY = st.one_of(MIXED, st.text(XML_CHAR | CJK | ASTRAL, max_size=200),
                     st.sampled_from(["STOP", "start", "HELP", "退订", " "]),
                     st.text(CJK, min_size=1000, max_size=1100))
SMS_EXTRA = st.dictionaries(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1,
                                    max_size=10), st.text(XML_CHAR, max_size=20), max_size=3)


# -- phone numbers in log text --------------------------------------------------------------
@st.composite
def phone_in_text(draw: st.DrawFn) -> tuple[str, str]:
    """(the phone's digits, a log line carrying it in some written form)."""
    local = draw(st.from_regex(r"\A1[3-9][0-9]{9}\Z"))
    prefix = draw(st.sampled_from(["", "+86", "86", "0086", "+86 ", "+86-", "(+86)", "tel:+86",
                                   "%2B86", "whatsapp:+86"]))
    # How people write numbers: plain, grouped by spaces, dashes, dots, full-width (Chinese IME).
    sep = draw(st.sampled_from(["", " ", "-", ".", " - ", "\xa0", "\u3000", "\uff0d"]))
    groups = [local[:3], local[3:7], local[7:]]
    body = sep.join(groups)
    if draw(st.booleans()):
        body = body.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})  # full-width
    written = prefix + body
    before = draw(st.text(CJK | st.sampled_from(list("：: =,'\"(<[")), max_size=10))
    after = draw(st.text(CJK | st.sampled_from(list("：: =,'\")>]")), max_size=10))
    return local, before + written + after
