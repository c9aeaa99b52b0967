"""Run every per-notice case file in tests/cases/ against the rule layer.

A case is data a bureau clerk can read and extend: a question, and the status, figures,
cited sections and quoted words the answer must have (written from the notice text, not from running code).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from actions.rules import Question, answer_question

from .conftest import CASES_DIR, SEEDS_DIR, norm


def load_cases() -> list[tuple[str, dict]]:
    out = []
    for file in sorted(CASES_DIR.glob("*.yaml")):
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        for case in data["cases"]:
            out.append((f"{data['notice']}: {case['name']}", case))
    return out


CASES = load_cases()


def case_files() -> list[Path]:
    return sorted(CASES_DIR.glob("*.yaml"))


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[i for i, _ in CASES])
def test_case(case: dict, kb) -> None:
    answer = answer_question(Question(**case["question"]), kb)
    expect = case["expect"]
    context = f"\nsummary: {answer.summary}\nfigures: {[(f.key, norm(f.value)) for f in answer.figures]}"
    assert answer.status == expect["status"], context
    for key, value in (expect.get("figures") or {}).items():
        fig = answer.figure(key)
        assert fig is not None, f"figure {key} missing{context}"
        assert norm(fig.value) == norm(value), f"figure {key}{context}"
    for key in expect.get("absent") or []:
        assert answer.figure(key) is None, f"figure {key} should be absent{context}"
    sections = [c.section for c in answer.citations]
    for prefix in expect.get("cites") or []:
        assert any(s.startswith(str(prefix)) for s in sections), f"no citation {prefix} in {sections}"
    quotes = [c.quote for c in answer.citations]
    for words in expect.get("quotes") or []:
        assert any(words in q for q in quotes), f"no citation quoting {words} in {quotes}"
    if answer.status == "ok" and answer.figures:
        assert answer.citations, "a figure without a citation"


def test_each_notice_has_enough_cases(kb) -> None:
    counts = {}
    for file in case_files():
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        counts[data["notice"]] = len(data["cases"])
    for notice_id in kb.notices:
        assert counts.get(notice_id, 0) >= 15, f"{notice_id}: {counts.get(notice_id, 0)} cases (need ≥ 15)"


def test_a_case_basis_is_quoted_verbatim_from_its_notice(kb) -> None:
    """Every case has a `basis:`, the sentence it rests on, standing in the notice's own text."""
    problems = []
    for file in case_files():
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        notice = kb.notices[data["notice"]]
        text = re.sub(r"\s+", "", (SEEDS_DIR / notice.source).read_text(encoding="utf-8"))
        for case in data["cases"]:
            basis = case.get("basis")
            if not basis:
                problems.append(f"{file.name}: {case['name']}: no basis")
            elif re.sub(r"\s+", "", basis) not in text:
                problems.append(f"{file.name}: {case['name']}: {basis}")
    assert not problems, "every case quotes the sentence it rests on, verbatim:\n" + "\n".join(problems)
