"""Region names in any form resolve along county → city → province; others are not covered."""

from __future__ import annotations

import pytest

from actions.rules import Question, answer_question


@pytest.mark.parametrize(("text", "chain"), [
    ("会宁", ["会宁县", "白银市", "甘肃省"]),
    ("会宁县", ["会宁县", "白银市", "甘肃省"]),
    ("刘家寨镇", ["刘家寨子镇", "会宁县", "白银市", "甘肃省"]),
    ("百草塬镇", ["白草塬镇", "会宁县", "白银市", "甘肃省"]),
    ("甘沟镇", ["甘沟驿镇", "会宁县", "白银市", "甘肃省"]),
    ("白银", ["白银市", "甘肃省"]),
    ("白银区", ["白银区", "白银市", "甘肃省"]),
    ("汉滨区", ["汉滨区", "安康市", "陕西省"]),
    ("旬阳县", ["旬阳市", "安康市", "陕西省"]),
    ("瀛湖", ["瀛湖生态旅游区", "安康市", "陕西省"]),
    ("贵安新区", ["贵安新区", "贵州省"]),
    ("黔东南", ["黔东南苗族侗族自治州", "贵州省"]),
    ("甘南州", ["甘南藏族自治州", "甘肃省"]),
    (" 会 宁 ", ["会宁县", "白银市", "甘肃省"]),
])
def test_short_forms_resolve_to_the_chain(kb, text, chain):
    region = kb.gazetteer.resolve(text)
    assert region is not None
    assert [r.name for r in kb.gazetteer.chain(region.name)] == chain


def test_gazetteer_sizes(kb):
    gaz = kb.gazetteer
    assert len(gaz.children("甘肃省")) == 14
    assert len(gaz.children("白银市")) == 5
    assert len(gaz.children("会宁县")) == 28
    assert len(gaz.children("安康市")) == 13
    assert len(gaz.children("贵州省")) == 10


def test_find_in_free_text_prefers_the_longest_name(kb):
    assert kb.gazetteer.find_in("我在白银区上班").name == "白银区"
    assert kb.gazetteer.find_in("我是会宁人").name == "会宁县"
    assert kb.gazetteer.find_in("天气不错") is None


@pytest.mark.parametrize("place", ["西安", "北京市", "陕西省", "火星"])
def test_uncovered_places_say_what_is_covered(kb, place):
    answer = answer_question(Question(topic="fee", region=place, benefit_year=2022), kb)
    assert answer.status == "not_covered"
    assert "12393" in answer.summary
    assert len(answer.covered) == len(kb.notices)
    assert not answer.figures


def test_no_silent_fallback_to_another_year(kb):
    answer = answer_question(Question(topic="fee", region="贵阳", benefit_year=2022), kb)
    assert answer.status == "not_covered" and not answer.figures
    assert "2021年" in answer.summary


def test_a_year_not_said_is_the_nearest_notices_and_the_answer_says_which(kb):
    from datetime import date
    today = date(2026, 11, 22)
    # 贵阳: one notice covers it (贵州 2021年度), so nothing needs asking.
    answer = answer_question(Question(topic="fee", region="贵阳", today=today), kb)
    assert answer.status == "ok" and answer.benefit_year == 2021
    # 会宁: its own notice (会政办发〔2021〕68号, 2022 benefits) before 白银's (2023 benefits),
    # and the caveat names the notice used.
    answer = answer_question(Question(topic="fee", region="会宁", today=today), kb)
    assert answer.status == "ok" and answer.benefit_year == 2022
    assert any("会政办发〔2021〕68号" in c and "没有说年度" in c for c in answer.caveats)
    # 靖远: 白银's notice is the nearest.
    answer = answer_question(Question(topic="fee", region="靖远", today=today), kb)
    assert answer.benefit_year == 2023
