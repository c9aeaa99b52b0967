"""What a resident pays: standard, subsidy, net amount; the fiscal subsidy behind it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from actions.rules.context import Ctx, cn_date, yuan
from actions.rules.contract import Answer, Figure
from knowledge.loader import Found
from knowledge.schema import Notice, Subsidy

DELIVERY = {
    "paid_by_bureau": "由医保部门代缴，个人无需缴费",
    "deducted": "缴费时直接扣除，个人只缴扣除资助后的部分",
    "reimbursed": "先按标准全额缴纳，资助资金事后补发（先缴后补）",
}


@dataclass
class SubsidyOption:
    category: str  # category id
    found: Found[Subsidy]
    amount: Decimal | None  # None: the notice does not state the amount


def personal_standard(ctx: Ctx) -> Found | None:
    found = ctx.find(lambda n: n.personal)
    if found:
        ctx.cite(found.notice, found.value.cite)
    return found


def _entry(notice: Notice, category: str | None) -> Subsidy | None:
    return next((s for s in notice.subsidies if s.category == category), None) if category else None


def _subsidy_entries(ctx: Ctx, category: str) -> list[tuple[str, Found[Subsidy]]]:
    """The nearest notice's entries for an identity: its own, else its tiers', else its parent's.

    One notice decides: a county that sets 低保 amounts by tier wins over a province that names
    低保 without an amount. More than one entry means the resident must say which tier.
    """
    cat = ctx.kb.categories[category]
    tiers = [c.id for c in ctx.kb.categories.values() if c.parent == category]
    for notice in ctx.notices:
        own = _entry(notice, category)
        if own:
            return [(category, Found(own, notice))]
        split = [(t, Found(e, notice)) for t in tiers if (e := _entry(notice, t))]
        if split:
            return split
        parent = _entry(notice, cat.parent)
        if parent:
            return [(category, Found(parent, notice))]
    return []


def subsidy_amount(entry: Subsidy, standard: Decimal) -> Decimal | None:
    """Full → the standard; fixed → its amount, never more than the standard."""
    if entry.kind == "full":
        return standard
    if entry.kind == "fixed" and entry.amount is not None:
        return min(entry.amount, standard)
    return None


def lost_outside_window(ctx: Ctx, found: Found[Subsidy]) -> bool:
    """Whether the subsidy is lost because the payment date is outside the concentrated window."""
    rule = found.value.concentrated_window_only
    day = ctx.q.payment_date
    if rule is None or (day is None and not ctx.q.paid_after_window):
        return False
    windows = ctx.find(lambda n: [w for w in n.windows if w.kind == "concentrated"])
    if windows is None or (day is not None and any(w.start <= day <= w.end for w in windows.value)):
        return False
    ctx.cite(found.notice, rule.cite)
    return True


def subsidy_for(ctx: Ctx, standard: Decimal) -> tuple[Decimal, Subsidy] | None:
    """The highest determinable subsidy for the question's identities (None: none applies)."""
    best: tuple[Decimal, Found[Subsidy]] | None = None
    for category in ctx.q.categories:
        if category not in ctx.kb.categories:
            continue
        entries = _subsidy_entries(ctx, category)
        if len(entries) != 1:
            continue
        found = entries[0][1]
        amount = subsidy_amount(found.value, standard)
        if amount is not None and (best is None or amount > best[0]):
            best = (amount, found)
    if best is None:
        return None
    amount, found = best
    ctx.cite(found.notice, found.value.cite)
    return (Decimal(0) if lost_outside_window(ctx, found) else amount), found.value


def fee(ctx: Ctx) -> Answer:
    """个人缴费标准、资助、个人实际负担 for the question's identities (就高不重复)."""
    std_found = personal_standard(ctx)
    if std_found is None:
        return ctx.answer("not_stated", f"{ctx.where}的个人缴费标准本通知未载明。")
    standard: Decimal = std_found.value.yuan
    figures = [Figure(key="standard", label="个人缴费标准", value=standard, unit="元")]
    steps = [f"{ctx.where}个人缴费标准为{yuan(standard)}元/人/年。"]
    if ctx.q.compare_previous:
        steps.extend(_previous_standard(ctx, standard, figures))
    if not ctx.q.categories:
        figures += [Figure(key="net_amount", label="个人实际负担", value=standard, unit="元"),
                    Figure(key="pay_now", label="缴费时应缴", value=standard, unit="元")]
        return ctx.answer("ok", f"{ctx.where}个人缴费标准为{yuan(standard)}元；"
                                "如属特困、低保等资助对象，可告诉我身份再算资助后金额。",
                          figures=figures, steps=steps)

    cutoff = ctx.find(lambda n: n.identity_cutoff)
    if cutoff and ctx.q.change_date and ctx.q.change_date >= cutoff.value.day:
        ctx.cite(cutoff.notice, cutoff.value.cite)
        steps.append(cutoff.value.text + "。")
        figures += [Figure(key="subsidy", label="资助金额", value=Decimal(0), unit="元"),
                    Figure(key="net_amount", label="个人实际负担", value=standard, unit="元"),
                    Figure(key="pay_now", label="缴费时应缴", value=standard, unit="元")]
        return ctx.answer("ok", f"{ctx.where}个人缴费标准{yuan(standard)}元；{cn_date(ctx.q.change_date)}"
                          f"认定的身份作为下一年认定依据，本年度不享受资助，按{yuan(standard)}元缴费。",
                          figures=figures, steps=steps)
    options: list[SubsidyOption] = []
    for category in ctx.q.categories:
        cat = ctx.kb.categories.get(category)
        if cat is None:
            continue
        entries = _subsidy_entries(ctx, category)
        if len(entries) > 1:
            listing = "；".join(
                f"{ctx.kb.categories[c].name}资助{yuan(subsidy_amount(f.value, standard) or 0)}元"
                for c, f in entries)
            for _, f in entries:
                ctx.cite(f.notice, f.value.cite)
            note = entries[0][1].value.delivery_note
            if note and all(f.value.delivery_note == note for _, f in entries):
                ctx.cite(entries[0][1].notice, note.cite)
                steps.append(f"资助方式：{note.text}。")
            return ctx.answer("needs_input", f"{ctx.where}{cat.name}分档资助：{listing}。"
                              "请问您属于哪一类？", figures=figures, steps=steps,
                              missing=["category_tier"])
        if not entries:
            steps.extend(_identity_rules(ctx, category) or [f"本通知未列出“{cat.name}”的参保资助。"])
            continue
        entry = entries[0][1]
        ctx.cite(entry.notice, entry.value.cite)
        amount = subsidy_amount(entry.value, standard)
        options.append(SubsidyOption(category, entry, amount))
        if amount is None:
            ref = f"，按{entry.value.refers_to}执行" if entry.value.refers_to else ""
            steps.append(f"{cat.name}：本通知未载明资助金额{ref}。")
        else:
            floor = "不低于" if entry.value.at_least else ""
            kind = "全额资助" if entry.value.kind == "full" else "定额资助"
            steps.append(f"{cat.name}：{kind}{floor}{yuan(amount)}元。")
        for part in entry.value.parts:  # who pays which part (省45元、市10元、县不少于15元)
            ctx.cite(entry.notice, part.cite)
            steps.append(part.text + "。")

    known = [o for o in options if o.amount is not None]
    if not options:
        figures += [Figure(key="net_amount", label="个人实际负担", value=standard, unit="元"),
                    Figure(key="pay_now", label="缴费时应缴", value=standard, unit="元")]
        return ctx.answer("ok", f"{ctx.where}个人缴费标准{yuan(standard)}元；所问身份不在本通知的"
                          "资助范围内，按标准缴费。", figures=figures, steps=steps)
    if not known:
        # Amount set by another notice; when paid first and subsidised later (先缴后补) the
        # resident still knows what to pay now.
        first = options[0].found.value
        if first.delivery_note:
            ctx.cite(options[0].found.notice, first.delivery_note.cite)
            steps.append(f"资助方式：{first.delivery_note.text}。")
        if first.delivery == "reimbursed":
            figures.append(Figure(key="pay_now", label="缴费时应缴", value=standard, unit="元"))
            return ctx.answer("ok", f"{ctx.where}个人缴费标准{yuan(standard)}元，需先按标准缴纳"
                              f"{yuan(standard)}元；资助金额本通知未载明，缴费后按规定补助。",
                              figures=figures, steps=steps)
        return ctx.answer("not_stated", f"{ctx.where}个人缴费标准{yuan(standard)}元；"
                          "所问身份的资助金额本通知未载明。", figures=figures, steps=steps)

    best = max(known, key=lambda o: o.amount or 0)
    caveats: list[str] = []
    if len(options) > 1:
        rule = ctx.find(lambda n: n.multiple_identity)
        if rule:
            ctx.cite(rule.notice, rule.value.cite)
            if rule.value.rule == "highest":
                steps.append("具有多重身份的，按就高不就低、不重复享受的原则资助。")
            else:
                steps.append("多重身份只能按一种身份享受资助；通知未规定按哪一种，"
                             "此处按资助最高的身份计算。")
                caveats.append("具体按哪一种身份资助以当地医保部门认定为准。")
        else:
            caveats.append("本通知未载明多重身份如何资助，此处按资助最高的身份计算。")

    entry = best.found.value
    subsidy = best.amount or Decimal(0)
    if lost_outside_window(ctx, best.found):
        steps.append(entry.concentrated_window_only.text + "。")
        subsidy = Decimal(0)
    net = standard - subsidy
    pay_now = standard if subsidy == 0 else {"paid_by_bureau": Decimal(0), "deducted": net,
                                              "reimbursed": standard}.get(entry.delivery)
    name = ctx.kb.categories[best.category].name
    figures += [Figure(key="subsidy", label="资助金额", value=subsidy, unit="元"),
                Figure(key="net_amount", label="个人实际负担", value=net, unit="元"),
                Figure(key="category", label="按此身份资助", value=name)]
    if pay_now is not None:
        figures.append(Figure(key="pay_now", label="缴费时应缴", value=pay_now, unit="元"))
    how = DELIVERY.get(entry.delivery, "资助发放方式本通知未载明")
    if entry.delivery_note:
        ctx.cite(best.found.notice, entry.delivery_note.cite)
        how = f"{how}：{entry.delivery_note.text}"
    steps.append(f"资助方式：{how}。")
    if floor:
        caveats.append(f"资助标准为“不低于{yuan(subsidy)}元”，实际金额以当地规定为准。")
    floor = entry.at_least and subsidy > 0  # "不低于0元" is no figure
    summary = (f"{ctx.where}个人缴费标准{yuan(standard)}元，{name}资助"
               f"{'不低于' if floor else ''}{yuan(subsidy)}元，"
               f"个人实际负担{'不超过' if floor else ''}{yuan(net)}元。")
    if pay_now is not None and pay_now != net:
        summary += f"缴费时需先缴{yuan(pay_now)}元，资助部分事后补发。"
    return ctx.answer("ok", summary, figures=figures, steps=steps, caveats=caveats)


def _previous_standard(ctx: Ctx, standard: Decimal, figures: list[Figure]) -> list[str]:
    """比上一年提高X元: the increase the notice states, and the previous standard it implies."""
    found = ctx.find(lambda n: n.personal_increase)
    if found is None:
        return ["本通知未载明上一年的个人缴费标准。"]
    ctx.cite(found.notice, found.value.cite)
    increase = found.value.yuan
    figures += [Figure(key="standard_increase", label="比上一年提高", value=increase, unit="元"),
                Figure(key="previous_standard", label="上一年个人缴费标准", value=standard - increase,
                       unit="元")]
    return [f"比上一年提高{yuan(increase)}元，上一年为{yuan(standard - increase)}元/人/年"
            f"（{yuan(standard)}−{yuan(increase)}）。"]


def _identity_rules(ctx: Ctx, category: str) -> list[str]:
    """The notice's words on an identity it gives no subsidy entry (稳定脱贫人口 不再享受…)."""
    cat = ctx.kb.categories[category]
    names = [cat.name, *cat.aliases]
    found = ctx.find(lambda n: [c for c in n.subsidy_changes if any(a in c.text for a in names)])
    if found is None:
        return []
    for c in found.value:
        ctx.cite(found.notice, c.cite)
    return [c.text + "。" for c in found.value]


def critical_illness(ctx: Ctx) -> Answer:
    """大病保险筹资标准: the figure only; the notices do not say how it is split or paid."""
    found = ctx.find(lambda n: n.critical_illness)
    if found is None:
        return ctx.answer("not_stated", f"{ctx.where}的大病保险筹资标准本通知未载明。")
    ctx.cite(found.notice, found.value.cite)
    amount = found.value.yuan
    return ctx.answer("ok", f"{ctx.where}大病保险筹资标准为每人每年{yuan(amount)}元。",
                      figures=[Figure(key="critical_illness", label="大病保险筹资标准",
                                      value=amount, unit="元")],
                      steps=[f"{found.value.cite.quote}。"])


def _tier_for(ctx: Ctx, notice: Notice):
    chain = [r.name for r in ctx.kb.gazetteer.chain(ctx.region.name)]
    for place in chain:
        for tier in notice.fiscal_subsidy.tiers:
            if place in tier.regions:
                return tier, place
    return None, None


LEVELS = [("central", "中央财政"), ("province", "省级财政"), ("city", "市级财政"),
          ("county", "县区财政"), ("city_county", "市县财政")]


def fiscal_subsidy(ctx: Ctx) -> Answer:
    """人均财政补助: total, by level, and the region's row of the tier table."""
    found = ctx.find(lambda n: n.fiscal_subsidy)
    if found is None:
        return ctx.answer("not_stated", f"{ctx.where}的财政补助标准本通知未载明。")
    fs = found.value
    ctx.cite(found.notice, fs.total.cite)
    floor = "不低于" if fs.total.at_least else ""
    figures = [Figure(key="total", label="人均财政补助", value=fs.total.yuan, unit="元")]
    steps = [f"人均财政补助{floor}{yuan(fs.total.yuan)}元。"]
    caveats: list[str] = []
    tier, place = _tier_for(ctx, found.notice) if fs.tiers else (None, None)
    if tier:
        ctx.cite(found.notice, tier.cite)
        figures.append(Figure(key="tier", label="档次", value=tier.name))
        steps.append(f"{place}属{tier.name}（{tier.applies_to}）。")
        for key, label in LEVELS:
            value = getattr(tier, key)
            if value is not None:
                figures.append(Figure(key=key, label=label, value=value, unit="元"))
                steps.append(f"{label}{yuan(value)}元。")
        local = [getattr(tier, k) for k, _ in LEVELS if k != "central" and getattr(tier, k) is not None]
        if local:
            figures.append(Figure(key="local_total", label="地方财政合计", value=sum(local), unit="元"))
            steps.append(f"地方财政（省、市、县）合计{yuan(sum(local))}元。")
        if "除外" in tier.applies_to and place != ctx.region.name:
            caveats.append(f"该档注明“{tier.applies_to}”，通知未列出深度贫困县名单，"
                           f"{ctx.region.name}是否属该档以当地财政部门为准。")
    else:
        if fs.central:
            ctx.cite(found.notice, fs.central.cite)
            figures.append(Figure(key="central", label="中央财政", value=fs.central.yuan,
                                  unit="元"))
            steps.append(f"其中中央财政{yuan(fs.central.yuan)}元。")
        if fs.local:
            ctx.cite(found.notice, fs.local.cite)
            steps.append(f"地方财政{yuan(fs.local.yuan)}元。")
        elif fs.central and not fs.total.at_least:
            local_total = fs.total.yuan - fs.central.yuan
            figures.append(Figure(key="local_total", label="地方财政合计", value=local_total, unit="元"))
            steps.append(f"其余{yuan(local_total)}元由地方财政负担"
                         f"（{yuan(fs.total.yuan)}−{yuan(fs.central.yuan)}）。")
        if fs.tiers:
            caveats.append(f"分档表未列出{ctx.region.name}，请以当地财政部门为准。")
    for share in fs.shares:
        ctx.cite(found.notice, share.cite)
        steps.append(share.text + "。")
    summary = f"{ctx.where}人均财政补助{floor}{yuan(fs.total.yuan)}元" + (
        f"（{tier.name}：" + "，".join(f"{label}{yuan(getattr(tier, key))}元"
                                      for key, label in LEVELS if getattr(tier, key) is not None)
        + "）。" if tier else "。")
    return ctx.answer("ok", summary, figures=figures, steps=steps, caveats=caveats)


def compare_years(ctx: Ctx, other: Ctx) -> Answer:
    """Personal standard and fiscal subsidy of one place in two benefit years."""
    a, b = personal_standard(ctx), personal_standard(other)
    ctx.citations.extend(c for c in other.citations if c not in ctx.citations)
    if a is None or b is None:
        return ctx.answer("not_stated", "两个年度中有一年的个人缴费标准本通知未载明。")
    figures = [Figure(key="standard_a", label=f"{ctx.year}年个人缴费", value=a.value.yuan,
                      unit="元"),
               Figure(key="standard_b", label=f"{other.year}年个人缴费", value=b.value.yuan,
                      unit="元"),
               Figure(key="standard_change", label="变化", value=b.value.yuan - a.value.yuan,
                      unit="元")]
    for key, c in (("subsidy_total_a", ctx), ("subsidy_total_b", other)):
        fs = c.find(lambda n: n.fiscal_subsidy)
        if fs:
            ctx.cite(fs.notice, fs.value.total.cite)
            figures.append(Figure(key=key, label=f"{c.year}年人均财政补助",
                                  value=fs.value.total.yuan, unit="元"))
    change = b.value.yuan - a.value.yuan
    trend = f"提高{yuan(change)}元" if change > 0 else (
        f"降低{yuan(-change)}元" if change < 0 else "不变")
    summary = (f"{ctx.region.name}个人缴费标准：{ctx.year}年待遇年度{yuan(a.value.yuan)}元"
               f"（{a.notice.doc_no}），{other.year}年待遇年度{yuan(b.value.yuan)}元"
               f"（{b.notice.doc_no}），{trend}。")
    return ctx.answer("ok", summary, figures=figures)
