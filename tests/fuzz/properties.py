"""The properties the fuzz targets check on pure code (no server): each `check_*` raises on a violation.

- WeChat XML (`channels/wechat/xmlsafe.py`): anything in → fields or `XmlRejected`, never
  another exception; a well-formed `<xml>` of simple fields comes back field for field; a
  rendered reply always encodes and parses back.
- Twilio forms (`channels/sms/form.py`): anything in → a form of sendable strings or
  `FormRejected`.
- SMS splitter (`channels/sms/splitter.py`): parts within the segment limits, no broken
  surrogate pair, nothing reordered.
- Redaction (`channels/identity.py`): no run of 7 digits of a phone number survives `redact`.
- Normaliser (`bot/components/textnorm.py`): never raises, idempotent, bounded, and a
  Chinese numeral before a unit reads as the number it writes.
- Reading (`bot/components/quantities.py` → `actions/reading.py`): whatever the normaliser
  lets through is read without an exception, entity spans inside the text.
"""

from __future__ import annotations

import re
import sys
from datetime import date
from functools import lru_cache
from typing import Any

from channels.identity import mask_sender, redact
from channels.sms.form import FormRejected, parse_form
from channels.sms.splitter import is_gsm7, normalize, reassemble, segments, split_sms, units
from channels.wechat.xmlsafe import MAX_FIELDS, XmlRejected, clean_text, parse_xml, render_text_reply
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bot"))
from components.quantities import extract  # noqa: E402
from components.textnorm import MAX_CHARS, cn_to_int, normalise  # noqa: E402


# -- WeChat XML -----------------------------------------------------------------------------
def check_xml_any(body: bytes | str) -> None:
    try:
        fields = parse_xml(body)
    except XmlRejected:
        return
    assert len(fields) <= MAX_FIELDS
    for key, value in fields.items():
        assert isinstance(key, str) and isinstance(value, str)
        value.encode("utf-8")  # no lone surrogate reaches the store


def check_xml_fields(fields: dict[str, str], body: bytes) -> None:
    """A well-formed flat `<xml>` parses to exactly its fields (values trimmed, line ends XML's)."""
    parsed = parse_xml(body)
    expected = {k: clean_text(v).strip() for k, v in fields.items()}
    assert parsed == expected


def check_reply_render(to_user: str, from_user: str, content: str) -> None:
    """Whatever the bot answers, the reply body can be sent (UTF-8) and parses back."""
    xml = render_text_reply(to_user, from_user, 1_700_000_000, content)
    raw = xml.encode("utf-8")
    parsed = parse_xml(raw)
    assert parsed["MsgType"] == "text"


# -- Twilio forms ---------------------------------------------------------------------------
def check_form(body: bytes) -> None:
    try:
        form = parse_form(body)
    except FormRejected:
        return
    for name, values in form.items():
        assert values and all(isinstance(v, str) for v in values)
        for text in (name, *values):
            text.encode("utf-8")  # strict: no lone surrogate from %ED%A0%80
            assert "\x00" not in text


# -- SMS splitter ---------------------------------------------------------------------------
def check_split(text: str, max_segments: int, max_total: int) -> None:
    parts = split_sms(text, max_segments_per_part=max_segments, max_total=max_total)
    clean = normalize(text)
    if not clean:
        assert parts == []
        return
    gsm = is_gsm7(clean)
    for part in parts:
        part.encode("utf-16-le")  # strict: no part starts or ends inside a surrogate pair
        assert segments(part) <= max_segments
    assert sum(units(p, gsm) for p in parts) <= max_total
    joined = reassemble(parts)
    marker = "..." if gsm else "…"
    if joined != clean:
        assert joined.endswith(marker) and clean.startswith(joined[: -len(marker)]), (parts, clean)


# -- redaction ------------------------------------------------------------------------------
_DIGIT_RUN = re.compile(r"\d+")


def _digits(text: str) -> str:
    """The text's decimal digits as ASCII, separators between digits removed."""
    return "".join(str(int(d)) for d in re.findall(r"\d", text))


def check_redaction(local: str, line: str) -> None:
    out = redact(line)
    windows = {local[i:i + 7] for i in range(len(local) - 6)}
    # Digits as they stand and joined across any separators: both are what a reader sees.
    seen = [_digits(run) for run in _DIGIT_RUN.findall(out)] + [_digits(out)]
    leaked = [w for w in windows if any(w in s for s in seen)]
    assert not leaked, f"redact({line!r}) = {out!r} keeps {leaked}"


def check_mask(sender: str) -> None:
    masked = mask_sender(sender)
    s = sender.strip()
    assert len(masked) <= len(s)
    shown = [c for c in masked if c != "*"]
    assert len(shown) <= 7, masked  # at most a 3-character prefix and the last 4
    if len(s) > 4:
        assert masked.endswith(s[-4:]) and "*" in masked


# -- the text normaliser --------------------------------------------------------------------
def check_normalise(text: str) -> None:
    once = normalise(text)
    assert isinstance(once, str)
    assert len(once) <= MAX_CHARS, len(once)
    assert once == once.strip()
    assert normalise(once) == once, (text, once, normalise(once))


_DIGITS = "零一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    """The written form of 0 ≤ n < 10^8 (一万零五, 三千零二十, 十五): the oracle for cn_to_int."""
    if n == 0:
        return "零"

    def below_10k(k: int, leading: bool) -> str:
        out, zero = "", False
        for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            d = k // value % 10
            if d == 0:
                zero = bool(out) or not leading
                continue
            if zero and (out or not leading):
                out += "零"
            zero = False
            out += ("" if (d == 1 and unit == "十" and not out and leading) else _DIGITS[d]) + unit
        return out

    high, low = divmod(n, 10_000)
    if not high:
        return below_10k(low, leading=True)
    text = below_10k(high, leading=True) + "万"
    if low:
        text += ("零" if low < 1000 else "") + below_10k(low, leading=False).lstrip("零")
    return text


def check_numeral(n: int, unit: str) -> None:
    written = chinese_numeral(n)
    assert cn_to_int(written) == n, (written, cn_to_int(written))
    assert normalise(f"交了{written}{unit}") == f"交了{n}{unit}", (written, normalise(f"{written}{unit}"))


def check_colloquial(lead: int, unit: str, tail: int) -> None:
    """三百二 = 320, 一千五 = 1500, 两万三 = 23000: a bare digit after a unit is the next place."""
    scale = {"百": 100, "千": 1000, "万": 10_000}[unit]
    written = _DIGITS[lead] + unit + _DIGITS[tail]
    assert cn_to_int(written) == lead * scale + tail * scale // 10


# -- normaliser → quantities → reading -----------------------------------------------------
@lru_cache(maxsize=1)
def _knowledge() -> Any:
    from knowledge import load_knowledge

    return load_knowledge()


def check_reading(text: str) -> None:
    from actions.reading import read

    norm = normalise(text)
    entities = extract(norm)
    for e in entities:
        assert 0 <= e["start"] < e["end"] <= len(norm), e
        assert norm[e["start"]:e["end"]] == e["text"]
    read(norm, entities, _knowledge(), date(2024, 6, 1))
