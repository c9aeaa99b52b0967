"""Tracker fixtures for the rasa-sdk actions (real rule layer, no Rasa server).

A resident's message goes through the bot's own normaliser and quantity extractor (the first
steps of the Rasa pipeline), so the action sees what it sees behind Rasa.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bot"))
from components.quantities import extract  # noqa: E402, F401  (also for test_reading)
from components.textnorm import normalise  # noqa: E402

SLOTS = {"situation": None, "last_citations": None, "handoff_requested": None}


def make_tracker(intent: str, text: str = "", channel: str = "web", confidence: float = 0.9,
                 ranking: list[tuple[str, float]] | None = None, **slots: Any) -> Tracker:
    text = normalise(text)
    latest = {"intent": {"name": intent, "confidence": confidence}, "entities": extract(text),
              "text": text, "metadata": {"channel": channel},
              "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking or []]}
    return Tracker("tester", {**SLOTS, **slots}, latest, [], False, None, {}, "action_listen")


def run_action(action: Action, tracker: Tracker) -> tuple[list[dict[str, Any]], list]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher.messages, events


@pytest.fixture
def tracker() -> Callable[..., Tracker]:
    return make_tracker


@pytest.fixture
def run() -> Callable[[Action, Tracker], tuple[list[dict[str, Any]], list]]:
    return run_action


def converse(turns: list[tuple[str, str]], channel: str = "web") -> list[dict[str, Any]]:
    """Run ActionAnswer over (intent, text) turns, carrying the situation slot; the last messages."""
    from actions.bot_actions import ActionAnswer

    situation = None
    messages: list[dict[str, Any]] = []
    for intent, text in turns:
        messages, events = run_action(ActionAnswer(), make_tracker(intent, text, channel,
                                                                   situation=situation))
        situation = next((e["value"] for e in events if e.get("name") == "situation"), situation)
    return messages
