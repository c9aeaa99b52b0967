"""Held-out resident questions against the live REST endpoint (the accuracy floor is asserted).

Each question is asked in a fresh web-channel conversation; the answer's JSON payload says
which rule-layer topic, region and benefit year the bot answered for. The run writes
results/heldout.json (every question, pass/fail and why) and fails below ACCURACY_FLOOR.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from knowledge.loader import default_knowledge
from tests.conftest import ROOT, Conversation

QUESTIONS = yaml.safe_load((Path(__file__).parent / "questions.yml").read_text("utf-8"))
ACCURACY_FLOOR = 0.90
MARKERS = {  # what a reply must contain for the kinds that are not rule-layer topics
    "ask_region": "哪个地区", "greet": "您好", "help": "我可以解答", "handoff": "转接人工",
    "citation": "依据", "oos": "不在我的服务范围", "thanks": "不客气", "goodbye": "再见",
    "ask_topic": "请问您想了解什么",
}


def _training_texts() -> set[str]:
    texts = set()
    for path in (ROOT / "bot" / "data" / "nlu").glob("*.yml"):
        for line in path.read_text("utf-8").splitlines():
            if line.strip().startswith("- "):
                plain = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", line.strip()[2:])
                texts.add(re.sub(r"[\s?？，,。!！]", "", plain))
    return texts


def test_question_set_is_large_and_held_out() -> None:
    assert len(QUESTIONS) >= 150
    seen = _training_texts()
    leaked = [q["q"] for q in QUESTIONS if re.sub(r"[\s?？，,。!！]", "", q["q"]) in seen]
    assert not leaked, f"held-out questions found in the training data: {leaked}"


def judge(case: dict[str, Any], messages: list[dict[str, Any]]) -> str | None:
    """None when the reply is right, else the reason."""
    text = Conversation.text(messages)
    expect = case["expect"]
    if expect in MARKERS:
        return None if MARKERS[expect] in text else f"no {MARKERS[expect]!r} in {text[:80]!r}"
    custom = Conversation.custom(messages)
    if custom.get("topic") != expect:
        return f"topic {custom.get('topic')!r} ({text[:60]!r})"
    kb = default_knowledge()
    if "region" in case:
        want = kb.gazetteer.resolve(case["region"])
        if want is None or custom.get("region") != want.name:
            return f"region {custom.get('region')!r}"
    if "year" in case and custom.get("benefit_year") != case["year"] and not (
            custom.get("status") == "not_covered" and custom.get("benefit_year") is None):
        return f"year {custom.get('benefit_year')!r}"
    if "category" in case:
        asked = custom.get("asked", {}).get("categories", [])
        if case["category"] not in asked:
            return f"categories {asked} (expected {case['category']})"
    return None


def test_heldout_accuracy(rasa_url: str) -> None:
    results = []
    for case in QUESTIONS:
        messages = Conversation(rasa_url).say(case["q"])
        reason = judge(case, messages)
        results.append({**case, "ok": reason is None, "why": reason,
                        "reply": Conversation.text(messages)[:200]})
    accuracy = sum(r["ok"] for r in results) / len(results)
    out = ROOT / "results" / "heldout.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"accuracy": accuracy, "n": len(results), "results": results},
                              ensure_ascii=False, indent=1), encoding="utf-8")
    failed = [f"{r['q']} → {r['why']}" for r in results if not r["ok"]]
    print(f"\nheld-out accuracy {accuracy:.3f} on {len(results)} questions")
    print("\n".join(failed))
    if accuracy < ACCURACY_FLOOR:
        pytest.fail(f"held-out accuracy {accuracy:.3f} < {ACCURACY_FLOOR}:\n" + "\n".join(failed))
