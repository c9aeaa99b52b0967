"""Payment windows (缴费期) and the benefit period (待遇享受期) of a place and year."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from actions.rules import scenarios
from actions.rules.context import Ctx, cn_date
from actions.rules.contract import Answer, Figure
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
        return ctx.answer("not_stated", f"{ctx.where}的缴费期本通知未载明。")
    windows = found.value
    figures: list[Figure] = []
    steps: list[str] = []
    caveats: list[str] = []
    for w in windows:
        ctx.cite(found.notice, w.cite)
        prefix = "window" if w.kind == "concentrated" else "sporadic"
        figures += [Figure(key=f"{prefix}_start", label=f"{w.name}开始", value=w.start),
                    Figure(key=f"{prefix}_end", label=f"{w.name}截止", value=w.end)]
        steps.append(f"{w.name}：{cn_date(w.start)}至{cn_date(w.end)}。")
        if w.tentative:
            ctx.cite(found.notice, w.tentative.cite)
            caveats.append(w.tentative.text)
    day = ctx.q.payment_date or ctx.today
    status, w = window_status(windows, day)
    figures.append(Figure(key="date_status", label=f"{cn_date(day)}状态", value=status))
    if status in ("缴费期内", "零星缴费期内"):
        left = (w.end - day).days
        figures.append(Figure(key="days_left", label="距截止天数", value=left, unit="天"))
        last_day = "，当天是最后一天" if ctx.q.payment_date else "，今天是最后一天"
        tail = f"，还剩{left}天（截止日当天仍可缴费）" if left else last_day
        summary = f"{ctx.where}{w.name}为{cn_date(w.start)}至{cn_date(w.end)}，{cn_date(day)}处于{w.name}期间{tail}。"
    elif status == "未开始":
        summary = f"{ctx.where}{w.name}为{cn_date(w.start)}至{cn_date(w.end)}，{cn_date(day)}尚未开始。"
    else:
        passed = (day - w.end).days
        figures.append(Figure(key="days_passed", label="已超过天数", value=passed, unit="天"))
        summary = f"{ctx.where}{w.name}已于{cn_date(w.end)}截止（已过{passed}天）。"
    if status in ("零星缴费期内", "已截止"):
        figures += _if_paid_late(ctx, day, steps)
    elif status == "缴费期内" and ctx.q.payment_date:
        period = ctx.find(lambda n: n.benefit_period)
        start = scenarios.start_date(w.outcome, day, None, None, period.value.start if period else None)
        ctx.cite(found.notice, w.outcome.cite)
        steps.append(f"在{w.name}内缴费的，{scenarios.start_words(w.outcome)}"
                     + (f"（{cn_date(start)}起）。" if start else "。"))
    w_outcome = windows[0].outcome
    ctx.cite(found.notice, w_outcome.cite)
    return ctx.answer("ok", summary, figures=figures, steps=steps, caveats=caveats)


def _if_paid_late(ctx: Ctx, day: date, steps: list[str]) -> list[Figure]:
    """What paying on ``day``, after the concentrated window, costs and from when it covers."""
    late_q = ctx.q.model_copy(update={"topic": "late_payment", "payment_date": day})
    late = scenarios.scenario(replace(ctx, q=late_q, citations=ctx.citations, caveats=[]))
    if late.status != "ok":
        steps.append("错过集中缴费期如何处理，本通知未载明。")
        return []
    steps.append(f"若在{cn_date(day)}缴费：{late.summary.removeprefix(ctx.where)}")
    names = {"amount_due": ("late_amount_due", "此时缴费应缴"),
             "benefit_start": ("late_benefit_start", "此时缴费待遇开始")}
    return [Figure(key=names[f.key][0], label=names[f.key][1], value=f.value, unit=f.unit)
            for f in late.figures if f.key in names]


def benefit_period(ctx: Ctx) -> Answer:
    """待遇享受期 for residents who paid in the concentrated window.

    With a payment day after the concentrated window ("4月1日交的，什么时候能报销"), the answer
    adds what paying on that day costs and from when it covers (the late-payment rule).
    """
    found = ctx.find(lambda n: n.benefit_period)
    if found is None:
        return ctx.answer("not_stated", f"{ctx.where}的待遇享受期本通知未载明。")
    period = found.value
    ctx.cite(found.notice, period.cite)
    summary = (f"{ctx.where}在规定缴费期内缴费的，待遇享受期为{cn_date(period.start)}"
               f"至{cn_date(period.end)}。")
    figures = [Figure(key="benefit_start", label="待遇开始", value=period.start),
               Figure(key="benefit_end", label="待遇结束", value=period.end)]
    steps: list[str] = []
    windows = ctx.find(lambda n: n.windows)
    day = ctx.q.payment_date
    if day and windows and window_status(windows.value, day)[0] in ("零星缴费期内", "已截止"):
        figures += _if_paid_late(ctx, day, steps)
        summary += steps[-1]
    return ctx.answer("ok", summary, figures=figures, steps=steps)
