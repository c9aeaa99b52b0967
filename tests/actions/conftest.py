"""Tracker fixtures for the rasa-sdk actions (real rule layer, no Rasa server)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

SLOTS = {"region": None, "benefit_year": None, "category": None, "birth_date": None,
         "stop_date": None, "payment_date": None, "duration": None, "topic": None,
         "awaiting": None, "fallback_topic": None, "last_citations": None,
         "handoff_requested": None}


def make_tracker(intent: str, entities: list[dict[str, Any]] | None = None,
                 text: str = "", channel: str = "web", ranking: list[str] | None = None,
                 **slots: Any) -> Tracker:
    latest = {"intent": {"name": intent, "confidence": 0.9}, "entities": entities or [],
              "text": text, "metadata": {"channel": channel},
              "intent_ranking": [{"name": n, "confidence": 0.3} for n in ranking or [intent]]}
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
