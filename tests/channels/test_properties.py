"""Property-based tests (hypothesis) of the SMS splitter, the XML and form parsers, and the
JSON API's body parser, text cleaning and log redaction."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.api import jsonbody
from channels.api.routes import storable_text
from channels.identity import redact
from channels.sms.form import FormRejected, parse_form
from channels.sms.splitter import (
    TWILIO_MAX,
    UCS2_SEGMENT,
    is_gsm7,
    reassemble,
    segments,
    split_sms,
    units,
)
from channels.wechat.xmlsafe import (
    XmlRejected,
    cdata,
    clean_text,
    parse_xml,
    render_text_reply,
)

# Chinese text with punctuation, ASCII, and characters outside the BMP (surrogate pairs).
CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
ASTRAL = st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF) | st.characters(
    min_codepoint=0x20000, max_codepoint=0x2A6DF
)
PUNCT = st.sampled_from(list("，。！？；、\n （）"))
ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
SMS_TEXT = st.text(CJK | ASTRAL | PUNCT | ASCII, max_size=2500)
GSM_TEXT = st.text(st.sampled_from(list("abcXYZ 0123456789.,!?\n{}[]~")), max_size=2500)

common = settings(max_examples=300, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow])


def _utf16_ok(part: str) -> bool:
    raw = part.encode("utf-16-le", "surrogatepass")
    try:
        raw.decode("utf-16-le")
    except UnicodeDecodeError:
        return False
    return True


@common
@given(SMS_TEXT | GSM_TEXT)
def test_split_within_limits_and_reassembles(text: str) -> None:
    parts = split_sms(text)
    if not text:
        assert parts == []
        return
    gsm = is_gsm7(text)
    per_part = 2 * (153 if gsm else UCS2_SEGMENT)
    for part in parts:
        assert units(part, is_gsm7(part)) <= per_part
        assert segments(part) <= 2
        assert _utf16_ok(part)  # no part starts or ends inside a surrogate pair
    assert sum(units(p, gsm) for p in parts) <= TWILIO_MAX
    assert sum(len(p) for p in parts) <= TWILIO_MAX
    joined = reassemble(parts)
    if units(text, gsm) <= per_part:
        assert parts == [text]
    elif joined.endswith(("…", "...")) and joined != text:
        marker = "..." if gsm else "…"
        assert text.startswith(joined[: -len(marker)])  # truncated, never reordered
    else:
        assert joined == text
    if len(parts) > 1:
        n = len(parts)
        assert all(p.startswith(f"({i + 1}/{n})") for i, p in enumerate(parts))


@common
@given(st.text(CJK | ASTRAL, min_size=1, max_size=400))
def test_short_enough_text_is_never_truncated(text: str) -> None:
    parts = split_sms(text)
    if units(text, False) <= 1400:
        assert reassemble(parts) == text


def test_split_examples() -> None:
    assert split_sms("会宁县2022年个人缴费320元。") == ["会宁县2022年个人缴费320元。"]
    answer = "会宁县2022年度城乡居民医保个人缴费标准为每人每年320元。" * 10
    parts = split_sms(answer)
    assert len(parts) == 3 and parts[0].startswith("(1/3)")
    assert parts[0].endswith("。")  # cut after a sentence, not mid-word
    emoji = "😀" * 200
    parts = split_sms(emoji)
    assert all(units(p, False) <= 134 for p in parts)
    assert reassemble(parts) == emoji


FIELD = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=50)


@common
@given(st.lists(st.tuples(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E),
                                  min_size=1, max_size=12), FIELD), max_size=20))
def test_form_round_trip(pairs: list[tuple[str, str]]) -> None:
    form = parse_form(urlencode(pairs).encode())
    expected: dict[str, list[str]] = {}
    for k, v in pairs:
        expected.setdefault(k, []).append(v)
    assert dict(form) == expected


@common
@given(st.binary(max_size=300))
def test_form_parser_only_raises_form_rejected(body: bytes) -> None:
    try:
        form = parse_form(body)
    except FormRejected:
        return
    assert all(isinstance(v, list) for v in form.values())


def test_form_limits() -> None:
    with pytest.raises(FormRejected):
        parse_form(b"a=" + b"x" * 70_000)
    with pytest.raises(FormRejected):
        parse_form("&".join(f"f{i}=1" for i in range(200)).encode())
    with pytest.raises(FormRejected):
        parse_form(b"Body=%ED%A0%80")  # a UTF-8-encoded lone surrogate
    with pytest.raises(FormRejected):
        parse_form("Body=你好".encode())  # raw non-ASCII is not form encoding


XML_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)


@common
@given(XML_TEXT, XML_TEXT, XML_TEXT)
def test_reply_render_parse_round_trip(to_user: str, from_user: str, content: str) -> None:
    xml = render_text_reply(to_user, from_user, 1700000000, content)
    fields = parse_xml(xml)
    assert fields["MsgType"] == "text"
    assert fields["CreateTime"] == "1700000000"
    # parse_xml trims field whitespace
    assert fields["Content"] == clean_text(content).strip()
    assert fields["ToUserName"] == clean_text(to_user).strip()
    assert set(fields) == {"ToUserName", "FromUserName", "CreateTime", "MsgType", "Content"}


@common
@given(st.binary(max_size=400) | st.text(max_size=400).map(lambda s: f"<xml>{s}</xml>"))
def test_xml_parser_only_raises_xml_rejected(body: bytes | str) -> None:
    try:
        fields = parse_xml(body)
    except XmlRejected:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())


@common
@given(XML_TEXT)
def test_cdata_always_one_text_node(value: str) -> None:
    fields = parse_xml(f"<xml><C>{cdata(value)}</C></xml>")
    assert fields["C"] == clean_text(value).strip()


def test_entity_declarations_rejected() -> None:
    for body in [
        '<!DOCTYPE xml [<!ENTITY a "x">]><xml><A>&a;</A></xml>',
        '<!DOCTYPE xml SYSTEM "http://example.org/x.dtd"><xml/>',
        '<!DOCTYPE xml [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><xml/>',
    ]:
        with pytest.raises(XmlRejected):
            parse_xml(body)


# -- the JSON API (issue 12 M5) --------------------------------------------------------------
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                 max_size=3),
    max_leaves=40,
)
ANY_CODE_POINTS = st.lists(st.integers(0, 0x10FFFF).map(chr), max_size=40).map("".join)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@common
@given(JSON_VALUES, st.integers(1, 6))
def test_json_body_is_json_within_the_depth_limit(value: Any, limit: int) -> None:
    body = json.dumps(value, ensure_ascii=False).encode()
    if _depth(value) <= limit:
        assert jsonbody.loads(body, limit) == value
    else:
        with pytest.raises(jsonbody.InvalidJson):
            jsonbody.loads(body, limit)


@common
@given(st.binary(max_size=400) | st.text(alphabet='[]{}"\\,:1 a', max_size=400).map(str.encode))
def test_json_body_parser_only_raises_invalid_json(body: bytes) -> None:
    try:
        jsonbody.loads(body)
    except jsonbody.InvalidJson:
        pass


@common
@given(ANY_CODE_POINTS)
def test_storable_text_is_utf8_without_nul_and_keeps_good_text(text: str) -> None:
    out = storable_text(text)
    out.encode("utf-8")  # never raises: SQLite and PostgreSQL take it
    assert "\x00" not in out and len(out) == len(text)
    good = all(not 0xD800 <= ord(c) <= 0xDFFF and c != "\x00" for c in text)
    assert (out == text) == good


@common
@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.text(CJK | ASCII, max_size=20))
def test_redaction_hides_the_middle_of_phone_numbers(phone: str, context: str) -> None:
    out = redact(f"{context} +86{phone}; {context}")
    assert phone not in out and phone[:7] not in out
