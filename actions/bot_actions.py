"""rasa-sdk actions: the message and the ``situation`` slot in → messages and slots out.

Run with ``python -m actions.server --port 5055`` (one process; see actions/server.py).
Thin by design: ``actions.conversation`` reads the message and decides what is asked, the rule
layer decides every figure, ``actions.render`` words it for the message's channel.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import coverage
from actions.conversation import respond
from actions.handoff_store import record_handoff
from actions.render import channel_of, render_citations
from actions.render.catalog import render_text
from actions.rules.contract import say
from actions.texts import text

log = logging.getLogger(__name__)
HANDOFF_WORDS = re.compile(r"人工|客服|真人|工作人员|转接|接线员|找人")


def today() -> date:
    """The action server's clock (a seam for tests that pin the date)."""
    return date.today()


def _latest(tracker: Tracker) -> tuple[str | None, float, list[dict[str, Any]], dict[str, Any]]:
    msg = tracker.latest_message or {}
    intent = msg.get("intent") or {}
    if intent.get("name") == "nlu_fallback":  # below Rasa's threshold: its best guess, as unsure
        intent = next((r for r in msg.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"),
                      intent)
    return (intent.get("name"), float(intent.get("confidence") or 0.0), msg.get("entities") or [],
            msg.get("metadata") or {})


def _utter(dispatcher: CollectingDispatcher, messages: list[dict[str, Any]]) -> None:
    for m in messages:
        dispatcher.utter_message(text=m.get("text"), buttons=m.get("buttons") or [],
                                 json_message=m.get("custom"))


class ActionAnswer(Action):
    """Every question and reply: read the message into the situation, answer or ask
    (``actions.conversation.respond``)."""

    def name(self) -> str:
        return "action_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        intent, confidence, entities, metadata = _latest(tracker)
        channel = channel_of(metadata)
        said = (tracker.latest_message or {}).get("text") or ""
        try:
            turn = respond(said, entities, intent, confidence, tracker.get_slot("situation"),
                           today(), channel)
        except Exception:  # the resident gets an honest message, the log gets the trace
            log.exception("answering failed for intent %s", intent)
            dispatcher.utter_message(text=text("conv.rules_down"))
            return []
        _utter(dispatcher, turn.messages)
        events: list[EventType] = [SlotSet("situation", turn.situation.model_dump())]
        cited = [c.model_dump(mode="json") for a in turn.answers for c in a.citations]
        if cited:
            events.append(SlotSet("last_citations", cited))
        return events


class ActionCitation(Action):
    """依据: the citations of the last answer, with the exact quotes."""

    def name(self) -> str:
        return "action_citation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        metadata = _latest(tracker)[3]
        citations = tracker.get_slot("last_citations") or []
        dispatcher.utter_message(text=render_citations(citations, channel_of(metadata)))
        return []


class ActionHandoff(Action):
    """转人工: record the request for the staff console and pause the bot."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        metadata = _latest(tracker)[3]
        said = (tracker.latest_message or {}).get("text") or ""
        if not HANDOFF_WORDS.search(said) and not said.startswith("/"):
            # The classifier heard a handoff in "…一块住着": answer instead of pausing the bot.
            return await ActionAnswer().run(dispatcher, tracker, domain)
        situation = tracker.get_slot("situation") or {}
        try:
            ticket = record_handoff(tracker.sender_id, channel_of(metadata), said,
                                    topic=situation.get("topic"), region=situation.get("region"))
        except Exception:
            log.exception("could not record the handoff request")
            dispatcher.utter_message(text=text("conv.handoff_failed"))
            return []
        dispatcher.utter_message(text=text("conv.handoff", ticket=ticket))
        return [SlotSet("handoff_requested", True), ConversationPaused()]


class ActionHelp(Action):
    """What the assistant can do, and what it covers (from the knowledge base)."""

    def name(self) -> str:
        return "action_help"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        metadata = _latest(tracker)[3]
        variant = "sms" if channel_of(metadata) == "sms" else "full"
        dispatcher.utter_message(text=render_text(say("conv.help", covered=coverage.coverage_lines()),
                                                  variant))
        return []
