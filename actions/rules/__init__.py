"""The rule layer: pure functions from a :class:`Question` to a cited :class:`Answer`.

``answer_question`` is the one entry point for the bot's actions, the staff console and the
command line. No I/O happens here beyond the knowledge loaded once at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from actions.rules import deadlines, fees, info, scenarios
from actions.rules.context import Ctx, resolve
from actions.rules.contract import Answer, Citation, Figure, Question, say
from knowledge.dates import system_clock
from knowledge.loader import KnowledgeBase, default_knowledge

__all__ = ["Answer", "Citation", "Figure", "Question", "answer_question"]

RULES: dict[str, Callable[[Ctx], Answer]] = {
    "fee": scenarios.fee,
    "fiscal_subsidy": fees.fiscal_subsidy,
    "deadline": deadlines.payment_window,
    "benefit_period": deadlines.benefit_period,
    **{topic: scenarios.scenario for topic in scenarios.SCENARIO_TOPICS},
    "refund": info.refund,
    "duplicate": info.cited_list,
    "scope": info.cited_list,
    "settlement": info.cited_list,
    "critical_illness": fees.critical_illness,
    "registration": info.cited_list,
    "payment_channels": info.payment_channels,
    "contribution_years": info.contribution_years,
    "plan": info.plan,
}


def answer_question(q: Question, kb: KnowledgeBase | None = None,
                    clock: Callable[[], date] = system_clock) -> Answer:
    """Answer one question from the knowledge data (``kb`` defaults to the shipped data)."""
    kb = kb or default_knowledge()
    ctx = resolve(q, kb, clock)
    if isinstance(ctx, Answer):
        return ctx
    if q.topic == "compare_years":
        if q.compare_to_year is None:
            return ctx.answer("needs_input", say("ask_compare_year"), missing=["compare_to_year"])
        other = resolve(q.model_copy(update={"benefit_year": q.compare_to_year}), kb, clock)
        if isinstance(other, Answer):
            return other.model_copy(update={"topic": "compare_years"})
        return fees.compare_years(ctx, other)
    return RULES[q.topic](ctx)
