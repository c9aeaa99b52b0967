"""The rasa-sdk actions: exact events and messages, against the real rule layer.

Messages go through the bot's normaliser and quantity extractor (tests/actions/conftest.py);
expected figures come from the rule layer's answer to the question the message states.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from rasa_sdk.events import ConversationPaused, SlotSet

from actions import bot_actions, conversation
from actions.bot_actions import ActionAnswer, ActionCitation, ActionHandoff, ActionHelp
from actions.handoff_store import list_handoffs
from actions.render import SMS_LIMIT, WECHAT_LIMIT
from actions.render.format import fmt_value
from actions.rules import answer_question
from actions.rules.contract import Question
from actions.texts import text

from .conftest import converse

TODAY = date(2026, 11, 22)


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot_actions, "today", lambda: TODAY)


def _expected(**q) -> object:
    return answer_question(Question(today=TODAY, **q))


def _slot(events: list, name: str) -> object:
    return next((e["value"] for e in events if e.get("event") == "slot" and e["name"] == name),
                "<unset>")


def test_fee_answer_carries_the_rule_layer_figure_year_and_citation(tracker, run) -> None:
    messages, events = run(ActionAnswer(), tracker("ask_fee", "会宁2021年度居民医保交多少钱"))
    expected = _expected(topic="fee", region="会宁", said_year=2021, said_label=True)
    assert expected.status == "ok" and expected.benefit_year == 2022
    text = messages[0]["text"]
    assert text.startswith(expected.summary)
    assert fmt_value(expected.figure("standard")) in text
    assert expected.citations[0].doc_no in text
    situation = _slot(events, "situation")
    assert situation["topic"] == "fee" and situation["region"] == "会宁县"
    assert situation["year"] == 2021 and situation["year_is_label"] is True
    assert _slot(events, "last_citations")[0]["doc_no"] == expected.citations[0].doc_no
    custom = messages[0]["custom"]
    assert custom["topic"] == "fee" and custom["benefit_year"] == 2022
    assert {b["payload"] for b in messages[0]["buttons"]} == {"/ask_citation", "/handoff"}


def test_missing_region_is_asked_and_a_short_reply_completes_the_question() -> None:
    first = converse([("ask_deadline", "交费截止到哪天？")])
    assert first[0]["text"] == text("conv.ask_region")
    messages = converse([("ask_deadline", "交费截止到哪天？"), ("inform", "甘肃，2021年度的")])
    expected = _expected(topic="deadline", region="甘肃", said_year=2021, said_label=True)
    assert messages[0]["text"].startswith(expected.summary)


def test_a_region_with_one_covered_year_is_answered_without_asking(tracker, run) -> None:
    messages, events = run(ActionAnswer(), tracker("ask_fee", "贵州居民医保一个人交多少"))
    expected = _expected(topic="fee", region="贵州")
    assert expected.status == "ok" and expected.benefit_year == 2021
    assert messages[0]["text"].startswith(expected.summary)
    assert _slot(events, "situation")["awaiting"] is None


def test_a_follow_up_keeps_place_and_year_and_adds_the_identity() -> None:
    messages = converse([("ask_fee", "会宁2021年度居民医保交多少钱"), ("inform", "那脱贫户呢")])
    expected = _expected(topic="fee", region="会宁", said_year=2021, said_label=True,
                         categories=["tuopin"])
    assert expected.figure("net_amount") is not None
    assert messages[0]["text"].startswith(expected.summary)


def test_a_new_topic_drops_the_identity_of_the_previous_question() -> None:
    messages = converse([("ask_fee", "会宁2021年度脱贫户交多少钱"),
                         ("ask_deadline", "缴费截止到哪天")])
    situation_free = _expected(topic="deadline", region="会宁", said_year=2021, said_label=True)
    assert messages[0]["text"].startswith(situation_free.summary)


def test_a_word_cue_beats_a_wrong_intent(tracker, run) -> None:
    t = tracker("ask_employee_to_resident", "贵州，娃2021年2月1日出生，2021年4月20日交的医保，从哪天能报")
    messages, events = run(ActionAnswer(), t)
    expected = _expected(topic="newborn", region="贵州", birth_date=date(2021, 2, 1),
                         payment_date=date(2021, 4, 20))
    assert expected.figure("benefit_start").value == date(2021, 2, 1)
    assert messages[0]["text"].startswith(expected.summary)
    assert _slot(events, "situation")["dates"] == {"birth": "2021-02-01", "payment": "2021-04-20"}


def test_a_household_gets_per_person_lines_and_a_total(tracker, run) -> None:
    messages, _ = run(ActionAnswer(), tracker("ask_fee", "平川区的，家里3口人，2022年度一共交多少"))
    standard = _expected(topic="fee", region="平川区", said_year=2022, said_label=True)
    total = standard.figure("net_amount").value * 3
    assert f"合计个人实际负担{fmt_value(standard.figure('net_amount').model_copy(update={'value': Decimal(total)}))}" \
        in messages[0]["text"]


def test_a_household_total_stays_a_fee_question_when_a_member_is_a_student(tracker, run) -> None:
    text = "靖远县的，家里3口人都是普通居民，大女儿在外地上大学在学校交，2022年度一共交多少"
    messages, events = run(ActionAnswer(), tracker("ask_student", text))
    standard = _expected(topic="fee", region="靖远县", said_year=2022, said_label=True)
    assert _slot(events, "situation")["topic"] == "fee"
    total = standard.figure("net_amount").value * 3
    assert f"全家3人合计个人实际负担{int(total)}元" in messages[0]["text"]


@pytest.mark.parametrize("said,lines", [
    # 市医保发〔2022〕47号 三: "非资助对象参保缴费后，新增认定为资助对象的，应及时给予参保资助"
    ("靖远县，2022年10月按普通居民交了350，11月被认定为特困人员，还给资助吗",
     ["新认定为特困人员的，应及时给予参保资助：资助350元，按该身份个人实际负担0元。"]),
    # "资助标准提高的，按照新资助标准补差": 脱贫人口 100元 → 特困人员 350元
    ("靖远县，原来是已脱贫人口，后来又被认定为特困人员，2022年度补多少",
     ["按新身份补差：特困人员资助350元，原脱贫人口资助100元，应补差250元。",
      "按特困人员身份，个人实际负担0元。"]),
])
def test_an_identity_change_gives_the_new_subsidy(tracker, run, said: str, lines: list) -> None:
    messages, _ = run(ActionAnswer(), tracker("ask_identity_change", said))
    for line in lines:
        assert line in messages[0]["text"]


def test_a_year_no_notice_covers_is_said_then_the_latest_year_is_given(tracker, run) -> None:
    messages, _ = run(ActionAnswer(), tracker("ask_fee", "甘肃2026年度个人缴费标准是多少"))
    latest = _expected(topic="fee", region="甘肃", benefit_year=2022)
    text = messages[0]["text"]
    assert "暂未收录甘肃省2026年度" in text
    assert text.startswith(latest.summary)


def test_a_hospital_stay_before_the_benefit_start_is_not_covered(tracker, run) -> None:
    t = tracker("ask_late_payment", "贵州的，2021年4月15号补交的2021年度医保，5月1号住院能报不")
    messages, _ = run(ActionAnswer(), t)
    expected = _expected(topic="late_payment", region="贵州", said_year=2021, said_label=True,
                         payment_date=date(2021, 4, 15))
    start = expected.figure("benefit_start").value
    assert start > date(2021, 5, 1)
    assert "不能报销" in messages[0]["text"]


@pytest.mark.parametrize("channel,limit", [("sms", SMS_LIMIT), ("wechat", WECHAT_LIMIT)])
def test_channel_lengths(tracker, run, channel: str, limit: int) -> None:
    messages, _ = run(ActionAnswer(), tracker("ask_deadline", "贵州2021年度缴费截止时间", channel))
    text = messages[0]["text"]
    assert len(text) <= limit
    assert "2021" in text and "依据" in text
    # No buttons off the web; the structured answer goes along for the message log (console).
    assert not messages[0].get("buttons") and messages[0]["custom"]["topic"] == "deadline"


def test_below_the_nlu_threshold_the_best_guess_is_used_only_when_nothing_else_decides(
        tracker, run) -> None:
    ranking = [("nlu_fallback", 0.4), ("ask_deadline", 0.35), ("ask_fee", 0.2)]
    messages, _ = run(ActionAnswer(), tracker("nlu_fallback", "安康那个医保的事", ranking=ranking))
    assert messages[0]["text"].startswith(_expected(topic="deadline", region="安康").summary)
    unsure = [("nlu_fallback", 0.4), ("ask_deadline", 0.2)]
    messages, _ = run(ActionAnswer(), tracker("nlu_fallback", "嗯那个", ranking=unsure))
    assert "换个说法" in messages[0]["text"]


def test_out_of_scope_without_a_place_says_so(tracker, run) -> None:
    messages, _ = run(ActionAnswer(), tracker("out_of_scope", "帮我查下天气"))
    assert messages[0]["text"] == text("conv.out_of_scope") and "12393" in messages[0]["text"]


def test_a_failing_rule_layer_gives_an_honest_message(tracker, run, monkeypatch) -> None:
    def boom(*_a, **_k):
        raise RuntimeError("broken data")
    monkeypatch.setattr(bot_actions, "respond", boom)
    messages, events = run(ActionAnswer(), tracker("ask_fee", "会宁交多少"))
    assert messages[0]["text"] == text("conv.rules_down") and events == []


def test_a_damaged_situation_slot_is_ignored(tracker, run) -> None:
    t = tracker("ask_fee", "贵州交多少钱", situation={"region": 5, "dates": "x", "junk": 1})
    messages, _ = run(ActionAnswer(), t)
    assert messages[0]["text"].startswith(_expected(topic="fee", region="贵州").summary)
    assert conversation.Situation.load("not a dict") == conversation.Situation()


def test_citation_shows_the_quotes_of_the_last_answer(tracker, run) -> None:
    expected = _expected(topic="fee", region="会宁", said_year=2022)
    cites = [c.model_dump(mode="json") for c in expected.citations]
    messages, _ = run(ActionCitation(), tracker("ask_citation", last_citations=cites))
    assert cites[0]["doc_no"] in messages[0]["text"]
    assert cites[0]["quote"] in messages[0]["text"]
    messages, _ = run(ActionCitation(), tracker("ask_citation"))
    assert "还没有" in messages[0]["text"]


def test_handoff_pauses_and_is_recorded(tracker, run, tmp_path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    t = tracker("handoff", "转人工", "wechat", situation={"topic": "fee", "region": "会宁县"})
    messages, events = run(ActionHandoff(), t)
    assert ConversationPaused() in events
    assert SlotSet("handoff_requested", True) in events
    rows = list_handoffs(url=url)
    assert len(rows) == 1
    assert rows[0]["sender_id"] == "tester" and rows[0]["channel"] == "wechat"
    assert rows[0]["topic"] == "fee" and rows[0]["status"] == "open"
    assert str(rows[0]["id"]) in messages[0]["text"]


def test_a_handoff_heard_without_handoff_words_is_answered(tracker, run, tmp_path,
                                                         monkeypatch) -> None:
    # The classifier may hear "handoff" in a household description; the bot must not pause.
    url = f"sqlite:///{tmp_path / 'h.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    t = tracker("handoff", "会宁县今年交多少钱，我和老伴一块住着", "wechat")
    messages, events = run(ActionHandoff(), t)
    assert ConversationPaused() not in events
    assert list_handoffs(url=url) == []
    assert messages and "元" in messages[0]["text"]


def test_help_names_the_coverage(tracker, run) -> None:
    messages, _ = run(ActionHelp(), tracker("help"))
    assert "转人工" in messages[0]["text"] and "贵州" in messages[0]["text"]


@pytest.mark.parametrize("channel", ["wechat", "web", "sms"])
def test_a_section_ending_in_a_bracket_is_cited_whole(tracker, run, channel) -> None:
    # 甘医保发〔2021〕55号 三（二）1（2）: the closing bracket belongs to the section.
    expected = _expected(topic="employee_to_resident", region="会宁", said_year=2021, said_label=True)
    section = expected.citations[0].section
    assert section.endswith("）")
    t = tracker("ask_employee_to_resident", "会宁2021年度职工医保断了转居民医保怎么办", channel)
    messages, _ = run(ActionAnswer(), t)
    assert f"{expected.citations[0].doc_no} {section}" in messages[0]["text"]
