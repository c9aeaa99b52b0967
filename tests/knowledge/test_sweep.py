"""Every topic for every place and covered year answers without error, and cites what it states."""

from __future__ import annotations

from datetime import date
from typing import get_args

import pytest

from actions.rules import Question, answer_question
from actions.rules.contract import Topic

TOPICS = get_args(Topic)


@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_everywhere(kb, topic):
    for name in kb.gazetteer.names():
        for year in kb.covered_years(name) or [2022]:
            for extra in ({}, {"payment_date": date(year, 3, 15), "birth_date": date(year, 1, 20),
                               "stop_date": date(year, 1, 10), "continuous_years": 3,
                               "categories": ["dibao", "tuopin"], "reason": "duplicate",
                               "change_date": date(year, 2, 1), "compare_to_year": year + 1}):
                a = answer_question(Question(topic=topic, region=name, benefit_year=year,
                                             today=date(year, 6, 1), **extra), kb)
                assert a.summary
                if a.status == "ok" and a.figures:
                    assert a.citations, f"{topic} {name} {year}: figures without citations"
                if a.status == "not_covered":
                    assert a.covered and not a.figures


def test_staff_plan_shows_the_township_group(kb):
    a = answer_question(Question(topic="plan", region="百草塬镇", benefit_year=2022), kb)
    assert a.figure("target").value == 20746
    assert any("第三组" in s for s in a.steps)
