"""From the conversation's slots to a rule-layer :class:`Question` (pure, no Rasa imports).

The bot never guesses: a missing region is reported as missing so that the action asks for it;
a missing year is left to the rule layer, which takes it from the question's dates or asks.
The year a resident says is passed as ``said_year`` (a benefit year if one is covered, else a
notice's own year label, with a caveat). Relative years (今年/明年/去年) and dates without a
year are resolved against ``today`` only where that is unambiguous.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from actions.rules.contract import Question, Topic

# Intent → rule-layer topic. Intents not listed here are not questions for the rule layer.
INTENT_TOPIC: dict[str, Topic] = {
    "ask_fee": "fee",
    "ask_deadline": "deadline",
    "ask_benefit_period": "benefit_period",
    "ask_late_payment": "late_payment",
    "ask_newborn": "newborn",
    "ask_student": "student",
    "ask_veteran": "veteran",
    "ask_employee_to_resident": "employee_to_resident",
    "ask_resident_to_employee": "resident_to_employee",
    "ask_cross_region": "cross_region",
    "ask_refund": "refund",
    "ask_duplicate": "duplicate",
    "ask_scope": "scope",
    "ask_registration": "registration",
    "ask_payment_channels": "payment_channels",
    "ask_contribution_years": "contribution_years",
    "ask_fiscal_subsidy": "fiscal_subsidy",
    "ask_identity_change": "identity_change",
}

# What each topic is called in a resident-facing sentence.
TOPIC_LABEL: dict[str, str] = {
    "fee": "缴费标准和资助", "deadline": "缴费时间", "benefit_period": "待遇享受期",
    "late_payment": "逾期缴费", "newborn": "新生儿参保", "student": "学生参保",
    "veteran": "退役军人参保", "employee_to_resident": "职工医保转居民医保",
    "resident_to_employee": "居民医保转职工医保", "cross_region": "跨统筹区转移接续",
    "refund": "退费", "duplicate": "重复参保", "scope": "参保范围", "registration": "参保登记",
    "payment_channels": "缴费渠道", "contribution_years": "连续缴费激励",
    "fiscal_subsidy": "财政补助标准", "identity_change": "身份变更后的资助",
    "low_income": "农村低收入人口参保", "compare_years": "年度对比", "plan": "参保计划",
}

# Slots that belong to one question (slot → entity) and are dropped when a new question does
# not repeat them. Birth and stop dates are facts about the person and are kept.
PER_QUESTION_SLOTS = {"category": "category", "payment_date": "date", "duration": "duration"}

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DURATION = re.compile(r"^P(\d+)([DWMY])$")


def resolve_year(value: Any, today: date) -> int | None:
    """``"2022"`` → 2022; ``this_year``/``next_year``/``last_year`` relative to ``today``."""
    if value is None:
        return None
    rel = {"this_year": 0, "next_year": 1, "last_year": -1}
    if str(value) in rel:
        return today.year + rel[str(value)]
    try:
        year = int(str(value))
    except ValueError:
        return None
    return year if 2000 <= year <= 2100 else None


def parse_date(value: Any) -> date | None:
    """Only full ISO dates; ``--03-05`` (no year) is not guessed and gives None."""
    if not value:
        return None
    m = _ISO.match(str(value))
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def duration_years(value: Any) -> int | None:
    m = _DURATION.match(str(value or ""))
    return int(m.group(1)) if m and m.group(2) == "Y" else None


@dataclass
class Draft:
    """A question being assembled; ``missing`` lists what the bot must ask for first."""

    topic: Topic
    region: str | None
    said_year: int | None
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def missing(self) -> list[str]:
        return [] if self.region else ["region"]

    def question(self, today: date) -> Question:
        return Question(topic=self.topic, region=self.region or "", today=today,
                        said_year=self.said_year, **self.fields)


def draft_from_slots(topic: Topic, slots: dict[str, Any], today: date) -> Draft:
    categories = slots.get("category") or []
    if isinstance(categories, str):
        categories = [categories]
    fields: dict[str, Any] = {"categories": list(dict.fromkeys(categories))}
    for slot in ("birth_date", "stop_date", "payment_date"):
        parsed = parse_date(slots.get(slot))
        if parsed:
            fields[slot] = parsed
    years = duration_years(slots.get("duration"))
    if years is not None:
        fields["continuous_years"] = years
    # The slot keeps its domain name, but it holds the year as said, not a benefit year.
    return Draft(topic=topic, region=slots.get("region") or None,
                 said_year=resolve_year(slots.get("benefit_year"), today), fields=fields)
