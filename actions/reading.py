"""Read every fact one resident message states into a :class:`Reading` (pure, no Rasa imports).

The bot's NLU (Rasa) normalises the text (traditional → simplified, full-width → half-width,
Chinese numerals → digits) and finds dates, years and durations (``bot/components/quantities``);
this module gives those quantities their roles from the words around them and reads what the
knowledge data names: the place (gazetteer), the identities (categories.yaml) with head counts,
and the household size. What the message asks is decided from word cues (``actions/cues.yaml``)
layered on the NLU intent in :mod:`actions.conversation`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from knowledge.loader import KnowledgeBase

CUES_FILE = Path(__file__).with_name("cues.yaml")

# Date roles, decided by the words right after a date (or right before it).
_ROLE_AFTER = [
    ("payment", re.compile(r"^[^,，。;；?？]{0,12}?(补缴|补交)")),
    ("birth", re.compile(r"^.{0,2}(出生|生的|生了|生|出世|降生)")),
    ("death", re.compile(r"^.{0,4}(去世|死亡|过世|病故|走了|离世)")),
    ("enlisted", re.compile(r"^.{0,4}(参军|入伍|当兵)")),
    ("stop", re.compile(r"^.{0,6}(停缴|停保|断缴|中断|辞职|离职|停了|断了|失业|解除|不干了|退出职工)")),
    ("admission", re.compile(r"^.{0,6}(住院|看病|就医|生病|手术|看门诊)")),
    ("change", re.compile(r"^.{0,6}(认定|纳入|变更|成为|评上|识别)")),
    ("payment", re.compile(r"^.{0,10}(交|缴|补交|补缴|参保|续保|去交|办)")),
]
_ROLE_BEFORE = [
    ("birth", re.compile(r"(出生于|生于|出生在|出生日期是?|生日是?)$")),
    ("payment", re.compile(r"(缴费日期是?|交费日期是?|缴费时间是?|在|于)$")),
    ("admission", re.compile(r"(住院日期是?|入院)$")),
]
_BEFORE_DEADLINE = re.compile(r"^(以?前|之前)")  # "12月31号前没交": a deadline, not a payment

_WAN = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*万")
_GAP = re.compile(r"(断|中断|停|停保|断缴|间隔|空)[^,，。;；]{0,4}?(\d{1,2})\s*个?多?月")
_COUNT = re.compile(r"(\d{1,2})\s*(?:口人|口|个人|个|位|名|人)")
_HOUSEHOLD = re.compile(r"(?:家里?|全家|一家|俺家|我家|家庭|户里?)[^,，。;；?？]{0,6}?(\d{1,2})\s*(?:口人|口|个人|人)")
_FAMILY_ALL = re.compile(r"全家|一家|一共|总共|合计|家里人|一家人")


@dataclass
class DateFact:
    role: str  # birth / payment / stop / admission / change / death / enlisted / other
    value: str  # ISO date "2022-03-05", or month "2022-03"
    start: int


@dataclass
class Group:
    """Identities held by some members of a household, with how many."""

    categories: list[str]
    count: int


@dataclass
class Reading:
    """The facts of one message; ``None`` / empty = not said in this message."""

    text: str
    region: str | None = None  # canonical gazetteer name
    place_said: str | None = None  # a place the gazetteer does not cover (北京), as said
    year: int | None = None
    year_is_label: bool = False  # "2022年度": a notice's own year label
    categories: list[str] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    household: int | None = None
    dates: list[DateFact] = field(default_factory=list)
    continuous_years: int | None = None
    amounts: list[str] = field(default_factory=list)
    gap_months: int | None = None  # "中间断了5个月": months between the old insurance and paying
    topics: list[str] = field(default_factory=list)  # from the word cues, most specific first
    flags: set[str] = field(default_factory=set)  # cue flags: previous_year, total, how_paid ...

    def date_for(self, role: str) -> str | None:
        return next((d.value for d in self.dates if d.role == role), None)


@lru_cache(maxsize=1)
def cues() -> dict[str, Any]:
    return yaml.safe_load(CUES_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=4)
def _compiled_cues() -> tuple[list[tuple[str, re.Pattern[str]]], list[tuple[str, re.Pattern[str]]],
                              list[re.Pattern[str]]]:
    data = cues()
    topics = [(c["topic"], re.compile(c["pattern"])) for c in data["topics"]]
    flags = [(c["flag"], re.compile(c["pattern"])) for c in data["flags"]]
    not_places = [re.compile(p) for p in data.get("not_places", [])]
    return topics, flags, not_places


_ALIASES: dict[int, list[tuple[str, str]]] = {}


def _category_aliases(kb: KnowledgeBase) -> list[tuple[str, str]]:
    """(alias, category id), longest alias first, from categories.yaml (cached per knowledge base)."""
    if id(kb) not in _ALIASES:
        pairs = [(a, c.id) for c in kb.categories.values() for a in (c.name, *c.aliases)]
        _ALIASES[id(kb)] = sorted(pairs, key=lambda p: -len(p[0]))
    return _ALIASES[id(kb)]


def _find_categories(text: str, kb: KnowledgeBase) -> list[tuple[str, int, int]]:
    """Category mentions (id, start, end), longest alias first, spans not overlapping."""
    taken: list[tuple[int, int]] = []
    found: list[tuple[str, int, int]] = []
    for alias, cid in _category_aliases(kb):
        for m in re.finditer(re.escape(alias), text):
            a, b = m.span()
            if any(a < e and b > s for s, e in taken):
                continue
            taken.append((a, b))
            found.append((cid, a, b))
    return sorted(found, key=lambda f: f[1])


def _date_role(text: str, start: int, end: int) -> str:
    after = text[end:end + 14]
    before = text[max(0, start - 8):start]
    if _BEFORE_DEADLINE.match(after):
        return "deadline"
    for role, pattern in _ROLE_AFTER:
        m = pattern.match(after)
        if m and not re.search(r"[,，。;；?？]", after[:m.start(1)]):
            return role
    for role, pattern in _ROLE_BEFORE:
        if pattern.search(before):
            return role
    return "other"


def _complete_dates(raw: list[dict[str, Any]], year: int | None, today: date) -> list[tuple[str, dict]]:
    """Give ``--MM-DD`` / ``--MM`` dates the year of the nearest earlier date in the message, else the
    year said, else the latest year not after today."""
    out: list[tuple[str, dict]] = []
    last_year: int | None = None
    for e in raw:
        value = str(e["value"])
        if value == "today":
            value = today.isoformat()
        elif value.startswith("--"):
            month, day = int(value[2:4]), int(value[5:7] or 1)
            y = last_year or year
            if y is None:
                y = today.year if (month, day) <= (today.month, today.day) else today.year - 1
            value = f"{y:04d}-{value[2:]}"
        last_year = int(value[:4])
        out.append((value, e))
    return out


def read(text: str, entities: list[dict[str, Any]], kb: KnowledgeBase, today: date) -> Reading:
    """The facts of one normalised message; ``entities`` are the NLU's quantity entities."""
    r = Reading(text=text)
    topic_cues, flag_cues, not_places = _compiled_cues()

    masked = text
    for pattern in not_places:  # 市县财政, 省市 …: words, not places
        masked = pattern.sub(lambda m: "#" * len(m.group(0)), masked)
    region = kb.gazetteer.find_in(masked)
    if region is not None:
        r.region = region.name

    years = [e for e in entities if e.get("entity") == "year"]
    for e in years:
        try:
            r.year = int(e["value"])
        except (TypeError, ValueError):
            rel = {"this_year": 0, "next_year": 1, "last_year": -1}.get(str(e["value"]))
            r.year = today.year + rel if rel is not None else None
            if rel is not None:
                r.flags.add("relative_year")
        end = e.get("end") or 0
        r.year_is_label = text[end:end + 2].startswith("年度")
        if r.year is not None:
            break

    raw_dates = sorted((e for e in entities if e.get("entity") == "date"), key=lambda e: e["start"])
    for value, e in _complete_dates(raw_dates, r.year if not r.year_is_label else None, today):
        r.dates.append(DateFact(_date_role(text, e["start"], e["end"]), value, e["start"]))

    for e in entities:
        if e.get("entity") == "duration" and str(e.get("value", "")).endswith("Y"):
            ctx = text[max(0, e["start"] - 8):e["end"] + 2]
            if re.search(r"连续|交了|缴了|参保|累计|已经|一直|满", ctx):
                r.continuous_years = int(str(e["value"])[1:-1])
        if e.get("entity") == "amount":
            r.amounts.append(str(e["value"]))

    r.amounts += [str(Decimal(m.group(1)) * 10000) for m in _WAN.finditer(text)]
    gap = _GAP.search(text)
    if gap:
        r.gap_months = int(gap.group(2))

    mentions = _find_categories(text, kb)
    r.categories = list(dict.fromkeys(cid for cid, _, _ in mentions))
    _read_household(text, mentions, r)

    for topic, pattern in topic_cues:
        if pattern.search(text) and topic not in r.topics:
            r.topics.append(topic)
    for flag, pattern in flag_cues:
        if pattern.search(text):
            r.flags.add(flag)
    return r


def _read_household(text: str, mentions: list[tuple[str, int, int]], r: Reading) -> None:
    """家里5口人，2个是一类低保，另外3个没身份 → household 5, groups [dibao_full×2, none×3]."""
    m = _HOUSEHOLD.search(text)
    if m:
        r.household = int(m.group(1))
    if r.household is None and not _FAMILY_ALL.search(text):
        return
    counted = 0
    for count_m in _COUNT.finditer(text):
        if m and count_m.start() == m.start(1):
            continue
        n = int(count_m.group(1))
        tail = text[count_m.end():count_m.end() + 14]
        cats = [cid for cid, a, _ in mentions if count_m.end() <= a <= count_m.end() + 8]
        if cats:
            r.groups.append(Group(cats[:1], n))
            counted += n
        elif re.match(r"^[^,，。;；]{0,6}(没|无|不是|普通|一般|啥身份都没|什么身份都没)", tail):
            r.groups.append(Group([], n))
            counted += n
    if r.household and counted and counted < r.household:
        r.groups.append(Group([], r.household - counted))
    if r.household and not r.groups:
        r.groups.append(Group(list(r.categories[:1]), r.household))
