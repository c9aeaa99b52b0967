"""What the conversation adds around rule-layer answers: questions back, apologies, household
totals, a hospital stay's verdict. The wording lives in the text catalog (catalog.yaml, section
"conversation"); these functions choose the key and the values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from actions.render.catalog import text
from actions.rules import Answer
from actions.rules.contract import say
from knowledge import dates
from knowledge.loader import KnowledgeBase


def not_stated_topic(place: str) -> str:
    """Reimbursement ratios and lines: not in the enrolment notices the assistant holds."""
    return text("conv.reimbursement", place=place)


def ask_identity(category_name: str) -> str:
    """A word near a subsidised identity: ask rather than widen it (重度残疾人 ≠ 低收入家庭中的…)."""
    return text("conv.ask_identity", name=category_name)


def also_benefit_year(year: int, other: Answer) -> Any:
    """The other reading of a plainly said year: the year benefits are used (a note)."""
    return say("conv.also_benefit_year", year=year, label=other.year_label or "", answer=other.headline)


def latest_year_intro(region: str | None, year: int, is_label: bool, latest: Answer) -> Any:
    """No notice for the year asked: the latest covered year's answer follows (a note)."""
    return say("conv.latest_year", place=region or "", said=say("conv.said_label" if is_label else
                                                             "conv.said_year", year=year),
               year=latest.benefit_year, label=latest.year_label or "")


def household_lines(per_group: list[tuple[dict[str, Any], Answer, Decimal]],
                    kb: KnowledgeBase, pay_first: bool) -> list[str]:
    """家里5口人 → one line per group of people and the household total."""
    lines, total, first, people = [], Decimal(0), Decimal(0), 0
    for group, answer, net in per_group:
        n = int(group["count"])
        who = [kb.categories[c].name for c in group["categories"] if c in kb.categories]
        lines.append(say("conv.household_group", who=who or [say("conv.no_identity")], count=n,
                         each=net, sum=net * n))
        pay_now = answer.figure("pay_now")
        total += net * n
        first += (Decimal(pay_now.value) if pay_now else net) * n
        people += n
    out = text("conv.household", people=people, total=total, lines=lines)
    if pay_first and first != total:
        out += text("conv.household_pay_first", first=first, back=first - total)
    return [out]


def top_up_line(old_name: str, old: Decimal, new_name: str, new: Decimal) -> str:
    """Subsidy after an identity change, against the one already received."""
    return text("conv.top_up" if new > old else "conv.no_top_up", old_name=old_name, old=old,
                new_name=new_name, new=new, diff=new - old)


def admission_verdict(admitted: str, start: date | Any, end: date | None) -> str:
    """Whether a hospital stay on ``admitted`` (a day or a month) falls in the covered period."""
    bounds = dates.span_of(admitted)
    if bounds is None or not isinstance(start, date):
        return ""
    first, last = bounds
    when = say("conv.on_day", day=first) if first == last else say("conv.in_month", year=first.year,
                                                                   month=first.month)
    if last < start:
        return text("conv.stay_before_start", when=when, start=start)
    if end is not None and first > end:
        return text("conv.stay_after_end", when=when, end=end)
    if first >= start:
        return text("conv.stay_covered", when=when, start=start)
    return text("conv.stay_partly", when=when, start=start)
