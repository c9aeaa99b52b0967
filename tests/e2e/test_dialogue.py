"""Conversations with the live bot over REST: clarification, carry-over, forms, citation,
handoff, fallback, channels and bad input."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from actions.handoff_store import list_handoffs
from actions.render import SMS_LIMIT, WECHAT_LIMIT
from tests.conftest import Conversation


def test_clarifies_region_then_year_then_answers(conversation: Conversation) -> None:
    reply = conversation.say("医保什么时候交")
    assert "哪个地区" in conversation.text(reply)
    reply = conversation.say("白银")
    assert conversation.custom(reply)["status"] == "needs_input"
    assert "年" in conversation.text(reply)
    reply = conversation.say("2023年")
    custom = conversation.custom(reply)
    assert (custom["topic"], custom["region"], custom["benefit_year"]) == ("deadline", "白银市",
                                                                          2023)
    assert custom["status"] == "ok" and custom["citations"]


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
    first = conversation.custom(conversation.say("会宁县2022年居民医保交多少钱"))
    assert first["topic"] == "fee" and first["region"] == "会宁县"
    second = conversation.custom(conversation.say("那低保户呢?"))
    assert second["topic"] == "fee" and second["region"] == "会宁县"
    assert second["benefit_year"] == 2022 and "低保" in second["summary"]
    third = conversation.say("那贵州呢?")
    assert conversation.custom(third)["topic"] == "fee"
    assert "贵州" in conversation.text(third)


def test_newborn_answer_then_the_form_asks_for_full_dates(conversation: Conversation) -> None:
    reply = conversation.say("会宁县2022年新生儿怎么参保")
    assert conversation.custom(reply)["topic"] == "newborn"  # the general answer first
    assert "出生" in conversation.text(reply)  # then the calculator asks for the birth date
    reply = conversation.say("3月5号")
    assert "年份" in conversation.text(reply)  # a date without its year is not guessed
    reply = conversation.say("2022年3月5日")
    assert "缴费" in conversation.text(reply)
    reply = conversation.say("2022年4月1日")
    custom = conversation.custom(reply)
    assert custom["topic"] == "newborn" and custom["region"] == "会宁县"
    assert custom["asked"]["birth_date"] == "2022-03-05"
    assert custom["asked"]["payment_date"] == "2022-04-01"


def test_transfer_form_can_be_left_without_the_date(conversation: Conversation) -> None:
    reply = conversation.say("贵州2021年职工医保断了怎么转居民医保")
    assert conversation.custom(reply)["topic"] == "employee_to_resident"
    assert "停保" in conversation.text(reply)
    reply = conversation.say("不知道")
    assert "还有什么可以帮您" in conversation.text(reply)
    custom = conversation.custom(conversation.say("贵州2021年医保缴费渠道有哪些"))
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


def test_two_stage_fallback_never_gets_stuck(conversation: Conversation) -> None:
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
    assert not any(m.get("buttons") or m.get("custom") for m in messages)


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
