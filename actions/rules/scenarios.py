"""From when is a resident covered, and what do they pay, in a given situation.

One evaluator serves every scenario of the notice files (newborn, transfers, veterans,
students, late payment, rural low-income groups, identity change...): the notice's data says
the threshold and the outcomes, ``knowledge.dates`` does the arithmetic (see
knowledge/README.md for the semantics of each outcome).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from actions.rules import fees
from actions.rules.context import Ctx, span_words
from actions.rules.contract import Answer, Figure, Text, say
from knowledge import dates
from knowledge.loader import Found
from knowledge.schema import Notice, Outcome, Scenario, Window

SCENARIO_TOPICS = ["late_payment", "newborn", "student", "veteran", "employee_to_resident",
                   "resident_to_employee", "cross_region", "low_income", "identity_change",
                   "flexible_worker"]
# Scenarios about employee insurance: its payments and waiting periods are not tied to the
# resident insurance's windows and benefit year.
EMPLOYEE_SIDE = {"cross_region", "resident_to_employee", "flexible_worker"}


def _limit_words(sc: Scenario) -> Text:
    """自出生日期起90日内（含90日）: the scenario's time limit in the notice's terms."""
    t = sc.threshold
    return say("limit.inclusive" if t.inclusive else "limit.exclusive",
               event=say(f"event.{sc.measured_from}"), span=span_words(t))


def start_words(o: Outcome) -> Text:
    return say(f"start.{o.start}", days=o.days, months=o.months)


def start_date(o: Outcome, q_payment: date | None, birth: date | None, change: date | None,
               period_start: date | None) -> date | None:
    """The first covered day for an outcome, or None when the inputs do not settle it."""
    match o.start:
        case "benefit_period_start":
            return period_start
        case "birth_date":
            return birth
        case "next_month_after_change":
            return dates.first_of_next_month(change) if change else None
    if q_payment is None:
        return None
    match o.start:
        case "payment_date" | "no_waiting":
            return q_payment
        case "payment_month":
            return dates.first_of_month(q_payment)
        case "next_month_after_payment":
            return dates.first_of_next_month(q_payment)
        case "after_days":
            return dates.day_after_period(q_payment, days=o.days or 0)
        case "after_months":
            return dates.day_after_period(q_payment, months=o.months or 0)
    return None


def amount_due(ctx: Ctx, o: Outcome) -> tuple[Decimal | None, Text | None]:
    """What the resident pays under an outcome, with the words of how it is made up."""
    personal = ctx.find(lambda n: n.personal)
    if o.fee == "personal_no_subsidy" and personal:
        ctx.cite(personal.notice, personal.value.cite)
        return personal.value.yuan, say("due.no_subsidy")
    if o.fee == "personal" and personal:
        ctx.cite(personal.notice, personal.value.cite)
        standard = personal.value.yuan
        subsidy = fees.subsidy_for(ctx, standard)
        if subsidy and subsidy[0] and subsidy[1].delivery in ("paid_by_bureau", "deducted"):
            return standard - subsidy[0], say("due.deducted", standard=standard, subsidy=subsidy[0])
        if subsidy and subsidy[0] and subsidy[1].delivery == "reimbursed":
            return standard, say("due.reimbursed", subsidy=subsidy[0])
        return standard, say("due.standard")
    if o.fee == "paid_by_bureau":
        return Decimal(0), say("due.by_bureau")
    if o.fee == "personal_plus_subsidy":
        total = ctx.find(lambda n: n.total_standard)
        if total:
            ctx.cite(total.notice, total.value.cite)
            return total.value.yuan, say("due.with_fiscal")
        fiscal = ctx.find(lambda n: n.fiscal_subsidy)
        if personal and fiscal and not fiscal.value.total.at_least:
            ctx.cite(fiscal.notice, fiscal.value.total.cite)
            return personal.value.yuan + fiscal.value.total.yuan, say("due.with_fiscal")
    return None, None


def _branch(ctx: Ctx, sc: Scenario, notice: Notice, steps: list[Text],
            missing: list[str]) -> list[Outcome] | None:
    """The outcomes that apply, or None when an input is missing (``missing`` filled)."""
    q = ctx.q
    if sc.min_continuous:
        t = sc.min_continuous
        need = t.years or 0
        steps.append(say("min_years.inclusive" if t.inclusive else "min_years", years=need))
        if q.continuous_years is None:
            missing.append("continuous_years")
        elif (q.continuous_years < need) or (q.continuous_years == need and not t.inclusive):
            steps.append(say("min_years.not_met", years=q.continuous_years))
            return sc.below_min
        else:
            steps.append(say("min_years.met", years=q.continuous_years, quote=t.cite.quote))
    if sc.threshold and sc.measured_from:
        t = sc.threshold
        event = getattr(q, sc.measured_from)
        steps.append(say("limit_step", limit=_limit_words(sc)))
        # "断了2个月" / "生下来100多天了": an amount said, dates unknown, against the limit's unit.
        unit, said, limit = ("months", q.gap_months, t.months) if t.months else ("days", q.elapsed_days, t.days)
        if (event is None or q.payment_date is None) and q.past_limit is None and said and limit:
            inside = said < limit or (said == limit and t.inclusive)
            steps.append(say(f"said.{unit}.{'inside' if inside else 'beyond'}", said=said, limit=limit))
            return sc.within if inside else sc.beyond
        if (event is None or q.payment_date is None) and q.past_limit is not None:
            steps.append(say("said_beyond" if q.past_limit else "said_within"))
            return sc.beyond if q.past_limit else sc.within
        if event is None:
            missing.append(sc.measured_from)
        if q.payment_date is None:
            missing.append("payment_date")
            if event is not None:
                last = dates.period_end(event, days=t.days or 0, months=t.months or 0,
                                        years=t.years or 0)
                steps.append(say("latest_day.inclusive" if t.inclusive else "latest_day",
                                 event=say(f"event.{sc.measured_from}"), day=event, last=last))
                if sc.within_next_year and last.year > event.year:  # 安康: 出生次年 may be chosen
                    ctx.cite(notice, sc.within_next_year[0].cite)
                    nxt = event.year + 1
                    steps.append(say("next_year_option", last=last, year=nxt,
                                     start=date(nxt, 1, 1), end=date(nxt, 12, 31)))
        if missing:
            return None
        end = dates.period_end(event, days=t.days or 0, months=t.months or 0,
                               years=t.years or 0)
        inside = dates.within(event, q.payment_date, inclusive=t.inclusive, days=t.days or 0,
                              months=t.months or 0, years=t.years or 0)
        steps.append(say("limit_check.inside" if inside else "limit_check.beyond",
                         event=say(f"event.{sc.measured_from}"), day=event, end=end,
                         paid=q.payment_date, limit=span_words(t)))
        if event.year == ctx.year - 1 and (sc.within_next_year or sc.beyond_next_year):
            steps.append(say("next_year_rule", event_year=event.year, year=ctx.year))
            return sc.within_next_year if inside else sc.beyond_next_year
        return sc.within if inside else sc.beyond
    if missing:
        return None
    return sc.within


def scenario(ctx: Ctx) -> Answer:
    """Evaluate the notice's rule for the question's topic."""
    topic = ctx.q.topic
    name = say(f"scenario.{topic}")
    on_time = _on_time_window(ctx) if topic == "late_payment" else None
    found = ctx.find(lambda n: getattr(n.scenarios, topic))
    if found is None and on_time is None:
        return _not_stated(ctx, name)
    steps: list[str] = []
    if topic == "identity_change":
        steps.extend(_subsidy_change_rules(ctx))
    missing: list[str] = []
    if on_time:  # paid inside the concentrated window: its own rule, late-payment rules aside
        name = say("scenario.on_time", window=on_time.value.name)
        steps.append(say("paid_on_time", window=on_time.value.name))
        sc, notice = Scenario(within=[on_time.value.outcome]), on_time.notice
    else:
        sc, notice = found.value, found.notice
    branch = _branch(ctx, sc, notice, steps, missing)
    outcomes = _for_identity(branch, ctx.q.categories)
    if outcomes and on_time is None and topic not in EMPLOYEE_SIDE:
        outcomes = _paid_in_window(ctx, outcomes, steps)
    for other in [o for o in branch or [] if o not in (outcomes or [])]:
        ctx.cite(notice, other.cite)
        steps.append(say("other_outcome", outcome=_outcome_words(other)))
    for note in sc.notes:
        ctx.cite(notice, note.cite)
    notes = [say("notice_sentence", text=n.text) for n in sc.notes]
    if outcomes is None:
        for o in [*sc.within, *sc.beyond]:
            ctx.cite(notice, o.cite)
        within = [_outcome_words(o) for o in sc.within]
        if sc.threshold and sc.measured_from:
            beyond = [_outcome_words(o) for o in sc.beyond]
            rules = say("rules.limit_beyond" if beyond else "rules.limit", limit=_limit_words(sc),
                        within=within, beyond=beyond)
        else:
            rules = say("rules", within=within)
        return ctx.answer("needs_input", say("scenario_ask", where=ctx.where, name=name, rules=rules,
                                             inputs=[say(f"input.{m}") for m in missing]),
                          steps=steps + notes, missing=missing)
    if not outcomes:
        return ctx.answer("not_stated", say("scenario_not_for_you", where=ctx.where, name=name),
                          steps=steps + notes)

    period = ctx.find(lambda n: n.benefit_period)
    if period:
        ctx.cite(period.notice, period.value.cite)
    period_start = period.value.start if period else None
    period_end = period.value.end if period else None
    figures: list[Figure] = []
    parts: list[Text] = []
    caveats: list[Text] = []
    computed: list[tuple[Outcome, date | None, date | None, Decimal | None]] = []
    for o in outcomes:
        ctx.cite(notice, o.cite)
        due, due_words = amount_due(ctx, o)
        start = None
        if o.start != "no_benefit":
            start = start_date(o, ctx.q.payment_date, ctx.q.birth_date, ctx.q.change_date,
                               period_start)
        end = None if topic in EMPLOYEE_SIDE else period_end
        if o.ends == "birth_year_end" and ctx.q.birth_date:
            end = date(ctx.q.birth_date.year, 12, 31)
        if start and period_start and start < period_start and topic not in EMPLOYEE_SIDE:
            start = period_start
        extras: list[Text] = []
        if due is not None:
            extras.append(say("part.due", words=due_words, due=due))
        if start and end and start > end:
            extras.append(say("part.too_late", start=start, end=end))
            start = None
        elif start:
            extras.append(say("part.from_to", start=start, end=end) if end else
                          say("part.from", start=start))
        if o.start == "no_waiting":
            caveats.append(say("no_waiting_only.newborn" if topic == "newborn" else "no_waiting_only"))
        parts.append(say("part", outcome=_outcome_words(o), extras=extras))
        computed.append((o, start, end, due))
    # Figures only when one outcome gives a benefit: with several, the summary shows each.
    giving = [c for c in computed if c[0].start != "no_benefit"]
    if len(giving) == 1:
        _, start, end, due = giving[0]
        if start:
            figures.append(Figure(key="benefit_start", value=start))
            if end:
                figures.append(Figure(key="benefit_end", value=end))
        if due is not None:
            figures.append(Figure(key="amount_due", value=due, unit="元"))
    if not ctx.q.payment_date and any(
            o.start not in ("benefit_period_start", "birth_date", "no_benefit",
                            "next_month_after_change") for o in outcomes):
        missing.append("payment_date")
    return ctx.answer("ok", say("scenario_answer", where=ctx.where, name=name, parts=parts),
                      figures=figures, steps=steps + notes, caveats=caveats,
                      missing=missing)


def _for_identity(outcomes: list[Outcome] | None, categories: list[str]) -> list[Outcome] | None:
    """The outcomes for the resident's identities, else those meant for everyone else; with an
    identity no outcome names (脱贫人口 under a rule for 低保、特困…) none: not stated."""
    if not outcomes:
        return outcomes
    mine = [o for o in outcomes if set(o.categories) & set(categories)]
    general = [o for o in outcomes if not o.categories]
    return mine or general or ([] if categories else outcomes)


# Outcomes no better for the resident than paying in the concentrated window itself.
_WINDOW_BEATS = {"payment_date", "payment_month", "next_month_after_payment", "after_days",
                 "after_months", "no_benefit"}


def _paid_in_window(ctx: Ctx, outcomes: list[Outcome], steps: list[Text]) -> list[Outcome]:
    """Paid inside the concentrated window: the window's rule ("集中征缴期内缴纳…的，从1月1日起享受")
    applies to everyone who pays in it, so it replaces a later start or a higher fee."""
    window = _on_time_window(ctx)
    if window is None:
        return outcomes
    own = window.value.outcome
    swapped = [own if o.start in _WINDOW_BEATS else o for o in outcomes]
    if swapped != outcomes:
        ctx.cite(window.notice, own.cite)
        steps.append(say("window_rule_applies", window=window.value.name, start_words=start_words(own)))
    return swapped


def _on_time_window(ctx: Ctx) -> Found[Window] | None:
    """The concentrated window the question's payment date falls in, if any."""
    day = ctx.q.payment_date
    if day is None:
        return None
    return ctx.find(lambda n: next((w for w in n.windows
                                    if w.kind == "concentrated" and w.start <= day <= w.end), None))


def _outcome_words(o: Outcome) -> Text:
    if o.applies_to:
        return say("outcome_for", who=o.applies_to, start=start_words(o))
    return start_words(o)


def _subsidy_change_rules(ctx: Ctx) -> list[Text]:
    changes = ctx.find(lambda n: n.subsidy_changes)
    if changes is None:
        return []
    for c in changes.value:
        ctx.cite(changes.notice, c.cite)
    return [say("notice_sentence", text=c.text) for c in changes.value]


def _not_stated(ctx: Ctx, name: Text) -> Answer:
    """No rule for this situation; for identity change, show the subsidy top-up rules; where
    the notice hands the topic to another document, name it."""
    found = ctx.find(lambda n: [r for r in n.referrals if ctx.q.topic in r.topics])
    if found:
        for r in found.value:
            ctx.cite(found.notice, r.cite)
        said = [say("notice_words", text=r.text) for r in found.value]
        docs = [r.doc_no for r in found.value if r.doc_no]
        return ctx.answer("not_stated", say("referral.docs" if docs else "referral", where=ctx.where,
                                            name=name, said=said, docs=docs))
    if ctx.q.topic == "identity_change":
        changes = ctx.find(lambda n: n.subsidy_changes)
        if changes:
            for c in changes.value:
                ctx.cite(changes.notice, c.cite)
            return ctx.answer("ok", say("scenario_answer", where=ctx.where, name=name, parts=[
                say("notice_words", text=c.text) for c in changes.value]))
    steps: list[Text] = []
    if ctx.q.topic == "late_payment":  # the notice is silent on paying late: its windows at least
        windows = ctx.find(lambda n: n.windows)
        for w in windows.value if windows else []:
            ctx.cite(windows.notice, w.cite)
            steps.append(say("window", name=w.name, start=w.start, end=w.end))
    return ctx.answer("not_stated", say("scenario_not_stated", where=ctx.where, name=name), steps=steps)


def _paid_late(ctx: Ctx) -> bool:
    """Paid after the concentrated window of the benefit year (a day, or "过了缴费期" said)."""
    windows = ctx.find(lambda n: [w for w in n.windows if w.kind == "concentrated"])
    if windows is None:
        return False
    day = ctx.q.payment_date
    if day is None:
        return ctx.q.paid_after_window
    return all(day > w.end for w in windows.value)


def fee(ctx: Ctx) -> Answer:
    """What a resident pays. Paid after the concentrated window, the notice's late-payment rule
    sets the amount (贵州 830元, 安康 no subsidy), so ``fee`` and ``late_payment`` agree."""
    if _paid_late(ctx) and ctx.find(lambda n: n.scenarios.late_payment):
        late = Ctx(ctx.kb, ctx.q.model_copy(update={"topic": "late_payment"}), ctx.region,
                   ctx.year, ctx.notices, ctx.today, list(ctx.caveats))
        answer = scenario(late)
        due = answer.figure("amount_due")
        standard = ctx.find(lambda n: n.personal)
        if answer.status == "ok" and due is not None and standard is not None:
            figures = [Figure(key="standard", value=standard.value.yuan, unit="元"),
                       *answer.figures,
                       Figure(key="net_amount", value=due.value, unit="元"),
                       Figure(key="pay_now", value=due.value, unit="元")]
            return answer.model_copy(update={"topic": "fee", "figures": figures})
    answer = fees.fee(ctx)
    window = _on_time_window(ctx)
    if window and answer.status == "ok":
        step = say("paid_on_time", window=window.value.name)
        return answer.model_copy(update={"details": [step, *answer.details]})
    return answer
