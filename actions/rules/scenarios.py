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
from actions.rules.context import Ctx, cn_date, yuan
from actions.rules.contract import Answer, Figure
from knowledge import dates
from knowledge.loader import Found
from knowledge.schema import Outcome, Scenario, Window

SCENARIO_NAMES = {
    "late_payment": "未在集中缴费期缴费",
    "newborn": "新生儿参保",
    "student": "大中专学生参保",
    "veteran": "退役军人参保",
    "employee_to_resident": "职工医保转居民医保",
    "resident_to_employee": "居民医保转职工医保",
    "cross_region": "跨统筹区转移接续",
    "low_income": "农村低收入人口动态参保",
    "identity_change": "参保年度内身份变更",
    "flexible_worker": "短期务工、灵活就业人员参加职工医保",
}
# Scenarios about employee insurance: its payments and waiting periods are not tied to the
# resident insurance's windows and benefit year.
EMPLOYEE_SIDE = {"cross_region", "resident_to_employee", "flexible_worker"}
EVENT_NAMES = {"birth_date": "出生日期", "stop_date": "原医保停保（中断）日期"}
START_WORDS = {
    "benefit_period_start": "从待遇享受期开始之日起享受待遇",
    "payment_date": "缴费后即享受待遇（从缴费之日起）",
    "birth_date": "从出生之日起享受待遇",
    "payment_month": "缴费当月起享受待遇",
    "next_month_after_payment": "缴费次月起享受待遇",
    "next_month_after_change": "身份变更的次月起享受新身份待遇",
    "no_waiting": "不设待遇享受等待期，缴费后即享受待遇",
    "no_benefit": "不能享受该年度待遇",
    "not_stated": "待遇从何时开始本通知未载明（请咨询当地医保经办机构）",
    "employee_instead": "享受新参加的职工医保待遇，暂停原居民医保待遇",
}


def _limit_words(sc: Scenario) -> str:
    """自出生日期起90日内（含90日）: the scenario's time limit in the notice's terms."""
    t = sc.threshold
    amount, unit = (t.days, "日") if t.days else ((t.months, "个月") if t.months else (t.years, "年"))
    return (f"自{EVENT_NAMES[sc.measured_from]}起{amount}{unit}内"
            f"（{'含' if t.inclusive else '不含'}{amount}{unit}）")


def start_words(o: Outcome) -> str:
    if o.start == "after_days":
        return f"从缴费之日起{o.days}日后（不含{o.days}日）享受待遇"
    if o.start == "after_months":
        return f"自缴费之日起设置{o.months}个月等待期，期满后享受待遇"
    return START_WORDS.get(o.start, o.start)


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


def amount_due(ctx: Ctx, o: Outcome) -> tuple[Decimal | None, str | None]:
    """What the resident pays under an outcome, with the words of how it is made up."""
    personal = ctx.find(lambda n: n.personal)
    if o.fee == "personal_no_subsidy" and personal:
        ctx.cite(personal.notice, personal.value.cite)
        return personal.value.yuan, "按个人缴费标准，不享受资助"
    if o.fee == "personal" and personal:
        ctx.cite(personal.notice, personal.value.cite)
        standard = personal.value.yuan
        subsidy = fees.subsidy_for(ctx, standard)
        if subsidy and subsidy[0] and subsidy[1].delivery in ("paid_by_bureau", "deducted"):
            return standard - subsidy[0], f"个人缴费标准{yuan(standard)}元扣除资助{yuan(subsidy[0])}元后"
        if subsidy and subsidy[0] and subsidy[1].delivery == "reimbursed":
            return standard, f"先按个人缴费标准（资助{yuan(subsidy[0])}元事后补发）"
        return standard, "按个人缴费标准"
    if o.fee == "paid_by_bureau":
        return Decimal(0), "由医保部门代缴"
    if o.fee == "personal_plus_subsidy":
        total = ctx.find(lambda n: n.total_standard)
        if total:
            ctx.cite(total.notice, total.value.cite)
            return total.value.yuan, "按个人缴费标准和政府补助标准之和"
        fiscal = ctx.find(lambda n: n.fiscal_subsidy)
        if personal and fiscal and not fiscal.value.total.at_least:
            ctx.cite(fiscal.notice, fiscal.value.total.cite)
            return personal.value.yuan + fiscal.value.total.yuan, "按个人缴费标准和政府补助标准之和"
    return None, None


def _branch(ctx: Ctx, sc: Scenario, steps: list[str], missing: list[str]) -> list[Outcome] | None:
    """The outcomes that apply, or None when an input is missing (``missing`` filled)."""
    q = ctx.q
    if sc.min_continuous:
        t = sc.min_continuous
        need = t.years or 0
        steps.append(f"条件：转换前连续参保{need}年{'（含）' if t.inclusive else ''}以上。")
        if q.continuous_years is None:
            missing.append("continuous_years")
        elif (q.continuous_years < need) or (q.continuous_years == need and not t.inclusive):
            steps.append(f"您连续参保{q.continuous_years}年，未达到该条件。")
            return sc.below_min
        else:
            steps.append(f"您连续参保{q.continuous_years}年，符合条件（{t.cite.quote}）。")
    if sc.threshold and sc.measured_from:
        t = sc.threshold
        event = getattr(q, sc.measured_from)
        steps.append(f"期限：{_limit_words(sc)}缴费。")
        if (event is None or q.payment_date is None) and q.past_limit is None and q.gap_months \
                and t.months:  # "断了2个月": the gap against a limit in months
            inside = q.gap_months < t.months or (q.gap_months == t.months and t.inclusive)
            steps.append(f"按您所说中断{q.gap_months}个月，{'在' if inside else '已超过'}{t.months}个月"
                         f"{'内' if inside else ''}。")
            return sc.within if inside else sc.beyond
        if (event is None or q.payment_date is None) and q.past_limit is not None:
            steps.append(f"按您所说，缴费{'已超过' if q.past_limit else '在'}期限{'' if q.past_limit else '内'}。")
            return sc.beyond if q.past_limit else sc.within
        if event is None:
            missing.append(sc.measured_from)
        if q.payment_date is None:
            missing.append("payment_date")
            if event is not None:
                last = dates.period_end(event, days=t.days or 0, months=t.months or 0,
                                        years=t.years or 0)
                steps.append(f"{EVENT_NAMES[sc.measured_from]}{cn_date(event)}，最晚应在"
                             f"{cn_date(last)}{'（含当日）' if t.inclusive else '前'}缴费（起算日不计入）。")
        if missing:
            return None
        end = dates.period_end(event, days=t.days or 0, months=t.months or 0,
                               years=t.years or 0)
        inside = dates.within(event, q.payment_date, inclusive=t.inclusive, days=t.days or 0,
                              months=t.months or 0, years=t.years or 0)
        limit = _limit_words(sc).split("内")[0].split("起")[-1]
        steps.append(f"{EVENT_NAMES[sc.measured_from]}{cn_date(event)}，期限最后一天为"
                     f"{cn_date(end)}（起算日不计入）；缴费日{cn_date(q.payment_date)}"
                     f"{f'在{limit}内，可以按期限内的规定享受' if inside else f'已超过{limit}'}。")
        if event.year == ctx.year - 1 and (sc.within_next_year or sc.beyond_next_year):
            steps.append(f"{event.year}年的事件，按{ctx.year}年（次年）待遇的规定计算。")
            return sc.within_next_year if inside else sc.beyond_next_year
        return sc.within if inside else sc.beyond
    if missing:
        return None
    return sc.within


def scenario(ctx: Ctx) -> Answer:
    """Evaluate the notice's rule for the question's topic."""
    topic = ctx.q.topic
    name = SCENARIO_NAMES[topic]
    on_time = _on_time_window(ctx) if topic == "late_payment" else None
    found = ctx.find(lambda n: getattr(n.scenarios, topic))
    if found is None and on_time is None:
        return _not_stated(ctx, name)
    steps: list[str] = []
    if topic == "identity_change":
        steps.extend(_subsidy_change_rules(ctx))
    missing: list[str] = []
    if on_time:  # paid inside the concentrated window: its own rule, late-payment rules aside
        name = f"在{on_time.value.name}内缴费"
        steps.append(f"缴费日在{on_time.value.name}内，按期缴费。")
        sc, notice = Scenario(within=[on_time.value.outcome]), on_time.notice
    else:
        sc, notice = found.value, found.notice
    branch = _branch(ctx, sc, steps, missing)
    outcomes = _for_identity(branch, ctx.q.categories)
    if outcomes and on_time is None and topic not in EMPLOYEE_SIDE:
        outcomes = _paid_in_window(ctx, outcomes, steps)
    for other in [o for o in branch or [] if o not in (outcomes or [])]:
        ctx.cite(notice, other.cite)
        steps.append(f"另：{_outcome_words(other)}。")
    for note in sc.notes:
        ctx.cite(notice, note.cite)
    notes = [n.text + "。" for n in sc.notes]
    if outcomes is None:
        for o in [*sc.within, *sc.beyond]:
            ctx.cite(notice, o.cite)
        rules = "；".join(_outcome_words(o) for o in sc.within)
        if sc.threshold and sc.measured_from:
            rules = f"{_limit_words(sc)}缴费的，{rules}"
            if sc.beyond:
                rules += "；超过期限的，" + "；".join(_outcome_words(o) for o in sc.beyond)
        return ctx.answer("needs_input", f"{ctx.where}{name}：{rules}。请提供"
                          + "、".join(_input_name(m) for m in missing) + "以便计算具体日期。",
                          steps=steps + notes, missing=missing)
    if not outcomes:
        return ctx.answer("not_stated", f"{ctx.where}{name}：您的情形本通知未载明，"
                          "请咨询当地医保经办机构。", steps=steps + notes)

    period = ctx.find(lambda n: n.benefit_period)
    if period:
        ctx.cite(period.notice, period.value.cite)
    period_start = period.value.start if period else None
    period_end = period.value.end if period else None
    figures: list[Figure] = []
    parts: list[str] = []
    caveats: list[str] = []
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
        text = _outcome_words(o)
        if due is not None:
            text += f"，{due_words}缴纳{yuan(due)}元"
        if start and end and start > end:
            text += f"；按此计算{cn_date(start)}才满足条件，已超出本待遇年度（{cn_date(end)}止），"
            text += "本年度不能享受待遇"
            start = None
        elif start:
            text += f"，待遇自{cn_date(start)}起" + (f"至{cn_date(end)}" if end else "")
        if o.start == "no_waiting":
            caveats.append("通知只写明不设等待期，未写明是否从出生或缴费前追溯享受待遇。"
                           if topic == "newborn" else "通知只写明不设等待期。")
        parts.append(text)
        computed.append((o, start, end, due))
    # Figures only when one outcome gives a benefit: with several, the summary shows each.
    giving = [c for c in computed if c[0].start != "no_benefit"]
    if len(giving) == 1:
        _, start, end, due = giving[0]
        if start:
            figures.append(Figure(key="benefit_start", label="待遇开始", value=start))
            if end:
                figures.append(Figure(key="benefit_end", label="待遇结束", value=end))
        if due is not None:
            figures.append(Figure(key="amount_due", label="应缴金额", value=due, unit="元"))
    if not ctx.q.payment_date and any(
            o.start not in ("benefit_period_start", "birth_date", "no_benefit",
                            "next_month_after_change") for o in outcomes):
        missing.append("payment_date")
    summary = f"{ctx.where}{name}：" + "；".join(parts) + "。"
    return ctx.answer("ok", summary, figures=figures, steps=steps + notes, caveats=caveats,
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


def _paid_in_window(ctx: Ctx, outcomes: list[Outcome], steps: list[str]) -> list[Outcome]:
    """Paid inside the concentrated window: the window's rule ("集中征缴期内缴纳…的，从1月1日起享受")
    applies to everyone who pays in it, so it replaces a later start or a higher fee."""
    window = _on_time_window(ctx)
    if window is None:
        return outcomes
    own = window.value.outcome
    swapped = [own if o.start in _WINDOW_BEATS else o for o in outcomes]
    if swapped != outcomes:
        ctx.cite(window.notice, own.cite)
        steps.append(f"缴费日在{window.value.name}内，按{window.value.name}缴费的规定："
                     f"{start_words(own)}。")
    return swapped


def _on_time_window(ctx: Ctx) -> Found[Window] | None:
    """The concentrated window the question's payment date falls in, if any."""
    day = ctx.q.payment_date
    if day is None:
        return None
    return ctx.find(lambda n: next((w for w in n.windows
                                    if w.kind == "concentrated" and w.start <= day <= w.end), None))


def _outcome_words(o: Outcome) -> str:
    who = f"{o.applies_to}：" if o.applies_to else ""
    return who + start_words(o)


INPUT_NAMES = {"birth_date": "出生日期", "stop_date": "原医保停保（中断）日期",
               "payment_date": "缴费日期", "continuous_years": "连续参保年数",
               "change_date": "身份变更日期"}


def _input_name(key: str) -> str:
    return INPUT_NAMES.get(key, key)


def _subsidy_change_rules(ctx: Ctx) -> list[str]:
    changes = ctx.find(lambda n: n.subsidy_changes)
    if changes is None:
        return []
    for c in changes.value:
        ctx.cite(changes.notice, c.cite)
    return [c.text + "。" for c in changes.value]


def _not_stated(ctx: Ctx, name: str) -> Answer:
    """No rule for this situation; for identity change, show the subsidy top-up rules; where
    the notice hands the topic to another document, name it."""
    found = ctx.find(lambda n: [r for r in n.referrals if ctx.q.topic in r.topics])
    if found:
        for r in found.value:
            ctx.cite(found.notice, r.cite)
        said = "；".join(r.text for r in found.value)
        docs = "、".join(r.doc_no for r in found.value if r.doc_no)
        held = f"本助手未收录{docs}，" if docs else "其他具体规定本通知未载明，"
        return ctx.answer("not_stated", f"{ctx.where}{name}：{said}。{held}请咨询当地医保经办机构或拨打12393。")
    if ctx.q.topic == "identity_change":
        changes = ctx.find(lambda n: n.subsidy_changes)
        if changes:
            for c in changes.value:
                ctx.cite(changes.notice, c.cite)
            return ctx.answer("ok", f"{ctx.where}{name}：" + "；".join(
                c.text for c in changes.value) + "。")
    return ctx.answer("not_stated", f"{ctx.where}{name}的规定本通知未载明，"
                      "请咨询当地医保经办机构或拨打12393。")


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
            figures = [Figure(key="standard", label="个人缴费标准", value=standard.value.yuan, unit="元"),
                       *answer.figures,
                       Figure(key="net_amount", label="个人实际负担", value=due.value, unit="元"),
                       Figure(key="pay_now", label="缴费时应缴", value=due.value, unit="元")]
            return answer.model_copy(update={"topic": "fee", "figures": figures})
    answer = fees.fee(ctx)
    window = _on_time_window(ctx)
    if window and answer.status == "ok":
        step = f"缴费日在{window.value.name}内，按期缴费。"
        return answer.model_copy(update={"steps": [step, *answer.steps]})
    return answer
