"""Answers that list what a notice says: scope, registration, channels, duplicates, refunds,
Huining's contribution-years bonus and the enrollment plan."""

from __future__ import annotations

from decimal import Decimal

from actions.rules.context import Ctx, span_words
from actions.rules.contract import Answer, Figure, Text, say
from knowledge import dates
from knowledge.schema import RefundRule

LISTS = {"scope": "scope", "registration": "registration", "duplicate": "duplicates",
         "settlement": "settlement"}  # topic → Notice field; what it is called: catalog list.*
BONUS_FIGURES = [("outpatient_limit_plus", "元"), ("inpatient_ratio_plus", "个百分点"),
                 ("inpatient_cap_plus", "元")]


def cited_list(ctx: Ctx) -> Answer:
    field, name = LISTS[ctx.q.topic], say(f"list.{ctx.q.topic}")
    found = ctx.find(lambda n: getattr(n, field))
    if found is None:
        return ctx.answer("not_stated", say("list_not_stated", where=ctx.where, name=name))
    for item in found.value:
        ctx.cite(found.notice, item.cite)
    steps = [say("notice_sentence", text=item.text) for item in found.value]
    if ctx.q.topic == "duplicate":  # what happens to the second payment
        refunds = ctx.find(lambda n: [r for r in n.refunds if "duplicate" in r.reasons])
        for r in refunds.value if refunds else []:
            ctx.cite(refunds.notice, r.cite)
            steps.append(say("duplicate_refund", rule=_refund_rule_words(r, ctx)))
    return ctx.answer("ok", say("scenario_answer", where=ctx.where, name=name,
                                parts=[say("notice_words", text=i.text) for i in found.value]),
                      steps=steps)


def payment_channels(ctx: Ctx) -> Answer:
    found = ctx.find(lambda n: n.payment_channels)
    if found is None:
        return ctx.answer("not_stated", say("channels_not_stated", where=ctx.where))
    for ch in found.value:
        ctx.cite(found.notice, ch.cite)
    names = [ch.name for ch in found.value]
    steps = [say("channel", kind=say(f"channel.{ch.kind}"), name=ch.name) for ch in found.value]
    notes = ctx.find(lambda n: n.payment_notes)
    if notes:
        for note in notes.value:
            ctx.cite(notes.notice, note.cite)
            steps.append(say("notice_sentence", text=note.text))
    return ctx.answer("ok", say("channels", where=ctx.where, names=names), steps=steps,
                      caveats=[say("channels_note")])


def _rule_applies(rule: RefundRule, ctx: Ctx) -> bool | None:
    """Whether a refund rule's date condition holds on the question's day (None: unknown)."""
    day = ctx.today
    if rule.until == "benefit_period_start" or rule.after == "benefit_period_start":
        period = ctx.find(lambda n: n.benefit_period)
        if period is None:
            return None
        start = period.value.start
        return day < start if rule.until else day >= start
    if rule.until == "concentrated_window_end":
        windows = ctx.find(lambda n: [w for w in n.windows if w.kind == "concentrated"])
        if windows is None:
            return None
        return day <= max(w.end for w in windows.value)
    if rule.within:
        if ctx.q.change_date is None:
            return True  # the answer states the time limit (see refund)
        t = rule.within
        return dates.within(ctx.q.change_date, day, inclusive=t.inclusive, days=t.days or 0,
                            months=t.months or 0, years=t.years or 0)
    return True


def refund(ctx: Ctx) -> Answer:
    """Can a payment be refunded, for the question's reason, on ``today``?"""
    found = ctx.find(lambda n: n.refunds)
    if found is None:
        return ctx.answer("not_stated", say("refund_not_stated", where=ctx.where))
    rules = found.value
    reason = ctx.q.reason
    if reason is None:
        for r in rules:
            ctx.cite(found.notice, r.cite)
        steps = [say("refund_rule", reasons=[say(f"reason.{x}") for x in r.reasons],
                     how=r.how or r.cite.quote) for r in rules]
        return ctx.answer("needs_input", say("refund_ask_reason", where=ctx.where),
                          steps=steps, missing=["reason"])
    matching = [r for r in rules if reason in r.reasons]
    if not matching:
        return ctx.answer("not_stated", say("refund_reason_not_stated", where=ctx.where,
                                            reason=say(f"reason.{reason}")))
    period = ctx.find(lambda n: n.benefit_period)
    if period and ctx.today > period.value.end and ctx.q.change_date is None:
        # Asked after the benefit year is over: the rules themselves, not a verdict on today.
        for r in matching:
            ctx.cite(found.notice, r.cite)
        rules_text = [_refund_rule_words(r, ctx) for r in matching]
        verdicts = {r.refundable for r in matching}
        figures = [Figure(key="refundable", value="是" if verdicts.pop() else "否")
                   ] if len(verdicts) == 1 else []
        return ctx.answer("ok", say("refund_rules", where=ctx.where, reason=say(f"reason.{reason}"),
                                    rules=rules_text), figures=figures)
    missing: list[str] = []
    for r in matching:
        applies = _rule_applies(r, ctx)
        if applies is None:
            missing.append("change_date" if r.within else "benefit_period")
            continue
        if applies:
            ctx.cite(found.notice, r.cite)
            verdict = say("refund.yes" if r.refundable else "refund.no")
            if r.within and ctx.q.change_date is None:
                headline = say("refund_within", where=ctx.where, reason=say(f"reason.{reason}"),
                               verdict=verdict, span=span_words(r.within), how=r.how or "")
            else:
                headline = say("refund_on_day", where=ctx.where, reason=say(f"reason.{reason}"),
                               day=ctx.today, verdict=verdict, how=r.how or "")
            return ctx.answer("ok", headline,
                              figures=[Figure(key="refundable",
                                              value="是" if r.refundable else "否")])
    for r in matching:
        ctx.cite(found.notice, r.cite)
    if missing:
        return ctx.answer("needs_input", say("refund_needs_date", where=ctx.where,
                                             reason=say(f"reason.{reason}")), missing=sorted(set(missing)))
    return ctx.answer("not_stated", say("refund_day_not_stated", where=ctx.where,
                                        reason=say(f"reason.{reason}"), day=ctx.today))


def _refund_rule_words(rule: RefundRule, ctx: Ctx) -> Text:
    """可以/不能退费 and its condition, in words (待遇享受期开始前 / 集中缴费期结束前 / N个月内)."""
    verdict = say("refund_rule.yes" if rule.refundable else "refund_rule.no")
    when = say("empty")
    if rule.until == "benefit_period_start" or rule.after == "benefit_period_start":
        period = ctx.find(lambda n: n.benefit_period)
        if period:
            when = say("until_period" if rule.until else "from_period", day=period.value.start)
    elif rule.until == "concentrated_window_end":
        windows = ctx.find(lambda n: [w for w in n.windows if w.kind == "concentrated"])
        if windows:
            when = say("until_window_end", day=max(w.end for w in windows.value))
    elif rule.within:
        when = say("within_span", span=span_words(rule.within))
    how = say("comma_then", text=rule.how) if rule.how else say("empty")
    return say("refund_rule_words", when=when, verdict=verdict, how=how)


def contribution_years(ctx: Ctx) -> Answer:
    """会宁县 缴费年限与待遇享受挂钩: what continuous years add to outpatient/inpatient limits."""
    found = ctx.find(lambda n: n.contribution_bonus)
    if found is None:
        return ctx.answer("not_stated", say("bonus_not_stated", where=ctx.where))
    bonus = found.value
    ctx.cite(found.notice, bonus.cite)
    table = [say("bonus_tier", years=t.years, outpatient=t.outpatient_limit_plus,
                 ratio=t.inpatient_ratio_plus, cap=t.inpatient_cap_plus) for t in bonus.tiers]
    steps = [say("bonus_rule", since=bonus.effective_from, counted=bonus.counted_since_year, table=table)]
    years = ctx.q.continuous_years
    if years is None:
        return ctx.answer("needs_input", say("bonus_ask_years", where=ctx.where, table=table),
                          steps=steps, missing=["continuous_years"])
    reached = [t for t in bonus.tiers if years >= t.years]
    t = reached[-1] if reached else None

    def plus(key: str) -> Decimal:
        return getattr(t, key) if t else Decimal(0)

    figures = [Figure(key=key, value=plus(key), unit=unit) for key, unit in BONUS_FIGURES]
    if ctx.q.base_amount is not None and t is not None:
        new_cap = ctx.q.base_amount + plus("inpatient_cap_plus")
        figures.append(Figure(key="inpatient_cap_new", value=new_cap,
                              unit="元"))
        steps.append(say("bonus_new_cap", base=ctx.q.base_amount, new=new_cap,
                         plus=plus("inpatient_cap_plus")))
    if t is None:
        summary = say("bonus_not_reached", years=years, first=bonus.tiers[0].years)
    else:
        summary = say("bonus", place=ctx.region.name, years=years,
                      outpatient=plus("outpatient_limit_plus"), ratio=plus("inpatient_ratio_plus"),
                      cap=plus("inpatient_cap_plus"))
    return ctx.answer("ok", summary, figures=figures, steps=steps)


def plan(ctx: Ctx) -> Answer:
    """参保计划 / 征缴任务 and the township's working group with its phone (附件2/3 as published)."""
    chain = [r.name for r in ctx.kb.gazetteer.chain(ctx.region.name)]
    for notice in ctx.notices:
        if notice.plan is None:
            continue
        for row in notice.plan.rows:
            resolved = ctx.kb.gazetteer.resolve(row.region)
            if resolved and resolved.name == chain[0]:
                ctx.cite(notice, notice.plan.cite)
                steps = [say("plan_group", name=g.name, leader=g.leader, members=g.members)
                         for g in notice.contacts
                         if chain[0] in {ctx.kb.gazetteer.resolve(t).name for t in g.townships}]
                return ctx.answer("ok", say("plan", title=notice.plan.title, place=ctx.region.name,
                                            target=row.target, total=notice.plan.total),
                                  steps=steps, figures=[
                                      Figure(key="target", value=row.target,
                                             unit="人"),
                                      Figure(key="total", value=notice.plan.total, unit="人",
                                             label_key="plan_total")])
    return ctx.answer("not_stated", say("plan_not_stated", where=ctx.where))
