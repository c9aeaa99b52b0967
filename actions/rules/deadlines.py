"""Payment windows (缴费期) and the benefit period (待遇享受期) of a place and year."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from actions.rules import scenarios
from actions.rules.context import Ctx
from actions.rules.contract import Answer, Figure, Text, say
from knowledge.schema import Window


def window_status(windows: list[Window], day: date) -> tuple[str, Window | None]:
    """(未开始 / 缴费期内 / 零星缴费期内 / 已截止, the window concerned)."""
    ordered = sorted(windows, key=lambda w: w.start)
    if day < ordered[0].start:
        return "未开始", ordered[0]
    for w in ordered:
        if w.start <= day <= w.end:
            return ("缴费期内" if w.kind == "concentrated" else "零星缴费期内"), w
    after = [w for w in ordered if w.end < day]
    upcoming = [w for w in ordered if w.start > day]
    if upcoming:  # between two windows
        return "未开始", upcoming[0]
    return "已截止", after[-1]


def payment_window(ctx: Ctx) -> Answer:
    """缴费期: the windows, whether the given day is inside, days left or passed."""
    found = ctx.find(lambda n: n.windows)
    if found is None:
        return ctx.answer("not_stated", say("windows_not_stated", where=ctx.where))
    windows = found.value
    figures: list[Figure] = []
    steps: list[Text] = []
    caveats: list[Text] = []
    for w in windows:
        ctx.cite(found.notice, w.cite)
        prefix = "window" if w.kind == "concentrated" else "sporadic"
        figures += [Figure(key=f"{prefix}_start", value=w.start, label_params={"name": w.name}),
                    Figure(key=f"{prefix}_end", value=w.end, label_params={"name": w.name})]
        steps.append(say("window", name=w.name, start=w.start, end=w.end))
        if w.tentative:
            ctx.cite(found.notice, w.tentative.cite)
            caveats.append(say("notice_words", text=w.tentative.text))
    day = ctx.q.payment_date or ctx.today
    status, w = window_status(windows, day)
    figures.append(Figure(key="date_status", value=status, label_params={"day": day}))
    if status in ("缴费期内", "零星缴费期内"):
        left = (w.end - day).days
        figures.append(Figure(key="days_left", value=left, unit="天"))
        tail = (say("days_left", days=left) if left else
                say("last_day_then" if ctx.q.payment_date else "last_day_today"))
        summary = say("day_in_window", where=ctx.where, name=w.name, start=w.start, end=w.end,
                      day=day, tail=tail)
    elif status == "未开始":
        summary = say("day_before_window", where=ctx.where, name=w.name, start=w.start, end=w.end,
                      day=day)
    else:
        passed = (day - w.end).days
        figures.append(Figure(key="days_passed", value=passed, unit="天"))
        summary = say("window_closed", where=ctx.where, name=w.name, end=w.end, days=passed)
    if status in ("零星缴费期内", "已截止"):
        figures += _if_paid_late(ctx, day, steps)
    elif status == "缴费期内" and ctx.q.payment_date:
        period = ctx.find(lambda n: n.benefit_period)
        start = scenarios.start_date(w.outcome, day, None, None, period.value.start if period else None)
        ctx.cite(found.notice, w.outcome.cite)
        steps.append(say("paid_in_window", name=w.name, start_words=scenarios.start_words(w.outcome),
                         start=start) if start else
                     say("paid_in_window_undated", name=w.name,
                         start_words=scenarios.start_words(w.outcome)))
    w_outcome = windows[0].outcome
    ctx.cite(found.notice, w_outcome.cite)
    return ctx.answer("ok", summary, figures=figures, steps=steps, caveats=caveats)


def _if_paid_late(ctx: Ctx, day: date, steps: list[Text]) -> list[Figure]:
    """What paying on ``day``, after the concentrated window, costs and from when it covers."""
    late_q = ctx.q.model_copy(update={"topic": "late_payment", "payment_date": day})
    late = scenarios.scenario(replace(ctx, q=late_q, citations=ctx.citations, caveats=[]))
    if late.status != "ok":
        steps.append(say("late_not_stated"))
        return []
    steps.append(say("if_paid_on", day=day, rule=late.headline.params["name"],
                     parts=late.headline.params["parts"]))
    names = {"amount_due": "late_amount_due", "benefit_start": "late_benefit_start"}
    return [Figure(key=names[f.key], value=f.value, unit=f.unit) for f in late.figures if f.key in names]


def benefit_period(ctx: Ctx) -> Answer:
    """待遇享受期 for residents who paid in the concentrated window.

    With a payment day after the concentrated window ("4月1日交的，什么时候能报销"), the answer
    adds what paying on that day costs and from when it covers (the late-payment rule).
    """
    found = ctx.find(lambda n: n.benefit_period)
    if found is None:
        return ctx.answer("not_stated", say("period_not_stated", where=ctx.where))
    period = found.value
    ctx.cite(found.notice, period.cite)
    summary = say("benefit_period", where=ctx.where, start=period.start, end=period.end)
    figures = [Figure(key="benefit_start", value=period.start),
               Figure(key="benefit_end", value=period.end)]
    steps: list[Text] = []
    windows = ctx.find(lambda n: n.windows)
    day = ctx.q.payment_date
    if day and windows and window_status(windows.value, day)[0] in ("零星缴费期内", "已截止"):
        figures += _if_paid_late(ctx, day, steps)
        summary = say("then", first=summary, second=steps[-1])
    return ctx.answer("ok", summary, figures=figures, steps=steps)
