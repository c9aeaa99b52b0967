"""Deterministic extraction of years, dates, durations and amounts from normalised text.

Pure functions (no Rasa imports). Values:

* ``year``: ``"2022"`` or a relative word ``this_year`` / ``next_year`` / ``last_year``;
* ``date``: ISO ``"2022-03-05"``, ``"--03-05"`` when the year is not said, ``"2022-03"`` for a
  month without a day, ``"--08"`` for 8月份, ``"today"``;
* ``duration``: ISO 8601 ``"P90D"``, ``"P3M"``, ``"P15Y"``;
* ``amount``: a decimal string in yuan, ``"350"``.
"""

from __future__ import annotations

import re
from typing import Any

_FULL_DATE = re.compile(
    r"(?<!\d)(20\d{2})\s*(?:年|-|/|\.)\s*(\d{1,2})\s*(?:月|-|/|\.)\s*(\d{1,2})\s*(?:日|号)?"
)
# 2022年3月 (no day): a month, value "2022-03"
_YEAR_MONTH = re.compile(r"(?<!\d)(20\d{2})\s*年\s*(\d{1,2})\s*月份?(?!\d)")
# 8月份住院 / 7月住院 (no day): value "--08"; 3个月 is a duration, 3月5号 a date.
_MONTH_ONLY = re.compile(r"(?<![\d年个.])(\d{1,2})月(?:份)?(?![\d日号])")
_MONTH_DAY = re.compile(r"(?<![\d年])(\d{1,2})月(\d{1,2})(?:日|号)")
# 2022年 / 2022年度 / 22年度; a bare 22年 only when it cannot be a number of years
# (连续缴费15年, 满20年 are durations).
_YEAR = re.compile(r"(?<!\d)(20\d{2}|\d{2}(?=年度)|(?<![连续满缴费交了第共])2\d(?=年(?![内后前以来多])))"
                   r"(?=\s*年)")
_REL_DATE = re.compile(r"今天|今日")
_REL_YEAR = {"今年": "this_year", "明年": "next_year", "去年": "last_year"}
_REL_YEAR_RE = re.compile("|".join(_REL_YEAR))
_DURATION = re.compile(r"(?<![\d.])(\d{1,3})\s*(个多月|个月|天|日|周|年)(?!度|\d)")
_AMOUNT = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:元|块钱|块)")
_DUR_UNIT = {"个多月": "M", "个月": "M", "天": "D", "日": "D", "周": "W", "年": "Y"}


def _ent(entity: str, start: int, end: int, value: str, text: str) -> dict[str, Any]:
    return {"entity": entity, "start": start, "end": end, "value": value,
            "text": text[start:end]}


def extract(text: str) -> list[dict[str, Any]]:
    """Return entity dicts (entity, start, end, value) in text order, spans not overlapping."""
    found: list[dict[str, Any]] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    def add(entity: str, a: int, b: int, value: str) -> None:
        if free(a, b):
            taken.append((a, b))
            found.append(_ent(entity, a, b, value, text))

    for m in _FULL_DATE.finditer(text):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if 1 <= mo <= 12 and 1 <= d <= 31:
            add("date", m.start(), m.end(), f"{y:04d}-{mo:02d}-{d:02d}")
    for m in _YEAR_MONTH.finditer(text):
        if 1 <= int(m.group(2)) <= 12:
            add("date", m.start(), m.end(), f"{int(m.group(1)):04d}-{int(m.group(2)):02d}")
    for m in _MONTH_DAY.finditer(text):
        mo, d = int(m.group(1)), int(m.group(2))
        if 1 <= mo <= 12 and 1 <= d <= 31:
            add("date", m.start(), m.end(), f"--{mo:02d}-{d:02d}")
    for m in _MONTH_ONLY.finditer(text):
        if 1 <= int(m.group(1)) <= 12:
            add("date", m.start(), m.end(), f"--{int(m.group(1)):02d}")
    for m in _REL_DATE.finditer(text):
        add("date", m.start(), m.end(), "today")
    for m in _YEAR.finditer(text):
        y = int(m.group(1))
        add("year", m.start(), m.end(), str(y + 2000 if y < 100 else y))
    for m in _REL_YEAR_RE.finditer(text):
        add("year", m.start(), m.end(), _REL_YEAR[m.group(0)])
    for m in _AMOUNT.finditer(text):
        add("amount", m.start(), m.end(), m.group(1))
    for m in _DURATION.finditer(text):
        unit = _DUR_UNIT[m.group(2)]
        if unit == "D" and text[max(0, m.start() - 1)] == "月":
            continue  # 3月5日 without 号 is a date fragment, not a duration
        add("duration", m.start(), m.end(), f"P{int(m.group(1))}{unit}")
    return sorted(found, key=lambda e: e["start"])
