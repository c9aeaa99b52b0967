"""Formatting of figure values for residents (Chinese dates, amounts without noise)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from actions.rules.contract import Answer, Figure


def fmt_value(fig: Figure) -> str:
    value = fig.value
    if isinstance(value, date):
        text = f"{value.year}年{value.month}月{value.day}日"
    elif isinstance(value, Decimal):
        text = format(value.normalize(), "f") if value == value.to_integral() else str(value)
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    else:
        text = str(value)
    if fig.unit and not text.endswith(fig.unit):
        text += fig.unit
    return text


def year_text(answer: Answer) -> str:
    """The year the answer is for, as the notice names it when it does."""
    if answer.year_label and answer.benefit_year:
        if str(answer.benefit_year) in answer.year_label:
            return answer.year_label
        return f"{answer.year_label}（{answer.benefit_year}年待遇）"
    if answer.benefit_year:
        return f"{answer.benefit_year}年"
    return answer.year_label or ""


def short_citation(answer: Answer) -> str:
    if not answer.citations:
        return ""
    first = answer.citations[0].short()
    more = len({c.doc_no for c in answer.citations}) - 1
    return first + (f"等{more + 1}份文件" if more > 0 else "")
