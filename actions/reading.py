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


def _after(reach: int, words: str) -> re.Pattern[str]:
    """Words within ``reach`` characters after a date, in the same clause."""
    return re.compile(rf"^[^,，。;；?？!！]{{0,{reach}}}?({words})")


# Date roles: the role word nearest after a date decides (补缴/补交 in the clause first), else
# the words right before it.
_ROLE_AFTER = [
    ("payment", _after(12, "补缴|补交")),
    ("birth", _after(2, "出生|出身|生的|生了|生|出世|降生|落地")),
    ("death", _after(4, "去世|死亡|过世|病故|走了|离世|人没了")),
    ("enlisted", _after(4, "参军|入伍|当兵")),
    ("stop", _after(6, "停缴|停保|断缴|中断|辞职|离职|停了|断了|失业|解除|不干了|退出职工")),
    ("admission", _after(6, "住院|住进|住了院|入院|看病|就医|生病|手术|看门诊")),
    ("change", _after(6, "认定|纳入|变更|成为|评上|识别")),
    ("payment", _after(10, "交|缴|补交|补缴|参保|续保|去交|办|给上了|上了职工")),
]
_ROLE_BEFORE = [
    ("birth", re.compile(r"(出生于|生于|出生在|出生日期是?|生日是?)$")),
    ("payment", re.compile(r"(缴费日期是?|交费日期是?|缴费时间是?|在|于)$")),
    ("admission", re.compile(r"(住院日期是?|入院)$")),
]
# "12月31号前没交" / "过了3月31号补交": the deadline, not a payment.
_DEADLINE_AFTER = re.compile(r"^(以?前|之前)")
_DEADLINE_BEFORE = re.compile(r"(过了|超过|错过)$")

_WAN = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*万")
_YEAR_RUN = re.compile(r"(?:20\d\d年?[、,，和]){1,9}20\d\d年?(?=[^。?？]{0,6}(都交|都缴|没断|一直|连续))")
# "生下来100多天了": days since the event; "多" = more than the number said.
_ELAPSED = re.compile(r"(生下来|出生|生了|落地)[^,，。;；?？\d]{0,3}(\d{1,3})\s*(多)?\s*(天|日)")
_GAP = re.compile(r"(断|中断|停|停保|断缴|间隔|空)[^,，。;；]{0,4}?(\d{1,2})\s*个?多?月")
# Households: "家里5口人" / "五口之家" / "全家6口" / "一家三口" give the size; each clause then
# names some of them with an identity ("2个是一类低保", "爸妈建档立卡") or none ("俩娃啥也不是").
_HOUSEHOLD = re.compile(r"(?<![\d老])(\d{1,2})\s*口(?!子)(?:人|之家)?"
                        r"|(?:家里|全家|一家|俺家|我家|家庭|屋里头?|屋头|一家子)[^,，。;；?？]{0,4}?"
                        r"(?<!\d)(\d{1,2})\s*(?:个人|个|人)(?=[,，。;；:：?？!！]|$|都|全|一共)")
_SEGMENT = re.compile(r"[,，。;；:：?？!！]|另外|还有|(?<!参)加上?")
_SEG_COUNT = re.compile(r"(?<![\d年月.])(\d{1,2})\s*(?:个|位|名|口子|口|人)(?![\d月日号年])")
_FEW = re.compile(r"俩|仨")
_FEW_N = {"俩": 2, "仨": 3}
_PAIRS = {"爸妈", "父母", "爹娘", "两口子", "老两口", "夫妻", "公婆"}
_PERSON = re.compile("|".join(sorted(_PAIRS, key=len, reverse=True)) + r"|老婆|媳妇|老公|丈夫|妻子|奶奶|爷爷|"
                     r"姥姥|姥爷|外婆|外公|婆婆|公公|儿子|女儿|闺女|妹妹|弟弟|哥哥|姐姐|娃|孩子|老人|叔叔|婶婶|"
                     r"伯伯|大伯|舅舅|舅妈|姑姑|小姑|姨妈|嫂子|弟媳|侄子|侄女|孙子|孙女|外孙|老伴|儿媳|女婿|老汉|老头|老太太|"
                     r"爸|妈|爹|娘|本人|(?:我|俺)(?![\d家们爸妈爹娘老媳儿女闺妹弟哥姐奶爷姥外婆公娃孩两本二大小三孙侄])")
# An identity named in two parts of a message (the household's kind, then the person).
_COMPOUND = [("low_income_special", re.compile(
    r"低收入家庭[^。?？]{0,20}(重度残疾|重病|老人|老年人|未成年|娃|孩子|小孩|儿童|岁)"
    r"|(重度残疾|重病|老人|老年人|未成年|\d+岁|几岁|多岁)[^。?？]{0,20}低收入家庭"))]
_QUOTES = re.compile("[“”\"'‘’「」『』]")
_PEOPLE_BEFORE = re.compile(_PERSON.pattern.join(["(?:(?:", r")[和跟与及、]?)+$"]))
_PEOPLE_ONLY = re.compile(_PERSON.pattern.join(["^(?:", r"|[和跟与及、]|\d+个?人?|[俩仨两]人?)+$"]))
_BOTH_OF_THEM = re.compile(r"^(俺俩|我俩|我们俩|咱俩|他俩|他们俩|俩人|这俩|两人)")
_NEGATED = re.compile(r"(不在|没在|不是|没有|未纳入|没纳入|不属于)[^,，。;；]{0,2}$")
_MORE = ("还有", "另外", "加上", "加")  # separators that add people beside a total
_NO_IDENTITY = re.compile(r"没(?!了)|无|不是|普通|一般|啥也|啥都|什么都|都不")


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
    said_none: bool = False  # "啥身份都没有": never given the household's shared identity
    extra: bool = False  # "吃低保的三口人，还有个孙子是孤儿": counted beside the total, not in it


@dataclass
class Reading:
    """The facts of one message; ``None`` / empty = not said in this message."""

    text: str
    region: str | None = None  # canonical gazetteer name
    year: int | None = None
    year_is_label: bool = False  # "2022年度": a notice's own year label
    year_is_benefit: bool = False  # "2023年看病": the year benefits are used
    categories: list[str] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)  # without household: part of one said before
    household: int | None = None
    dates: list[DateFact] = field(default_factory=list)
    continuous_years: int | None = None
    amounts: list[str] = field(default_factory=list)
    gap_months: int | None = None  # "中间断了5个月": months between the old insurance and paying
    elapsed_days: int | None = None  # "生下来100多天了": days since the event (101)
    topics: list[str] = field(default_factory=list)  # from the word cues, most specific first
    flags: set[str] = field(default_factory=set)  # cue flags: previous_year, total, how_paid ...


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
    """Category mentions (id, start, end), longest alias first, spans not overlapping; quotes
    around a word (计生“两户”) are read through (replaced by spaces, offsets kept)."""
    text = _QUOTES.sub(" ", text)
    taken: list[tuple[int, int]] = []
    found: list[tuple[str, int, int]] = []
    for alias, cid in _category_aliases(kb):
        for m in re.finditer(r"\s?".join(map(re.escape, alias)), text):
            a, b = m.span()
            if any(a < e and b > s for s, e in taken):
                continue
            taken.append((a, b))
            found.append((cid, a, b))
    return sorted(found, key=lambda f: f[1])


_YEAR_NOT_ASKED = re.compile(r"^年?(起|以来|开始|入学|毕业|出生|生的|参军|退伍)")
_YEAR_OF_BENEFIT = re.compile(
    r"^年?[^,，。;；?？]{0,6}?(看病|报销|享受(?!资助|参保资助)|住院|就医|的待遇|能用|用的|管用)")
_RELATIVE = {"this_year": 0, "next_year": 1, "last_year": -1}


def _read_year(text: str, years: list[dict[str, Any]], today: date, r: Reading) -> None:
    """The year the question is about: a notice label ("2022年度") first, then a year said
    plainly, then 今年/明年; a year that only dates an event ("2018年起", "2021年入学") is not it.
    A year said of benefits ("2023年看病") is a benefit year."""
    best: tuple[int, int, bool, bool] | None = None  # (rank, year, label, benefit)
    for e in years:
        end = e.get("end") or 0
        after = text[end:end + 10]
        if _YEAR_NOT_ASKED.match(after):
            continue
        rel = _RELATIVE.get(str(e["value"]))
        try:
            year = today.year + rel if rel is not None else int(e["value"])
        except (TypeError, ValueError):
            continue
        label = after.startswith("年度")
        rank = 0 if label else (2 if rel is not None else 1)
        if best is None or rank < best[0]:
            best = (rank, year, label, bool(_YEAR_OF_BENEFIT.match(after)))
    if best is not None:
        _, r.year, r.year_is_label, r.year_is_benefit = best
        if best[0] == 2:
            r.flags.add("relative_year")


def _label_window_year(kb: KnowledgeBase, region: str, label_year: int | None,
                       raw_dates: list[dict[str, Any]]) -> int | None:
    """"6月10号补交了2021年度的": the calendar year in which that day falls inside a window of
    the notice labelled "2021年度" (贵州: 2021; 安康 "2022年度", 10月: 2021), else the label's year."""
    if label_year is None:
        return None
    notices = kb.notices_labelled(region, label_year)
    first = next((str(e["value"]) for e in raw_dates if str(e["value"]).startswith("--")), None)
    if first and notices:
        month, day = int(first[2:4]), int(first[5:7] or 1)
        for year in (label_year, label_year - 1, label_year + 1):
            try:
                on = date(year, month, day)
            except ValueError:
                continue
            if any(w.start <= on <= w.end for n in notices for w in n.windows):
                return year
    return label_year


def _date_role(text: str, start: int, end: int) -> str:
    after = text[end:end + 14]
    before = text[max(0, start - 8):start]
    if _DEADLINE_AFTER.match(after) or _DEADLINE_BEFORE.search(before):
        return "deadline"
    # 补缴/补交 in the clause make it a payment ("连同中断期间一起补缴了"); otherwise the role word
    # nearest the date decides ("1月10号交了出生当年的医保": a payment).
    if _ROLE_AFTER[0][1].match(after):
        return _ROLE_AFTER[0][0]
    hits = [(m.start(1), i, role) for i, (role, pattern) in enumerate(_ROLE_AFTER[1:])
            if (m := pattern.match(after))]
    if hits:
        return min(hits)[2]
    for role, pattern in _ROLE_BEFORE:
        if pattern.search(before):
            return role
    return "other"


def _complete_dates(raw: list[dict[str, Any]], year: int | None, today: date) -> list[tuple[str, dict]]:
    """Give ``--MM-DD`` / ``--MM`` dates the year of the nearest earlier date in the message, else
    the year said (or of the conversation); with none, the date is left out, not guessed."""
    out: list[tuple[str, dict]] = []
    last_year: int | None = None
    for e in raw:
        value = str(e["value"])
        if value == "today":
            value = today.isoformat()
        elif value.startswith("--"):
            y = last_year or year
            if y is None:
                continue  # "8月份" with no year in the message or the conversation: not guessed
            value = f"{y:04d}-{value[2:]}"
        last_year = int(value[:4])
        out.append((value, e))
    return out


def read(text: str, entities: list[dict[str, Any]], kb: KnowledgeBase, today: date,
         context_year: int | None = None) -> Reading:
    """The facts of one normalised message; ``entities`` are the NLU's quantity entities.
    ``context_year``: the year of the dates said earlier in the conversation ("10月8号交的"
    after "2021年9月5号出生的")."""
    r = Reading(text=text)
    topic_cues, flag_cues, not_places = _compiled_cues()

    masked = text
    for pattern in not_places:  # 市县财政, 省市 …: words, not places
        masked = pattern.sub(lambda m: "#" * len(m.group(0)), masked)
    places = kb.gazetteer.places_in(masked)
    # "香港人在安康住": of the places said, those with a notice come first.
    covered = [p for p in places if kb.covered_years(p.name)]
    region = kb.gazetteer.find_in(masked, covered or places)
    if region is not None:
        r.region = region.name

    _read_year(text, [e for e in entities if e.get("entity") == "year"], today, r)

    raw_dates = sorted((e for e in entities if e.get("entity") == "date"), key=lambda e: e["start"])
    year_for_dates = (r.year if not r.year_is_label else None) or context_year
    if year_for_dates is None and r.year_is_label and r.region:
        year_for_dates = _label_window_year(kb, r.region, r.year, raw_dates)
    for value, e in _complete_dates(raw_dates, year_for_dates, today):
        r.dates.append(DateFact(_date_role(text, e["start"], e["end"]), value, e["start"]))

    for e in entities:
        if e.get("entity") == "duration" and str(e.get("value", "")).endswith("Y"):
            ctx = text[max(0, e["start"] - 8):e["end"] + 2]
            if re.search(r"连续|交了|缴了|参保|累计|已经|一直|满", ctx):
                r.continuous_years = int(str(e["value"])[1:-1])
        if e.get("entity") == "amount":
            r.amounts.append(str(e["value"]))
    run = _YEAR_RUN.search(text)  # "2018、2019、2020、2021年都交了": four years without a break
    if run and r.continuous_years is None:
        years = [int(y) for y in re.findall(r"\d{4}", run.group(0))]
        if years == list(range(years[0], years[0] + len(years))):
            r.continuous_years = len(years)

    r.amounts += [str(Decimal(m.group(1)) * 10000) for m in _WAN.finditer(text)]
    gap = _GAP.search(text)
    if gap:
        r.gap_months = int(gap.group(2))
    elapsed = _ELAPSED.search(text)
    if elapsed:
        r.elapsed_days = int(elapsed.group(2)) + (1 if elapsed.group(3) else 0)

    mentions = _find_categories(text, kb)
    # "不在监测户里" / "没在监测范围" names an identity the resident does not have.
    mentions = [m for m in mentions if not _NEGATED.search(text[max(0, m[1] - 4):m[1]])]
    # "城市低保差额保障对象": the tier, not also the broader 低保.
    # "三类低保户，吃低保的三口人": the 低保 said later is that tier too.
    tiers: dict[str, set[str]] = {}
    for cid, _, _ in mentions:
        if kb.categories[cid].parent:
            tiers.setdefault(kb.categories[cid].parent, set()).add(cid)
    mentions = [(next(iter(tiers[cid])), a, b) if len(tiers.get(cid, ())) == 1 else (cid, a, b)
                for cid, a, b in mentions if len(tiers.get(cid, ())) < 2]
    for category, pattern in _COMPOUND:  # "我家是低收入家庭，我是重度残疾人"
        if pattern.search(text) and category in kb.categories and all(m[0] != category for m in mentions):
            mentions.append((category, len(text), len(text)))
    r.categories = list(dict.fromkeys(cid for cid, _, _ in mentions))
    _read_household(text, mentions, r)

    for topic, pattern in topic_cues:
        if pattern.search(text) and topic not in r.topics:
            r.topics.append(topic)
    for flag, pattern in flag_cues:
        if pattern.search(text):
            r.flags.add(flag)
    if "duplicate" in r.topics:
        r.flags.add("duplicate")  # a refund asked about a duplicate payment
    return r


def _segment_count(seg: str) -> int | None:
    """How many people a clause names: every 2个 / 俩 / 仨 with what it counts, plus the other
    person words (我跟2个娃 → 3, 我爸我妈 → 2, 俺两口子跟两个娃 → 4)."""
    n = 0
    counts = [*_SEG_COUNT.finditer(seg), *_FEW.finditer(seg)]
    rest = list(seg)
    for m in sorted(counts, key=lambda m: m.start()):
        number = int(m.group(1)) if m.re is _SEG_COUNT else _FEW_N[m.group(0)]
        counted = _PERSON.match(seg, m.end())  # 2个娃: 娃 is what was counted
        named = None if counted else _PEOPLE_BEFORE.search(seg[:m.start()])
        if named:  # "俺跟媳妇两个" / "儿子儿媳孙子三个": the people just named, counted
            for i in range(named.start(), named.end()):
                rest[i] = ","
        n += number
        start = m.start() - 1 if seg[:m.start()].endswith(("我", "俺")) else m.start()  # 俺两口子
        for i in range(start, counted.end() if counted else m.end()):
            rest[i] = ","
    if counts:  # "1个是嫁过来的媳妇": after a count, 是… describes who was counted
        described = seg.find("是", max(m.end() for m in counts))
        rest = rest[:described] if described >= 0 else rest
    n += sum(2 if w in _PAIRS else 1 for w in _PERSON.findall("".join(rest)))
    return n or None


def _clauses(text: str) -> list[tuple[int, str]]:
    """The clauses of a message with their offsets (split at punctuation and 另外/还有/加上)."""
    out, pos = [], 0
    for sep in _SEGMENT.finditer(text):
        out.append((pos, text[pos:sep.start()]))
        pos = sep.end()
    out.append((pos, text[pos:]))
    return out


def _read_household(text: str, mentions: list[tuple[str, int, int]], r: Reading) -> None:
    """家里5口人，2个是一类低保，另外3个没身份 → household 5, groups [一类低保×2, none×3]."""
    total_m = _HOUSEHOLD.search(text)
    if total_m:
        r.household = int(next(g for g in total_m.groups() if g))
    masked = list(text)  # identity words (低收入家庭的老人) are not people to count
    for _, a, b in mentions:
        masked[a:b] = "#" * (b - a)
    shared: list[str] = []
    total_named = False  # "吃低保的三口人": the total clause says what all of them are
    pending = 0  # "我和媳妇，还有两个娃都是普通居民": people named before what they are
    for start, seg in _clauses("".join(masked)):
        cats = [cid for cid, a, _ in mentions if start <= a < start + len(seg)]
        is_total = total_m is not None and start <= total_m.start() < start + len(seg)
        n = r.household if is_total else _segment_count(seg)
        said_none = not is_total and bool(n) and bool(_NO_IDENTITY.search(seg))
        if pending and (cats or said_none) and not is_total and "都" not in seg:
            r.groups.append(Group([], pending))  # "我跟老伴俩人，另外我妈是特困": two groups
            pending = 0
        if cats and n and not is_total:
            extra = total_named and text[:start].endswith(_MORE)
            r.groups.append(Group(list(dict.fromkeys(cats)), n + pending, extra=extra))
            pending = 0
        elif cats:  # "低保家庭，一家四口" / "一家五口都是建档立卡户": the whole household's identity
            shared += cats
            total_named = total_named or is_total
        elif said_none:
            r.groups.append(Group([], n + pending, said_none=True))
            pending = 0
        elif not is_total and n and _PEOPLE_ONLY.match(seg.strip()):
            pending += n
        if _BOTH_OF_THEM.match(seg.strip()):
            pending = 0  # "俺俩是已脱贫户": the two just named, not two more
    if pending and shared:  # "低保户，我跟老伴俩人": the people named share the household's identity
        r.groups.append(Group([], pending))
    counted = sum(g.count for g in r.groups if not g.extra)
    if r.household and counted < r.household:
        r.groups.append(Group([], r.household - counted))
    if r.household:
        r.household += sum(g.count for g in r.groups if g.extra)
    counted = sum(g.count for g in r.groups)
    for group in r.groups:  # 其中奶奶还是三类低保: she is a 脱贫 member too, like the others
        if not group.said_none and not group.extra:
            group.categories = list(dict.fromkeys([*group.categories, *shared]))
    if not r.household and (len(r.groups) > 1 or counted > 1):
        r.household = counted
