"""Pure text normalisation for resident input (no Rasa imports, unit-testable anywhere).

* traditional → simplified (``zhconv`` when installed, else a small built-in table);
* full-width ASCII and the ideographic space → half-width;
* control characters and other junk removed, whitespace collapsed, length capped;
* Chinese numerals → digits only where they are a year, a date, a duration or an amount
  (``二〇二一年`` → ``2021年``, ``三月五号`` → ``3月5号``, ``九十天`` → ``90天``,
  ``三百二`` → ``320``, ``四口人`` → ``4口人``); words such as ``一类低保`` or ``零星缴费期`` stay as they are.
"""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 300  # longer input is cut: no resident question needs more

try:  # pragma: no cover - depends on the environment
    import zhconv as _zhconv
except ImportError:  # pragma: no cover
    _zhconv = None

# Fallback for the characters residents are most likely to type in this domain.
_T2S = str.maketrans(
    "會寧縣區鄉鎮戶繳費錢補貼醫險參續斷轉學進業職員與資農貧監測對象間時麼嗎為這個兒從"
    "關聯發條籍證書號碼銀單據額標準幾歲齡機構辦處臺灣廣報銷獲給後題問請謝說話聽頭門",
    "会宁县区乡镇户缴费钱补贴医险参续断转学进业职员与资农贫监测对象间时么吗为这个儿从"
    "关联发条籍证书号码银单据额标准几岁龄机构办处台湾广报销获给后题问请谢说话听头门",
)

_DIGIT = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
          "七": 7, "八": 8, "九": 9}
_UNIT = {"十": 10, "百": 100, "千": 1000}
_NUM = "〇零一二两三四五六七八九十百千万"
_YEAR_RE = re.compile(r"([〇零一二三四五六七八九]{4}|[〇零一二三四五六七八九]{2})(?=年)")
# A number starts with a digit or 十; a run that starts with 百/千/万 is a word (万一个月没交: "in
# case", not 11000个月) or an estimate (几万块, 上千元), and stays as it is.
_QTY_RE = re.compile(
    rf"(?<![第{_NUM}])([〇零一二两三四五六七八九十][{_NUM}]*)"
    r"(?=(个月|个多月|月|日|号|天|周|年(?!代|级)|元|块|岁|次|口|个|位|名))"
)
_COLLOQUIAL_RE = re.compile(
    rf"(?<![{_NUM}])([一二两三四五六七八九][百千万][一二两三四五六七八九])(?![{_NUM}])"
)
_JUNK_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd\u200b-\u200f\ufeff]")
_SPACE_RE = re.compile(r"\s+")


def cn_to_int(text: str) -> int | None:
    """Convert a Chinese numeral (``三百二十``, ``两万三``, ``二〇二一``) to an int."""
    if not text:
        return None
    if all(ch in _DIGIT for ch in text) and len(text) > 1:  # digit by digit: 二〇二一
        return int("".join(str(_DIGIT[ch]) for ch in text))
    total, section, number, last_unit = 0, 0, None, 1
    gap = False  # a 零 since the last unit: 一千零五 = 1005, not 1500
    for ch in text:
        if ch in _DIGIT:
            number = _DIGIT[ch]
            gap = gap or number == 0
        elif ch in _UNIT:
            unit = _UNIT[ch]
            section += (1 if number is None else number) * unit
            number, last_unit, gap = None, unit, False
        elif ch == "万":
            section += number or 0
            total += (section or 1) * 10000
            section, number, last_unit, gap = 0, None, 10000, False
        else:
            return None
    if number is not None:
        # 三百二 = 320, 一千五 = 1500, 两万三 = 23000 (colloquial: digit right after a unit)
        section += number * (last_unit // 10 if last_unit >= 100 and not gap else 1)
    return total + section


def _sub_number(match: re.Match[str]) -> str:
    value = cn_to_int(match.group(1))
    return match.group(0) if value is None else str(value)


def to_simplified(text: str) -> str:
    if _zhconv is not None:
        return _zhconv.convert(text, "zh-cn")
    return text.translate(_T2S)


def to_halfwidth(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if code == 0x3000:
            out.append(" ")
        elif 0xFF01 <= code <= 0xFF5E:
            out.append(chr(code - 0xFEE0))
        else:
            out.append(ch)
    return "".join(out)


def numerals_to_digits(text: str) -> str:
    text = _YEAR_RE.sub(_sub_number, text)
    text = _QTY_RE.sub(_sub_number, text)
    return _COLLOQUIAL_RE.sub(_sub_number, text)


def strip_junk(text: str) -> str:
    """Drop control characters, emoji and other symbols that carry no meaning here."""
    text = _JUNK_RE.sub("", text)
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("So", "Cs", "Co", "Cn") or cat.startswith("M"):
            continue
        kept.append(ch)
    return "".join(kept)


def normalise(text: str | None) -> str:
    """The full pipeline; idempotent, and the result is at most ``MAX_CHARS`` long.

    Numerals can lengthen the text (十天 → 10天, 万元 → 10000元), so the input is cut before
    they are converted, as much shorter as the result needs: cutting the result instead could
    split a number (10天 → 1) or a word that kept a numeral as it is (二十年代 → 二十年).
    """
    if not text:
        return ""
    text = strip_junk(to_halfwidth(text))
    text = _SPACE_RE.sub(" ", text).strip()
    limit = MAX_CHARS
    while True:
        out = numerals_to_digits(to_simplified(text[:limit].rstrip()))
        if len(out) <= MAX_CHARS or limit <= 1:
            return out[:MAX_CHARS]
        limit = min(limit - 1, limit * MAX_CHARS // len(out))
