"""The rasa-sdk actions: exact events and messages, against the real rule layer."""

from __future__ import annotations

from datetime import date

import pytest
from rasa_sdk.events import ConversationPaused, SlotSet

from actions import bot_actions
from actions.bot_actions import (
    ActionAnswer,
    ActionAskAffirmation,
    ActionCitation,
    ActionHandoff,
    ActionHelp,
    ActionOutOfScope,
    ValidateNewbornForm,
)
from actions.handoff_store import list_handoffs
from actions.render import SMS_LIMIT, WECHAT_LIMIT
from actions.render.format import fmt_value
from actions.rules import answer_question
from actions.rules.contract import Question

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
    t = tracker("ask_fee", [{"entity": "region", "value": "会宁"}], region="会宁",
                benefit_year="2022")
    messages, events = run(ActionAnswer(), t)
    expected = _expected(topic="fee", region="会宁", said_year=2022)
    assert expected.status == "ok"
    text = messages[0]["text"]
    assert fmt_value(expected.figure("standard")) in text
    assert expected.citations[0].doc_no in text
    assert "2022" in text
    assert _slot(events, "topic") == "fee"
    assert _slot(events, "last_citations")[0]["doc_no"] == expected.citations[0].doc_no
    custom = messages[0]["custom"]
    assert custom["topic"] == "fee" and custom["benefit_year"] == 2022
    assert {b["payload"] for b in messages[0]["buttons"]} == {"/ask_citation", "/handoff"}


def test_missing_region_is_asked_never_guessed(tracker, run) -> None:
    messages, events = run(ActionAnswer(), tracker("ask_deadline"))
    assert "哪个地区" in messages[0]["text"]
    assert SlotSet("awaiting", "region") in events
    assert _slot(events, "last_citations") == "<unset>"


def test_missing_year_is_asked_with_what_is_covered(tracker, run) -> None:
    t = tracker("ask_fee", [{"entity": "region", "value": "会宁"}], region="会宁")
    messages, events = run(ActionAnswer(), t)
    expected = _expected(topic="fee", region="会宁")
    assert expected.status == "needs_input"
    assert messages[0]["text"] == expected.summary
    assert SlotSet("awaiting", "benefit_year") in events


def test_context_carries_over_to_a_follow_up(tracker, run) -> None:
    # "那低保户呢?" after a fee question: intent inform, the topic comes from the slot.
    t = tracker("inform", [{"entity": "category", "value": "dibao"}], topic="fee",
                region="会宁", benefit_year="2022", category=["dibao"])
    messages, events = run(ActionAnswer(), t)
    expected = _expected(topic="fee", region="会宁", said_year=2022, categories=["dibao"])
    assert messages[0]["text"].startswith(expected.summary)
    assert _slot(events, "topic") == "<unset>"  # unchanged


def test_new_question_drops_the_previous_category(tracker, run) -> None:
    t = tracker("ask_fee", [], region="会宁", benefit_year="2022", category=["dibao"])
    messages, events = run(ActionAnswer(), t)
    assert SlotSet("category", None) in events
    expected = _expected(topic="fee", region="会宁", said_year=2022)
    assert messages[0]["text"].startswith(expected.summary)


def test_uncovered_year_says_what_is_covered_and_where_to_ask(tracker, run) -> None:
    expected = _expected(topic="fee", region="会宁", said_year=2019)
    t = tracker("ask_fee", [], region="会宁", benefit_year="2019")
    messages, _ = run(ActionAnswer(), t)
    assert expected.status in ("not_covered", "needs_input")
    assert messages[0]["text"].startswith(expected.summary)
    assert "2019" in messages[0]["text"]


@pytest.mark.parametrize("channel,limit", [("sms", SMS_LIMIT), ("wechat", WECHAT_LIMIT)])
def test_channel_lengths(tracker, run, channel: str, limit: int) -> None:
    t = tracker("ask_deadline", [], channel=channel, region="贵州", benefit_year="2021")
    messages, _ = run(ActionAnswer(), t)
    text = messages[0]["text"]
    assert len(text) <= limit
    assert "2021" in text and "依据" in text
    assert not messages[0].get("buttons") and not messages[0].get("custom")


def test_newborn_with_birth_date_uses_the_date(tracker, run) -> None:
    t = tracker("inform", [], topic="newborn", region="会宁", benefit_year="2022",
                birth_date="2022-03-05")
    messages, _ = run(ActionAnswer(), t)
    expected = _expected(topic="newborn", region="会宁", said_year=2022,
                         birth_date=date(2022, 3, 5))
    assert messages[0]["text"].startswith(expected.summary)


def test_a_dated_question_needs_no_year(tracker, run) -> None:
    # "宝宝2022年3月5日出生，会宁怎么参保": the birth date settles the benefit year.
    t = tracker("ask_newborn", [], region="会宁", birth_date="2022-03-05")
    messages, events = run(ActionAnswer(), t)
    expected = _expected(topic="newborn", region="会宁", birth_date=date(2022, 3, 5))
    assert expected.benefit_year == 2022 and expected.citations  # payment date still asked
    assert messages[0]["text"].startswith(expected.summary)
    assert SlotSet("awaiting", "benefit_year") not in events


def test_a_spoken_year_may_be_a_notice_year_label(tracker, run) -> None:
    # 会宁's "2021年度" pays for 2022: "会宁2021年交多少" is answered for 2022, with a caveat.
    t = tracker("ask_fee", [], region="会宁", benefit_year="2021")
    messages, _ = run(ActionAnswer(), t)
    strict = _expected(topic="fee", region="会宁", benefit_year=2021)
    assert strict.status == "not_covered"
    expected = _expected(topic="fee", region="会宁", said_year=2021)
    assert expected.status == "ok" and expected.benefit_year == 2022
    assert messages[0]["text"].startswith(expected.summary)
    assert "2021年度" in messages[0]["text"]


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
    t = tracker("handoff", text="转人工", channel="wechat", topic="fee", region="会宁")
    messages, events = run(ActionHandoff(), t)
    assert ConversationPaused() in events
    assert SlotSet("handoff_requested", True) in events
    rows = list_handoffs(url=url)
    assert len(rows) == 1
    assert rows[0]["sender_id"] == "tester" and rows[0]["channel"] == "wechat"
    assert rows[0]["topic"] == "fee" and rows[0]["status"] == "open"
    assert str(rows[0]["id"]) in messages[0]["text"]


def test_fallback_affirmation_is_chinese_and_remembers_the_guess(tracker, run) -> None:
    t = tracker("nlu_fallback", ranking=["nlu_fallback", "ask_deadline", "ask_fee"])
    messages, events = run(ActionAskAffirmation(), t)
    assert "缴费时间" in messages[0]["text"]
    assert messages[0]["buttons"][0]["payload"] == "/ask_deadline"
    assert SlotSet("fallback_topic", "ask_deadline") in events


def test_affirm_answers_the_guessed_topic(tracker, run) -> None:
    t = tracker("affirm", fallback_topic="ask_deadline", region="贵州", benefit_year="2021")
    messages, events = run(ActionAnswer(), t)
    assert _slot(events, "topic") == "deadline"
    expected = _expected(topic="deadline", region="贵州", said_year=2021)
    assert messages[0]["text"].startswith(expected.summary)


def test_help_and_out_of_scope_name_the_coverage(tracker, run) -> None:
    messages, _ = run(ActionHelp(), tracker("help"))
    assert "转人工" in messages[0]["text"] and "贵州" in messages[0]["text"]
    messages, _ = run(ActionOutOfScope(), tracker("out_of_scope"))
    assert "12393" in messages[0]["text"]


def test_newborn_form_rejects_a_date_without_year(tracker) -> None:
    from rasa_sdk.executor import CollectingDispatcher

    form = ValidateNewbornForm()
    d = CollectingDispatcher()
    assert form.validate_birth_date("--03-05", d, tracker("inform"), {}) == {"birth_date": None}
    assert "年份" in d.messages[0]["text"]
    ok = form.validate_birth_date("2022-03-05", d, tracker("inform"), {})
    assert ok == {"birth_date": "2022-03-05"}


def test_form_completion_answers_the_question_that_started_the_form(tracker, run) -> None:
    t = tracker("inform", [{"entity": "date", "value": "2022-03-05"}], region="会宁",
                benefit_year="2022", birth_date="2022-03-05")
    t.events.append({"event": "user", "text": "新生儿怎么参保",
                     "parse_data": {"intent": {"name": "ask_newborn"}}})
    t.events.append({"event": "user", "text": "2022年3月5日",
                     "parse_data": {"intent": {"name": "inform"}}})
    messages, _ = run(ActionAnswer(), t)
    expected = _expected(topic="newborn", region="会宁", said_year=2022,
                         birth_date=date(2022, 3, 5))
    assert messages[0]["text"].startswith(expected.summary)


def test_general_newborn_answer_then_asks_for_the_birth_date(tracker, run) -> None:
    t = tracker("ask_newborn", [], region="会宁", benefit_year="2022")
    messages, events = run(ActionAnswer(), t)
    expected = _expected(topic="newborn", region="会宁", said_year=2022)
    assert messages[0]["text"].startswith(expected.summary)
    assert events[-1] == SlotSet("date_needed", "birth_date")


def test_asked_inputs_are_in_the_web_payload(tracker, run) -> None:
    t = tracker("ask_fee", [{"entity": "category", "value": "dibao"}], region="会宁",
                benefit_year="2022", category=["dibao"])
    messages, _ = run(ActionAnswer(), t)
    assert messages[0]["custom"]["asked"]["categories"] == ["dibao"]


def test_fallback_on_out_of_scope_says_so(tracker, run) -> None:
    t = tracker("nlu_fallback", ranking=["nlu_fallback", "out_of_scope", "ask_fee"])
    messages, events = run(ActionAskAffirmation(), t)
    assert "不在我的服务范围" in messages[0]["text"] and events == []


@pytest.mark.parametrize("channel", ["wechat", "web", "sms"])
def test_a_section_ending_in_a_bracket_is_cited_whole(tracker, run, channel) -> None:
    # 甘医保发〔2021〕55号 三（二）1（2）: the closing bracket belongs to the section.
    expected = _expected(topic="employee_to_resident", region="会宁", said_year=2022)
    section = expected.citations[0].section
    assert section.endswith("）")
    t = tracker("ask_employee_to_resident", [], channel=channel, region="会宁",
                benefit_year="2022")
    messages, _ = run(ActionAnswer(), t)
    assert f"{expected.citations[0].doc_no} {section}" in messages[0]["text"]
