"""Answers that list what a notice says: scope, registration, channels, duplicates, refunds,
Huining's contribution-years bonus and the enrollment plan."""

from __future__ import annotations

from decimal import Decimal

from actions.rules.context import Ctx, cn_date, yuan
from actions.rules.contract import Answer, Figure
from knowledge import dates
from knowledge.schema import RefundRule

LISTS = {  # topic → (Notice field, what it is called)
    "scope": ("scope", "参保范围"),
    "registration": ("registration", "参保登记地点和材料"),
    "duplicate": ("duplicates", "重复参保处理"),
    "settlement": ("settlement", "跨年度住院结算"),
}
REFUND_REASONS = {
    "duplicate": "重复缴费", "death": "死亡", "employee": "参加职工医保",
    "other_region": "参加其他统筹地区居民医保", "enlisted": "应征入伍", "prison": "服刑",
    "wrong_region": "错缴异地", "identity_recognized": "缴费后被认定为资助对象",
}
BONUS_FIGURES = [("outpatient_limit_plus", "门诊年度限额提高", "元"),
                 ("inpatient_ratio_plus", "住院报销比例提高", "个百分点"),
                 ("inpatient_cap_plus", "住院年度最高限额提高", "元")]
CHANNEL_KINDS = {
    "bank_counter": "银行网点柜台", "mini_program": "微信小程序", "alipay": "支付宝",
    "app": "手机APP", "wechat": "微信公众号/微信平台", "door_to_door": "村（社区）上门收缴",
    "tax_office": "税务部门", "other": "其他渠道",
}


def cited_list(ctx: Ctx) -> Answer:
    field, name = LISTS[ctx.q.topic]
    found = ctx.find(lambda n: getattr(n, field))
    if found is None:
        return ctx.answer("not_stated", f"{ctx.where}的{name}本通知未载明，请咨询当地医保经办机构。")
    for item in found.value:
        ctx.cite(found.notice, item.cite)
    steps = [item.text + "。" for item in found.value]
    return ctx.answer("ok", f"{ctx.where}{name}：" + "；".join(i.text for i in found.value) + "。",
                      steps=steps)


def payment_channels(ctx: Ctx) -> Answer:
    found = ctx.find(lambda n: n.payment_channels)
    if found is None:
        return ctx.answer("not_stated", f"{ctx.where}的缴费渠道本通知未载明，请咨询当地税务部门。")
    for ch in found.value:
        ctx.cite(found.notice, ch.cite)
    names = "、".join(ch.name for ch in found.value)
    steps = [f"{CHANNEL_KINDS[ch.kind]}：{ch.name}" for ch in found.value]
    notes = ctx.find(lambda n: n.payment_notes)
    if notes:
        for note in notes.value:
            ctx.cite(notes.notice, note.cite)
            steps.append(note.text + "。")
    return ctx.answer("ok", f"{ctx.where}可通过以下渠道缴费：{names}。", steps=steps,
                      caveats=["具体缴费渠道以当地税务部门公告为准。"])


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
        return ctx.answer("not_stated", f"{ctx.where}的退费规定本通知未载明，请咨询当地医保经办机构。")
    rules = found.value
    reason = ctx.q.reason
    if reason is None:
        for r in rules:
            ctx.cite(found.notice, r.cite)
        steps = [f"{'、'.join(REFUND_REASONS[x] for x in r.reasons)}：{r.how or r.cite.quote}。"
                 for r in rules]
        return ctx.answer("needs_input", f"{ctx.where}退费规定如下，请说明退费原因以便判断。",
                          steps=steps, missing=["reason"])
    matching = [r for r in rules if reason in r.reasons]
    if not matching:
        return ctx.answer("not_stated", f"{ctx.where}因{REFUND_REASONS.get(reason, reason)}退费"
                          "本通知未载明，请咨询当地医保经办机构。")
    period = ctx.find(lambda n: n.benefit_period)
    if period and ctx.today > period.value.end and ctx.q.change_date is None:
        # Asked after the benefit year is over: the rules themselves, not a verdict on today.
        for r in matching:
            ctx.cite(found.notice, r.cite)
        rules_text = "；".join(_refund_rule_words(r, ctx) for r in matching)
        verdicts = {r.refundable for r in matching}
        figures = [Figure(key="refundable", label="能否退费", value="是" if verdicts.pop() else "否")
                   ] if len(verdicts) == 1 else []
        return ctx.answer("ok", f"{ctx.where}因{REFUND_REASONS[reason]}退费：{rules_text}。",
                          figures=figures)
    missing: list[str] = []
    for r in matching:
        applies = _rule_applies(r, ctx)
        if applies is None:
            missing.append("change_date" if r.within else "benefit_period")
            continue
        if applies:
            ctx.cite(found.notice, r.cite)
            verdict = "可以" if r.refundable else "不能"
            limit = ""
            if r.within and ctx.q.change_date is None:
                t = r.within
                span = f"{t.days}日" if t.days else (f"{t.months}个月" if t.months else f"{t.years}年")
                limit = f"须在{span}内办理；"
            when = "" if limit else f"{cn_date(ctx.today)}申请"
            return ctx.answer("ok", f"{ctx.where}因{REFUND_REASONS[reason]}，{when}{verdict}退费。"
                              + limit + (r.how or ""),
                              figures=[Figure(key="refundable", label="能否退费",
                                              value="是" if r.refundable else "否")])
    for r in matching:
        ctx.cite(found.notice, r.cite)
    if missing:
        return ctx.answer("needs_input", f"{ctx.where}因{REFUND_REASONS[reason]}退费有期限，"
                          "请提供相关日期。", missing=sorted(set(missing)))
    return ctx.answer("not_stated", f"{ctx.where}因{REFUND_REASONS[reason]}在"
                      f"{cn_date(ctx.today)}申请退费的情形本通知未载明。")


def _refund_rule_words(rule: RefundRule, ctx: Ctx) -> str:
    """可以/不能退费 and its condition, in words (待遇享受期开始前 / 集中缴费期结束前 / N个月内)."""
    verdict = "可以申请退费" if rule.refundable else "不予退费"
    when = ""
    if rule.until == "benefit_period_start" or rule.after == "benefit_period_start":
        period = ctx.find(lambda n: n.benefit_period)
        start = cn_date(period.value.start) if period else "待遇享受期开始"
        when = f"{start}（待遇享受期开始）{'前' if rule.until else '起'}"
    elif rule.until == "concentrated_window_end":
        windows = ctx.find(lambda n: [w for w in n.windows if w.kind == "concentrated"])
        when = f"集中缴费期结束（{cn_date(max(w.end for w in windows.value))}）前" if windows else "集中缴费期结束前"
    elif rule.within:
        t = rule.within
        when = f"{t.days}日内" if t.days else (f"{t.months}个月内" if t.months else f"{t.years}年内")
    how = f"，{rule.how}" if rule.how else ""
    return f"{when}{verdict}{how}"


def contribution_years(ctx: Ctx) -> Answer:
    """会宁县 缴费年限与待遇享受挂钩: what continuous years add to outpatient/inpatient limits."""
    found = ctx.find(lambda n: n.contribution_bonus)
    if found is None:
        return ctx.answer("not_stated", f"{ctx.where}没有连续缴费年限提高待遇的规定（本通知未载明）。")
    bonus = found.value
    ctx.cite(found.notice, bonus.cite)
    table = "；".join(f"{t.years}年：门诊限额+{yuan(t.outpatient_limit_plus)}元、住院报销比例"
                     f"+{yuan(t.inpatient_ratio_plus)}%、住院年度最高限额+{yuan(t.inpatient_cap_plus)}元"
                     for t in bonus.tiers)
    steps = [f"自{cn_date(bonus.effective_from)}起，按{bonus.counted_since_year}年以来连续参保缴费年限"
             f"分梯次提高：{table}（最高一档为“及以上”）。"]
    years = ctx.q.continuous_years
    if years is None:
        return ctx.answer("needs_input", f"{ctx.where}连续参保缴费年限越长报销越高：{table}。"
                          "请问您连续缴费几年？", steps=steps, missing=["continuous_years"])
    reached = [t for t in bonus.tiers if years >= t.years]
    t = reached[-1] if reached else None

    def plus(key: str) -> Decimal:
        return getattr(t, key) if t else Decimal(0)

    figures = [Figure(key=key, label=label, value=plus(key), unit=unit) for key, label, unit in BONUS_FIGURES]
    if ctx.q.base_amount is not None and t is not None:
        new_cap = ctx.q.base_amount + plus("inpatient_cap_plus")
        figures.append(Figure(key="inpatient_cap_new", label="提高后的住院年度最高限额", value=new_cap,
                              unit="元"))
        steps.append(f"按您说的原住院年度最高限额{yuan(ctx.q.base_amount)}元，提高后为{yuan(new_cap)}元"
                     f"（{yuan(ctx.q.base_amount)}+{yuan(plus('inpatient_cap_plus'))}）。")
    if t is None:
        summary = f"连续缴费{years}年，未达到{bonus.tiers[0].years}年，暂不提高报销标准。"
    else:
        summary = (f"{ctx.region.name}连续参保缴费{years}年：普通门诊年度报销限额提高"
                   f"{yuan(plus('outpatient_limit_plus'))}元，住院报销比例提高"
                   f"{yuan(plus('inpatient_ratio_plus'))}个百分点，住院年度最高报销限额提高"
                   f"{yuan(plus('inpatient_cap_plus'))}元。")
    return ctx.answer("ok", summary, figures=figures, steps=steps)


def plan(ctx: Ctx) -> Answer:
    """参保计划 / 征缴任务 and the township's working group: staff-facing, not for residents."""
    chain = [r.name for r in ctx.kb.gazetteer.chain(ctx.region.name)]
    for notice in ctx.notices:
        if notice.plan is None:
            continue
        for row in notice.plan.rows:
            resolved = ctx.kb.gazetteer.resolve(row.region)
            if resolved and resolved.name == chain[0]:
                ctx.cite(notice, notice.plan.cite)
                steps = [f"包抓组：{g.name}，组长{g.leader}；成员：{'、'.join(g.members)}"
                         for g in notice.contacts
                         if chain[0] in {ctx.kb.gazetteer.resolve(t).name for t in g.townships}]
                return ctx.answer("ok", f"{notice.plan.title}：{ctx.region.name}{row.target}人"
                                  f"（合计{notice.plan.total}人）。", steps=steps, figures=[
                                      Figure(key="target", label="计划人数", value=row.target,
                                             unit="人"),
                                      Figure(key="total", label="合计", value=notice.plan.total,
                                             unit="人")])
    return ctx.answer("not_stated", f"{ctx.where}的参保计划本通知未载明。")
