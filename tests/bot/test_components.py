"""The normaliser and quantity extractor that run first in the Rasa pipeline (pure parts)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bot"))
from components.overlaps import resolve_overlaps  # noqa: E402
from components.quantities import extract  # noqa: E402
from components.replies import is_bare_reply  # noqa: E402
from components.textnorm import MAX_CHARS, cn_to_int, normalise  # noqa: E402


@pytest.mark.parametrize("text,expected", [
    ("會寧縣的低保戶繳費多少錢？", "会宁县的低保户缴费多少钱?"),
    ("２０２２年医保", "2022年医保"),
    ("二〇二一年度", "2021年度"),
    ("二零二二年三月五号出生", "2022年3月5号出生"),
    ("断保九十天", "断保90天"),
    ("交了三百二", "交了320"), ("交了一百零八元", "交了108元"),
    ("三百五十元", "350元"),
    ("连续缴费十五年", "连续缴费15年"),
    ("三个月", "3个月"),
    ("十二月三十一日", "12月31日"),
    # numerals that are part of words stay
    ("一类低保", "一类低保"), ("三四类低保", "三四类低保"), ("零星缴费期", "零星缴费期"),
    ("第一次参保", "第一次参保"), ("五保户", "五保户"),
    ("二十世纪六十年代初精减退职老职工", "二十世纪六十年代初精减退职老职工"),
    # a run that starts with 百/千/万 is a word or an estimate, not a number (was 11000个月, 几10000块)
    ("万一个月没交怎么办", "万一个月没交怎么办"), ("几万块钱", "几万块钱"), ("上千元", "上千元"),
    ("十万元", "100000元"),
    ("  多个   空格\u3000", "多个 空格"),
    ("😀😀😀", ""), ("\x00\x01abc\x7f", "abc"), ("", ""),
])
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected
    assert normalise(normalise(text)) == normalise(text)  # idempotent


def test_long_input_is_capped() -> None:
    assert len(normalise("医保" * 2000)) == MAX_CHARS


def test_numerals_that_lengthen_the_text_stay_within_the_cap_and_idempotent() -> None:
    # 十天 → 10天: the input was cut to 300 characters before the conversion, so the result had
    # 450 and a second pass cut it to 300 (not idempotent); now the input is cut so the result fits.
    once = normalise("十天" * 150)
    assert len(once) <= MAX_CHARS and once == "10天" * 100
    assert normalise(once) == once
    mixed = normalise("断保" + "十万元" * 200)
    assert len(mixed) <= MAX_CHARS and normalise(mixed) == mixed


@pytest.mark.parametrize("text,value", [
    ("三百二", 320), ("一千五", 1500), ("两万三", 23000), ("三百二十", 320), ("十五", 15),
    ("二〇二一", 2021), ("九十", 90), ("十", 10),
    # a 零 in between: the digit after it is the units, not the next place (was 1500, 180, 15000)
    ("一千零五", 1005), ("一百零八", 108), ("一万零五", 10005), ("一万三千零五", 13005),
    ("一千零五十", 1050), ("十万零一十", 100010),
])
def test_cn_to_int(text: str, value: int) -> None:
    assert cn_to_int(text) == value


@pytest.mark.parametrize("text,found", [
    ("2022年3月5日出生", [("date", "2022-03-05")]),
    ("2021.12.31停保", [("date", "2021-12-31")]),
    ("3月5号出生", [("date", "--03-05")]),
    ("白银2022年度低保户", [("year", "2022")]),
    ("22年度的", [("year", "2022")]),
    ("白银23年医保几号截止", [("year", "2023")]),
    ("连续缴费25年", [("duration", "P25Y")]),
    ("满20年了", [("duration", "P20Y")]),
    ("明年交多少", [("year", "next_year")]),
    ("断保90天", [("duration", "P90D")]),
    ("连续缴费15年", [("duration", "P15Y")]),
    ("交了350元", [("amount", "350")]),
    ("会宁县2022年低保户交多少钱", [("year", "2022")]),
])
def test_extract(text: str, found: list[tuple[str, str]]) -> None:
    assert [(e["entity"], e["value"]) for e in extract(text)] == found


def test_generated_vocabulary_is_up_to_date() -> None:
    """The jieba dictionary and lookup tables match knowledge/data (run gen_vocab.py)."""
    result = subprocess.run([sys.executable, str(ROOT / "bot" / "scripts" / "gen_vocab.py"),
                             "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_generated_nlu_is_up_to_date() -> None:
    sys.path.insert(0, str(ROOT / "bot" / "scripts"))
    import gen_nlu

    assert gen_nlu.OUT.read_text("utf-8") == gen_nlu.build(), "run bot/scripts/gen_nlu.py"



def test_overlapping_entities_keep_the_longest_span() -> None:
    found = [
        {"entity": "category", "start": 2, "end": 4, "value": "dibao"},  # 低保 (DIET)
        {"entity": "category", "start": 0, "end": 4, "value": "dibao_full"},  # 一类低保 (lookup)
        {"entity": "region", "start": 5, "end": 7, "value": "会宁"},
        {"entity": "region", "start": 5, "end": 8, "value": "会宁县"},
        {"entity": "year", "start": 2, "end": 4, "value": "2022"},  # other type: kept
    ]
    kept = [(e["entity"], e["value"]) for e in resolve_overlaps(found)]
    assert kept == [("category", "dibao_full"), ("year", "2022"), ("region", "会宁县")]


@pytest.mark.parametrize("text,entities,bare", [
    ("白银", [{"entity": "region", "start": 0, "end": 2}], True),
    ("2023年", [{"entity": "year", "start": 0, "end": 4}], True),
    ("那低保户呢?", [{"entity": "category", "start": 1, "end": 4}], True),
    ("那贵州呢", [{"entity": "region", "start": 1, "end": 3}], True),
    ("白银交多少钱", [{"entity": "region", "start": 0, "end": 2}], False),
    ("交多少钱", [], False),
    ("明天天气", [], False),
])
def test_bare_reply(text: str, entities: list, bare: bool) -> None:
    assert is_bare_reply(text, entities) is bare
