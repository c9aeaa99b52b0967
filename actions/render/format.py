"""Formatting of figure values for residents (Chinese dates, amounts without noise)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from actions.render.catalog import cn_date, render_text, yuan
from actions.rules.contract import Answer, Figure, say


def fmt_value(fig: Figure) -> str:
    value = fig.value
    if isinstance(value, date):
        text = cn_date(value)
    elif isinstance(value, Decimal):
        text = yuan(value)
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
        return render_text(say("render.label_year", label=answer.year_label, year=answer.benefit_year))
    if answer.benefit_year:
        return render_text(say("render.year", year=answer.benefit_year))
    return answer.year_label or ""


def short_citation(answer: Answer) -> str:
    if not answer.citations:
        return ""
    first = answer.citations[0].short()
    more = len({c.doc_no for c in answer.citations}) - 1
    return first + (render_text(say("render.more_documents", count=more + 1)) if more > 0 else "")
