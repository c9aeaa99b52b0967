"""Data lint: every quote is in its notice, and every category, window and rule is tested."""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml
from pydantic import BaseModel

from knowledge.schema import Cite, Notice

from .conftest import CASES_DIR, SEEDS_DIR


def cites(model: object) -> Iterator[tuple[str, Cite]]:
    """Every Cite inside a model, with where it sits."""
    if isinstance(model, Cite):
        yield "", model
    elif isinstance(model, BaseModel):
        for name in type(model).model_fields:
            for path, c in cites(getattr(model, name)):
                yield f"{name}.{path}".rstrip("."), c
    elif isinstance(model, list | tuple):
        for i, item in enumerate(model):
            for path, c in cites(item):
                yield f"{i}.{path}".rstrip("."), c


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_quotes_appear_verbatim_in_the_notices(kb) -> None:
    problems = []
    for notice in kb.notices.values():
        source = squash((SEEDS_DIR / notice.source).read_text(encoding="utf-8"))
        for path, c in cites(notice):
            if squash(c.quote) not in source:
                problems.append(f"{notice.id}: {path}: {c.quote!r}")
    assert not problems, "quotes not found verbatim:\n" + "\n".join(problems)


def _cases_by_notice() -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for file in sorted(CASES_DIR.glob("*.yaml")):
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        out.setdefault(data["notice"], []).extend(data["cases"])
    return out


def _used(notice: Notice, cases: list[dict]) -> list[str]:
    """What of the notice its cases leave untested."""
    questions = [c["question"] for c in cases]
    topics = {q["topic"] for q in questions}
    categories = {cat for q in questions for cat in q.get("categories", [])}
    unused = [f"category {s.category}" for s in notice.subsidies if s.category not in categories]
    for w in notice.windows:
        days = [q.get("payment_date") or q.get("today") for q in questions if q["topic"] == "deadline"]
        if not any(d and w.start <= d <= w.end for d in days):
            unused.append(f"window {w.id}")
    for name in type(notice.scenarios).model_fields:
        if getattr(notice.scenarios, name) is not None and name not in topics:
            unused.append(f"scenario {name}")
    checks = {"refunds": "refund", "duplicates": "duplicate", "scope": "scope",
              "registration": "registration", "payment_channels": "payment_channels",
              "contribution_bonus": "contribution_years", "plan": "plan",
              "fiscal_subsidy": "fiscal_subsidy", "personal": "fee", "benefit_period": "benefit_period"}
    unused += [f"{field} (topic {topic})" for field, topic in checks.items()
               if getattr(notice, field) not in (None, []) and topic not in topics]
    return unused


def test_every_category_window_and_rule_is_used_by_a_case(kb) -> None:
    cases = _cases_by_notice()
    problems = [f"{nid}: {item}" for nid, notice in kb.notices.items()
                for item in _used(notice, cases.get(nid, []))]
    assert not problems, "untested data:\n" + "\n".join(problems)
