"""Shared helpers for the knowledge and rule-layer tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from knowledge import KnowledgeBase, default_knowledge

REPO = Path(__file__).resolve().parents[2]
CASES_DIR = REPO / "tests" / "cases"
SEEDS_DIR = REPO / "knowledge" / "data" / "texts"  # the notices' own texts, kept in the repo


def norm(value: object) -> str:
    """One text form for figures from YAML and from answers: 320 == 320.0 == Decimal('320')."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        text = f"{Decimal(str(value)):f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return default_knowledge()
