"""Resolve a question's region and benefit year, and build cited answers.

Every rule function starts from a :class:`Ctx`: the resolved region, the benefit year and the
notices that govern them (nearest region first). Resolution never guesses: an unknown place or
an uncovered year gives a ``not_covered`` answer that lists what is covered; a missing year that
the dates cannot settle gives ``needs_input``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from actions.rules.contract import Answer, Citation, Figure, Question, Status, Text, say
from knowledge.dates import system_clock
from knowledge.loader import Found, KnowledgeBase
from knowledge.regions import Region
from knowledge.schema import Cite, Notice, Threshold

T = TypeVar("T")
def span_words(t: Threshold) -> Text:
    """90日 / 3个月 / 1年: a threshold's length in words."""
    amount, unit = (t.days, "days") if t.days else ((t.months, "months") if t.months else (t.years, "years"))
    return say("amount_unit", amount=amount, unit=say(f"unit.{unit}"))


def citation(notice: Notice, cite: Cite) -> Citation:
    return Citation(notice_id=notice.id, doc_no=notice.doc_no, issuer="、".join(notice.issuers),
                    section=cite.section, quote=cite.quote)


@dataclass
class Ctx:
    kb: KnowledgeBase
    q: Question
    region: Region
    year: int
    notices: list[Notice]
    today: date
    caveats: list[Text] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)

    def find(self, get: Callable[[Notice], T | None]) -> Found[T] | None:
        return self.kb.lookup(self.region.name, self.year, get)

    def cite(self, notice: Notice, cite: Cite) -> None:
        c = citation(notice, cite)
        if c not in self.citations:
            self.citations.append(c)

    @property
    def year_label(self) -> str:
        return self.notices[0].year_label

    @property
    def where(self) -> Text:
        """The answer's heading: place, benefit year and the notice's own year label."""
        return say("where", region=self.region.name, year=self.year, label=self.year_label)

    def answer(self, status: Status, summary: Text, *, figures: list[Figure] | None = None,
               steps: list[Text] | None = None, caveats: list[Text] | None = None,
               missing: list[str] | None = None) -> Answer:
        return Answer(topic=self.q.topic, status=status, region=self.region.name,
                      benefit_year=self.year, year_label=self.year_label, headline=summary,
                      figures=figures or [], details=steps or [], citations=list(self.citations),
                      notes=[*(caveats or []), *self.caveats, *self._whose_notice()],
                      missing=missing or [])

    def _whose_notice(self) -> list[Text]:
        """A place without a notice of its own is answered from its city's or province's:
        say whose (天祝县 → 甘肃省's 甘医保发〔2021〕55号)."""
        notice = self.notices[0]
        if notice.region == self.region.name or self.region.level >= 3:  # 乡镇: its county's, plainly
            return []
        return [say("notice_of", place=self.region.name, year=self.year, region=notice.region,
                    doc_no=notice.doc_no)]


def _uncovered(q: Question, kb: KnowledgeBase, summary: Text, region: str | None = None,
               year: int | None = None) -> Answer:
    return Answer(topic=q.topic, status="not_covered", region=region, benefit_year=year,
                  headline=say("not_covered", what=summary), covered=kb.coverage())


def _year_of_payment(kb: KnowledgeBase, region: str, day: date) -> int | None:
    """The benefit year an event on ``day`` (a payment, an identity change, a birth) belongs
    to, by the notices' own windows.

    A day inside a notice's payment window is for that notice's benefit year; a day after the
    window but inside the benefit period (a late payment) is for that year.
    """
    years = kb.covered_years(region)
    for year in years:
        if any(w.start <= day <= w.end for n in kb.notices_for(region, year) for w in n.windows):
            return year
    for year in years:
        found = kb.lookup(region, year, lambda n: n.benefit_period)
        if found and found.value.start <= day <= found.value.end:
            return year
    return None


def _year_from_dates(kb: KnowledgeBase, region: str, q: Question) -> int | None:
    """A scenario's benefit year follows its event when the question gives no year."""
    days = (q.birth_date, q.payment_date, q.change_date) if q.topic == "newborn" else (
        q.payment_date, q.change_date, q.birth_date)  # 出生当年: a newborn's year is its birth's
    for day in days:
        year = _year_of_payment(kb, region, day) if day is not None else None
        if year is not None:
            return year
    for day in days:
        if day is not None:
            return day.year
    return None


def _year_of_nearest(kb: KnowledgeBase, region: str) -> int | None:
    """With no year said or implied: the latest benefit year of the most specific notice for
    the place (会宁 → 会宁县's own notice before 白银市's), so the nearest rules answer."""
    for place in kb.gazetteer.chain(region):
        years = [y for n in kb.notices.values() if n.region == place.name for y in n.benefit_years]
        if years:
            return max(years)
    return None


def _year_from_today(kb: KnowledgeBase, region: str, today: date) -> int | None:
    """The benefit year whose payment window or benefit period contains today, if any."""
    for year in kb.covered_years(region):
        for notice in kb.notices_for(region, year):
            if any(w.start <= today <= w.end for w in notice.windows):
                return year
    for year in kb.covered_years(region):
        found = kb.lookup(region, year, lambda n: n.benefit_period)
        if found and found.value.start <= today <= found.value.end:
            return year
    return None


def _label_caveats(kb: KnowledgeBase, region: str, year: int) -> list[Text]:
    """Warn when a notice of this place calls another benefit year by the same year number."""
    out = []
    for place in kb.gazetteer.chain(region):
        for n in kb.notices.values():
            if n.region == place.name and n.year_label.startswith(str(year)) \
                    and year not in n.benefit_years:
                out.append(say("label_means", doc_no=n.doc_no, label=n.year_label,
                               years=[str(y) for y in n.benefit_years]))
    return out


def resolve(q: Question, kb: KnowledgeBase, clock: Callable[[], date] = system_clock
            ) -> Ctx | Answer:
    """A :class:`Ctx` for the question, or the answer that says why there is none."""
    today = q.today or clock()
    region = kb.gazetteer.resolve(q.region) or kb.gazetteer.find_in(q.region)
    if region is None:
        return _uncovered(q, kb, say("unknown_place", place=q.region))
    years = kb.covered_years(region.name)
    if not years:
        return _uncovered(q, kb, say("place_without_notice", place=region.name), region.name)
    if q.said_label and q.said_year and q.benefit_year is None:
        labelled = kb.notices_labelled(region.name, q.said_year)
        if labelled:  # "2022年度" is the notice's own label: its benefit year
            n = labelled[0]
            by = n.benefit_years[0]
            ctx = Ctx(kb, q, region, by, kb.notices_for(region.name, by), today)
            if by != q.said_year:
                ctx.caveats.append(say("label_is", doc_no=n.doc_no, label=n.year_label, year=by))
            return ctx
    year = q.benefit_year or q.said_year or _year_from_dates(kb, region.name, q) \
        or _year_from_today(kb, region.name, today)
    chosen = year is None and len(years) > 1
    if year is None:
        year = _year_of_nearest(kb, region.name)
    if year is None:
        return Answer(topic=q.topic, status="needs_input", region=region.name,
                      headline=say("ask_year", place=region.name, years=[str(y) for y in years]),
                      missing=["benefit_year"], covered=kb.coverage())
    notices = kb.notices_for(region.name, year)
    if not notices:
        labelled = kb.notices_labelled(region.name, year)
        if labelled and q.benefit_year is None:
            # "2021年" said of a notice whose 2021年度 pays for another benefit year.
            n = labelled[0]
            ctx = Ctx(kb, q, region, n.benefit_years[0], kb.notices_for(region.name,
                      n.benefit_years[0]), today)
            ctx.caveats.append(say("said_year_as_label", said=year, doc_no=n.doc_no,
                                   label=n.year_label, year=n.benefit_years[0]))
            return ctx
        return _uncovered(q, kb, say("year_not_covered", place=region.name, year=year,
                                     years=[str(y) for y in years]), region.name, year)
    ctx = Ctx(kb, q, region, year, notices, today)
    if chosen:
        ctx.caveats.append(say("year_chosen", place=region.name, doc_no=notices[0].doc_no,
                               label=notices[0].year_label, year=year))
    if q.benefit_year is None and q.said_year == year:
        ctx.caveats.extend(_label_caveats(kb, region.name, year))
    return ctx
