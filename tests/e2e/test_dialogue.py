"""Conversations with the live bot over REST: clarification, carry-over, dates said one by one,
citation, handoff, unclear input, channels and bad input."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from actions.handoff_store import list_handoffs
from actions.render import SMS_LIMIT, WECHAT_LIMIT
from tests.conftest import Conversation


def test_asks_only_the_region_then_answers_for_the_nearest_notice(conversation: Conversation) -> None:
    reply = conversation.say("医保什么时候交")
    assert "哪个地区" in conversation.text(reply)
    reply = conversation.say("白银")
    custom = conversation.custom(reply)
    # 白银's own notice (市医保发〔2022〕47号, 2022年度 = 2023 benefits), and the answer says so.
    assert (custom["topic"], custom["region"], custom["benefit_year"]) == ("deadline", "白银市", 2023)
    assert custom["status"] == "ok" and custom["citations"]
    assert "没有说年度" in conversation.text(reply)


def test_conversations_persist_in_the_sqlite_tracker_store(conversation: Conversation,
                                                           tracker_db: Path) -> None:
    # Rasa silently falls back to an in-memory store when a custom store fails to load.
    conversation.say("贵州2021年医保缴费截止时间")
    with sqlite3.connect(tracker_db) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        kinds = {row[0] for row in db.execute("SELECT type_name FROM events WHERE sender_id = ?",
                                              (conversation.sender,))}
    assert {"user", "action", "bot"} <= kinds


def test_context_carries_over(conversation: Conversation) -> None:
    first = conversation.custom(conversation.say("会宁县2021年度居民医保交多少钱"))
    assert (first["topic"], first["region"], first["benefit_year"]) == ("fee", "会宁县", 2022)
    second = conversation.custom(conversation.say("那低保户呢?"))
    assert second["topic"] == "fee" and second["region"] == "会宁县"
    assert second["benefit_year"] == 2022 and "低保" in second["summary"]
    third = conversation.say("那贵州呢?")
    assert conversation.custom(third)["topic"] == "fee"
    assert "贵州" in conversation.text(third)


def test_dates_said_one_by_one_complete_a_newborn_question(conversation: Conversation) -> None:
    reply = conversation.say("会宁县新生儿怎么参保")
    assert conversation.custom(reply)["topic"] == "newborn"  # the rule, and what would make it exact
    reply = conversation.say("娃是2021年9月5号出生的")
    assert "2021年12月4日" in conversation.text(reply)  # the last day to pay (90 days, 含)
    reply = conversation.say("10月8号交的")
    custom = conversation.custom(reply)
    assert custom["topic"] == "newborn" and custom["region"] == "会宁县"
    assert custom["status"] == "ok" and "在90日内" in conversation.text(reply)


def test_not_knowing_a_date_ends_the_question_politely(conversation: Conversation) -> None:
    reply = conversation.say("贵州职工医保断了怎么转居民医保")
    assert conversation.custom(reply)["topic"] == "employee_to_resident"
    reply = conversation.say("不知道")
    assert "还有什么可以帮您" in conversation.text(reply)
    custom = conversation.custom(conversation.say("贵州医保缴费渠道有哪些"))
    assert custom["topic"] == "payment_channels"


def test_citation_of_the_last_answer(conversation: Conversation) -> None:
    answer = conversation.custom(conversation.say("贵州2021年个人缴费标准是多少"))
    reply = conversation.text(conversation.say("依据是什么"))
    assert answer["citations"][0]["doc_no"] in reply
    assert answer["citations"][0]["quote"] in reply


def test_handoff_pauses_and_is_recorded(rasa_url: str, handoff_db_url: str) -> None:
    conv = Conversation(rasa_url, channel="wechat")
    conv.say("会宁2022年交多少钱")
    reply = conv.text(conv.say("转人工"))
    assert "转接人工" in reply
    rows = [r for r in list_handoffs(url=handoff_db_url) if r["sender_id"] == conv.sender]
    assert len(rows) == 1 and rows[0]["channel"] == "wechat" and rows[0]["topic"] == "fee"
    assert conv.say("还在吗") == []  # the bot stays quiet while staff take over
    tracker = httpx.get(f"{rasa_url}/conversations/{conv.sender}/tracker").json()
    assert tracker["paused"] is True


def test_unclear_messages_never_get_stuck(conversation: Conversation) -> None:
    for text in ["qwpoeiruty zmxncbv", "asdfgh jkl", "zzzz qqqq"]:
        assert conversation.text(conversation.say(text))
    custom = conversation.custom(conversation.say("会宁县2022年医保交多少钱"))
    assert custom["topic"] == "fee"


@pytest.mark.parametrize("channel,limit", [("sms", SMS_LIMIT), ("wechat", WECHAT_LIMIT)])
def test_channel_rendering(rasa_url: str, channel: str, limit: int) -> None:
    conv = Conversation(rasa_url, channel=channel)
    messages = conv.say("贵州2021年医保缴费截止时间")
    text = conv.text(messages)
    assert len(text) <= limit and "2021" in text and "依据" in text
    assert not any(m.get("buttons") for m in messages)
    assert conv.custom(messages)["topic"] == "deadline"  # kept by the gateway for the console


BAD_INPUT = [
    "", "   ", "\n\t", "医保" * 1100, "😀🙏🎉🔥", "How much is the medical insurance fee?",
    "<script>alert('x')</script>", "'; DROP TABLE events; --", "1 OR 1=1",
    bytes(range(1, 256)).decode("latin-1"), "\x00\x01\x02\ufffd\ufffd", "/etc/passwd",
    "/ask_fee{\"region\": \"<b>x</b>\"}", "{\"sender\": null}",
]


@pytest.mark.parametrize("text", BAD_INPUT, ids=range(len(BAD_INPUT)))
def test_bad_input_gets_a_polite_reply_and_the_conversation_goes_on(
        rasa_url: str, text: str) -> None:
    conv = Conversation(rasa_url)
    resp = httpx.post(conv.url, json={"sender": conv.sender, "message": text,
                                      "metadata": {"channel": "web"}}, timeout=60)
    assert resp.status_code == 200, resp.text
    assert isinstance(resp.json(), list)
    custom = conv.custom(conv.say("会宁县2022年医保交多少钱"))
    assert custom.get("topic") == "fee"


def test_malformed_requests_get_a_clear_error(rasa_url: str) -> None:
    url = f"{rasa_url}/webhooks/rest/webhook"
    for body in [b"not json", b"{}", b'{"message": 5}']:
        resp = httpx.post(url, content=body, headers={"content-type": "application/json"})
        assert resp.status_code < 500, (body, resp.status_code, resp.text)
