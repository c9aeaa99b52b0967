"""rasa-sdk actions: slots in → ``answer_question`` → channel rendering out.

Run with ``python -m rasa_sdk --actions actions.bot_actions --port 5055``.
Thin by design: the rule layer decides every figure; these classes only gather the inputs,
ask for what is missing, and render the :class:`Answer` for the message's channel.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import coverage
from actions.handoff_store import record_handoff
from actions.render import channel_of, render_answer, render_citations
from actions.rules.contract import Answer
from actions.slots import (
    INTENT_TOPIC,
    PER_QUESTION_SLOTS,
    TOPIC_LABEL,
    draft_from_slots,
    parse_date,
)

log = logging.getLogger(__name__)

ASK_REGION = "请问您在哪个地区参保？（请说到县区或地市，例如：会宁县、白银市、安康市汉滨区、贵州省）"
NO_TOPIC = ("好的，已记下。请问您想了解什么？例如：缴费标准和资助、缴费时间、待遇享受期、"
            "新生儿或学生参保、转移接续、退费、缴费渠道。")
ASK_BIRTH_DATE = ("告诉我宝宝的出生日期（例如：2022年3月5日），我可以算出具体从哪天起享受待遇。"
                  "请问宝宝是哪天出生的？不清楚可以回复“不知道”。")
ASK_STOP_DATE = ("告诉我原来的医保是哪天停保（中断）的（例如：2022年6月30日），我可以算出具体日期。"
                 "请问是哪天停保的？不清楚可以回复“不知道”。")
ASK_PAYMENT_DATE = ("请问是哪天缴费的（或打算哪天缴费）？例如：2022年4月1日，也可以回复“今天”。"
                    "不清楚可以回复“不知道”。")
ASK_REPHRASE = "抱歉，我没太理解。能换个说法再问一次吗？例如：“会宁县低保户2022年交多少钱？”"
GIVE_UP = ("抱歉，这个问题我暂时回答不了。您可以回复“转人工”由工作人员解答，"
           "或咨询当地医保经办机构、拨打12393医保服务热线。")
OUT_OF_SCOPE = ("抱歉，这个问题不在我的服务范围内。我只能解答城乡居民医保参保缴费的问题"
                "（缴费标准、资助、缴费时间、待遇期、转移接续、退费等）。")
RULES_DOWN = ("抱歉，政策计算服务暂时不可用，请稍后再试，或回复“转人工”联系工作人员，"
              "也可拨打12393医保服务热线。")


def today() -> date:
    """The action server's clock (a seam for tests that pin the date)."""
    return date.today()


def _latest(tracker: Tracker) -> tuple[str | None, list[dict[str, Any]], dict[str, Any]]:
    msg = tracker.latest_message or {}
    intent = (msg.get("intent") or {}).get("name")
    return intent, msg.get("entities") or [], msg.get("metadata") or {}


def _utter(dispatcher: CollectingDispatcher, messages: list[dict[str, Any]]) -> None:
    for m in messages:
        dispatcher.utter_message(text=m.get("text"), buttons=m.get("buttons") or [],
                                 json_message=m.get("custom"))


# Topics whose answer becomes exact with one more date (asked by newborn_form/transfer_form).
_TRANSFER = ("stop_date", ("stop_date", "payment_date"))
DATE_FOR_TOPIC = {"newborn": ("birth_date", ("birth_date", "payment_date")),
                  "employee_to_resident": _TRANSFER, "resident_to_employee": _TRANSFER,
                  "cross_region": _TRANSFER}


def fallback_guess(tracker: Tracker) -> str | None:
    """The intent the fallback asked about ("您是想问…吗？"), from the events.

    Read from the events rather than the slot: after the two-stage fallback rewinds the
    conversation, Rasa 3.6 sends the slot without the value set before the rewind.
    """
    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") == "fallback_topic":
            return event.get("value")
    return tracker.get_slot("fallback_topic")


def is_clarifying(answer: Answer) -> bool:
    """A question back to the resident (no year or nothing cited yet), not a general answer."""
    return answer.status == "needs_input" and (
        answer.benefit_year is None or not answer.citations)


def last_topic(tracker: Tracker) -> str | None:
    """The topic of the conversation so far: the latest ``topic`` slot or question intent.

    A form (newborn, transfers) starts before ``action_answer`` first runs, so the question
    intent that started it is looked up in the events as well.
    """
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "slot" and event.get("name") == "topic" and event.get("value"):
            return event["value"]
        if kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent in INTENT_TOPIC:
                return INTENT_TOPIC[intent]
    return tracker.get_slot("topic")


class ActionAnswer(Action):
    """Answer the current question, or ask for the region / year first."""

    def name(self) -> str:
        return "action_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        from actions.rules import answer_question  # the rule layer, loaded on first use

        intent, entities, metadata = _latest(tracker)
        channel = channel_of(metadata)
        events: list[EventType] = [SlotSet("date_needed", None)]
        slots = dict(tracker.slots)

        if intent == "affirm":  # "是" after the fallback's "您是想问…吗？"
            topic = INTENT_TOPIC.get(fallback_guess(tracker) or "")
            if topic is None:
                dispatcher.utter_message(response="utter_anything_else")
                return events
            events.append(SlotSet("topic", topic))
        elif intent in INTENT_TOPIC:
            topic = INTENT_TOPIC[intent]
            # A new question: per-question slots it does not repeat are dropped
            # (a category said for a fee question must not leak into a later one).
            said = {e.get("entity") for e in entities}
            for slot, entity in PER_QUESTION_SLOTS.items():
                if entity not in said and slots.get(slot) is not None:
                    slots[slot] = None
                    events.append(SlotSet(slot, None))
            events.append(SlotSet("topic", topic))
        else:  # inform / deny / form completion: the topic asked before carries over
            topic = last_topic(tracker)
        events.append(SlotSet("fallback_topic", None))

        if topic is None:
            dispatcher.utter_message(text=NO_TOPIC)
            return events

        draft = draft_from_slots(topic, slots, today())
        if "region" in draft.missing:
            dispatcher.utter_message(text=ASK_REGION)
            return [*events, SlotSet("awaiting", "region")]

        try:
            answer = answer_question(draft.question(today()))
        except Exception:  # the resident gets an honest message, the log gets the trace
            log.exception("rule layer failed for %s", draft)
            dispatcher.utter_message(text=RULES_DOWN)
            return events

        messages = render_answer(answer, channel)
        for m in messages:  # what was asked, for the web client (and the end-to-end tests)
            if "custom" in m:
                m["custom"]["asked"] = {"categories": draft.fields["categories"],
                                        **{k: str(v) for k, v in draft.fields.items()
                                           if k != "categories"}}
        _utter(dispatcher, messages)
        if is_clarifying(answer):  # the rule layer asks (e.g. which benefit year)
            return [*events, SlotSet("awaiting", (answer.missing or [None])[0])]
        citations = [c.model_dump(mode="json") for c in answer.citations]
        events += [SlotSet("awaiting", None), SlotSet("last_citations", citations)]
        # The answer is general; dates would make it exact: the form asks for them next.
        form_slot, form_dates = DATE_FOR_TOPIC.get(topic, (None, ()))
        if form_slot and any(d in answer.missing for d in form_dates):
            events.append(SlotSet("date_needed", form_slot))
        return events


class ActionCitation(Action):
    """依据: the citations of the last answer, with the exact quotes."""

    def name(self) -> str:
        return "action_citation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        _, _, metadata = _latest(tracker)
        citations = tracker.get_slot("last_citations") or []
        dispatcher.utter_message(text=render_citations(citations, channel_of(metadata)))
        return []


class ActionHandoff(Action):
    """转人工: record the request for the staff console and pause the bot."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        _, _, metadata = _latest(tracker)
        text = (tracker.latest_message or {}).get("text") or ""
        try:
            ticket = record_handoff(tracker.sender_id, channel_of(metadata), text,
                                    topic=tracker.get_slot("topic"),
                                    region=tracker.get_slot("region"))
        except Exception:
            log.exception("could not record the handoff request")
            dispatcher.utter_message(
                text="抱歉，转人工登记暂时失败。请直接拨打12393医保服务热线，或稍后再回复“转人工”。")
            return []
        dispatcher.utter_message(
            text=f"已为您转接人工服务（登记号{ticket}），工作人员会尽快回复您，请稍候。"
                 "在此期间机器人将暂停自动回复。")
        return [SlotSet("handoff_requested", True), ConversationPaused()]


class ActionHelp(Action):
    """What the assistant can do, and what it covers (from the knowledge base)."""

    def name(self) -> str:
        return "action_help"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        _, _, metadata = _latest(tracker)
        lines = ["我可以解答城乡居民基本医疗保险参保缴费的问题：",
                 "· 个人缴费标准、困难群体资助和实际要交多少",
                 "· 缴费时间、逾期缴费、待遇享受期",
                 "· 新生儿、大中专学生、退役军人参保",
                 "· 职工医保与居民医保转换、跨统筹区转移接续",
                 "· 退费、重复参保、参保范围和登记、缴费渠道、财政补助、连续缴费激励",
                 "回复“依据”可查看上一条回答的政策原文，回复“转人工”联系工作人员。"]
        covered = coverage.coverage_lines()
        if covered:
            lines.append("目前收录：" + "；".join(covered))
        text = "\n".join(lines)
        if channel_of(metadata) == "sms":
            text = ("可问：缴费标准/资助、缴费时间、待遇期、新生儿、学生、退役军人、转移接续、退费、"
                    "缴费渠道。回复“依据”看原文，“转人工”找工作人员。")
        dispatcher.utter_message(text=text)
        return []


class ActionOutOfScope(Action):
    """Honest about what is not covered, and where to ask instead."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        text = OUT_OF_SCOPE
        regions = coverage.covered_regions()
        if regions:
            text += "目前收录的地区：" + "、".join(regions) + "。"
        text += "其他问题请咨询当地医保经办机构或拨打12393医保服务热线，也可以回复“转人工”。"
        dispatcher.utter_message(text=text)
        return []


class ActionAskAffirmation(Action):
    """First stage of the two-stage fallback, in Chinese (replaces Rasa's English default)."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        msg = tracker.latest_message or {}
        ranking = [r.get("name") for r in msg.get("intent_ranking") or []]
        guess = next((n for n in ranking if n != "nlu_fallback"), None)
        if guess == "out_of_scope":
            dispatcher.utter_message(text=OUT_OF_SCOPE + "如果您问的是医保参保缴费，请换个说法再问一次。")
            return []
        if guess not in INTENT_TOPIC:
            dispatcher.utter_message(text=ASK_REPHRASE)
            return []
        label = TOPIC_LABEL[INTENT_TOPIC[guess]]
        dispatcher.utter_message(
            text=f"您是想问“{label}”吗？请回复“是”或“不是”。",
            buttons=[{"title": "是", "payload": f"/{guess}"},
                     {"title": "不是", "payload": "/out_of_scope"}])
        return [SlotSet("fallback_topic", guess)]


class _Say(Action):
    """An action that says one fixed text (custom actions instead of domain responses, so
    that the form prompts and fallback texts live with the other resident-facing texts)."""

    action_name = ""
    text = ""

    def name(self) -> str:
        return self.action_name

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text=self.text)
        return []


class ActionAskBirthDate(_Say):
    action_name, text = "action_ask_birth_date", ASK_BIRTH_DATE


class ActionAskStopDate(_Say):
    action_name, text = "action_ask_stop_date", ASK_STOP_DATE


class ActionAskPaymentDate(_Say):
    action_name, text = "action_ask_payment_date", ASK_PAYMENT_DATE


class ActionAskRephrase(_Say):
    """Second stage of the two-stage fallback."""

    action_name, text = "action_default_ask_rephrase", ASK_REPHRASE


class ActionDefaultFallback(Action):
    """Give up politely; like Rasa's default, the message is reverted from the tracker."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text=GIVE_UP)
        return [UserUtteranceReverted()]


def _validate_date(slot: str, what: str, value: Any,
                   dispatcher: CollectingDispatcher) -> dict[str, Any]:
    """Accept full dates and "today" (resolved now); a date without its year is asked again."""
    if value == "today":
        return {slot: today().isoformat()}
    if parse_date(value) is None:
        dispatcher.utter_message(text=f"请告诉我完整的{what}，包括年份，例如：2022年3月5日。")
        return {slot: None}
    return {slot: value}


class ValidateNewbornForm(FormValidationAction):
    """Birth and payment dates for the newborn calculator (never guessed)."""

    def name(self) -> str:
        return "validate_newborn_form"

    def validate_birth_date(self, value: Any, dispatcher: CollectingDispatcher,
                            tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return _validate_date("birth_date", "出生日期", value, dispatcher)

    def validate_payment_date(self, value: Any, dispatcher: CollectingDispatcher,
                              tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return _validate_date("payment_date", "缴费日期", value, dispatcher)


class ValidateTransferForm(FormValidationAction):
    """Stop date of the previous insurance and payment date for the transfer calculators."""

    def name(self) -> str:
        return "validate_transfer_form"

    def validate_stop_date(self, value: Any, dispatcher: CollectingDispatcher,
                           tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return _validate_date("stop_date", "停保日期", value, dispatcher)

    def validate_payment_date(self, value: Any, dispatcher: CollectingDispatcher,
                              tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return _validate_date("payment_date", "缴费日期", value, dispatcher)
