"""Readings of the notices that are about wording or places rather than one figure."""

from __future__ import annotations

from datetime import date

from actions.impact import sweep
from actions.rules import Question, answer_question
from knowledge.loader import default_knowledge

KB = default_knowledge()


def test_both_prefectures_of_gansu_are_in_the_first_tier() -> None:
    # 附表2 第一档 "两州一县": the province's two 州 (临夏、甘南) and 天祝县.
    for place in ("临夏州", "甘南州", "夏河县", "天祝县"):
        answer = answer_question(Question(topic="fiscal_subsidy", region=place, benefit_year=2022), KB)
        assert answer.figure("tier").value == "第一档", place


def test_no_answer_gives_a_floor_of_nothing() -> None:
    """"资助不低于0元" is no sentence: a lost subsidy is stated as 0, not as a floor."""
    summaries = sweep(KB)
    late = answer_question(Question(topic="fee", region="汉滨区", categories=["dibao"],
                                    payment_date=date(2022, 3, 1)), KB)
    assert all("不低于0元" not in s for s in [*summaries.values(), late.summary])


def test_a_county_without_its_own_notice_says_whose_it_follows() -> None:
    answer = answer_question(Question(topic="fee", region="临洮"), KB)
    assert answer.status == "ok" and answer.region == "临洮县"
    assert any("临洮县" in c and "甘肃省" in c and "甘医保发〔2021〕55号" in c for c in answer.caveats)
    own = answer_question(Question(topic="fee", region="会宁", benefit_year=2022), KB)
    assert not any("没有" in c and "单独" in c for c in own.caveats)  # 会宁 has its own notice


def test_a_birth_late_in_the_year_can_choose_the_next_year() -> None:
    # 安医保发〔2021〕86号 五（二）2（2）: "如享受出生次年医保待遇，须在出生后90天内缴纳出生次年
    # 医疗保险费，待遇享受期为次年1月1日至12月31日". 90 days from 2022-11-20 end on 2023-02-18.
    late = answer_question(Question(topic="newborn", region="安康", benefit_year=2022,
                                    birth_date=date(2022, 11, 20)), KB)
    assert any("2023年2月18日" in s and "2023年1月1日至2023年12月31日" in s for s in late.steps)
    early = answer_question(Question(topic="newborn", region="安康", benefit_year=2022,
                                     birth_date=date(2022, 3, 1)), KB)
    assert not any("也可在" in s for s in early.steps)  # 90 days end inside the birth year
