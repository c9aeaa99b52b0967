"""One situation, one figure: every topic that states what a resident pays on a given day, or
from when that payment covers them, states the same value (issue: fee, late_payment, deadline
and benefit_period used to evaluate the same person separately and disagree)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from actions.rules import Question, answer_question
from knowledge.loader import default_knowledge

KB = default_knowledge()
PLACES = ["兰州", "会宁", "靖远", "白银", "贵阳", "凯里", "安康", "汉滨区", "天祝"]
CATEGORIES = sorted(KB.categories)
# What each topic calls the amount paid on the day and the first covered day.
PAID = {"fee": "pay_now", "late_payment": "amount_due", "deadline": "late_amount_due",
        "benefit_period": "late_amount_due"}
START = {"late_payment": "benefit_start", "deadline": "late_benefit_start",
         "benefit_period": "late_benefit_start", "fee": "benefit_start"}


def _figures(region: str, day: date, categories: list[str], key_by_topic: dict[str, str]) -> dict:
    out = {}
    for topic, key in key_by_topic.items():
        answer = answer_question(Question(topic=topic, region=region, payment_date=day,
                                          categories=categories, today=day), KB)
        figure = answer.figure(key)
        if answer.status == "ok" and figure is not None:
            out[topic] = figure.value
    return out


@settings(max_examples=250, deadline=None, derandomize=True)
@given(region=st.sampled_from(PLACES),
       day=st.dates(min_value=date(2020, 11, 1), max_value=date(2022, 12, 31)),
       categories=st.lists(st.sampled_from(CATEGORIES), max_size=2, unique=True))
def test_every_topic_states_the_same_amount_and_start(region: str, day: date,
                                                      categories: list[str]) -> None:
    paid = _figures(region, day, categories, PAID)
    assert len(set(paid.values())) <= 1, f"{region} {day} {categories}: {paid}"
    starts = _figures(region, day, categories, START)
    assert len(set(starts.values())) <= 1, f"{region} {day} {categories}: {starts}"


def test_the_property_compares_something() -> None:
    """Guard: on a late payment day in 贵州 at least three topics state both figures."""
    day = date(2021, 4, 1) + timedelta(days=14)
    assert len(_figures("贵阳", day, [], PAID)) >= 3
    assert len(_figures("贵阳", day, [], START)) >= 3
