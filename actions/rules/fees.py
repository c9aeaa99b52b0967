"""What a resident pays: standard, subsidy, net amount; the fiscal subsidy behind it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from actions.rules.context import Ctx
from actions.rules.contract import Answer, Figure, Text, say
from knowledge.loader import Found
from knowledge.schema import Notice, Subsidy


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
    """Full → the standard; fixed → its amount, never more than the standard (a subsidy pays
    towards the personal contribution: 资助不超过个人缴费标准, one rule for every notice)."""
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


def _total_standard(ctx: Ctx) -> list[Text]:
    """安康: 筹资标准900元 = 个人320元 + 财政580元, when the notice states the total."""
    total = ctx.find(lambda n: n.total_standard)
    personal = ctx.find(lambda n: n.personal)
    fiscal = ctx.find(lambda n: n.fiscal_subsidy)
    if not (total and personal and fiscal):
        return []
    ctx.cite(total.notice, total.value.cite)
    return [say("total_standard", total=total.value.yuan, personal=personal.value.yuan,
                fiscal=fiscal.value.total.yuan)]


def fee(ctx: Ctx) -> Answer:
    """个人缴费标准、资助、个人实际负担 for the question's identities (就高不重复)."""
    std_found = personal_standard(ctx)
    if std_found is None:
        return ctx.answer("not_stated", say("standard_not_stated", where=ctx.where))
    standard: Decimal = std_found.value.yuan
    figures = [Figure(key="standard", value=standard, unit="元")]
    steps: list[Text] = [say("standard_step", where=ctx.where, standard=standard)]
    if ctx.q.compare_previous:
        steps.extend(_previous_standard(ctx, standard, figures))
    steps.extend(_total_standard(ctx))  # "说是900块": the total is not what one pays
    elsewhere = ctx.find(lambda n: n.insured_elsewhere) if ctx.q.insured_elsewhere else None
    if elsewhere:
        ctx.cite(elsewhere.notice, elsewhere.value.cite)
        steps.append(say("notice_sentence", text=elsewhere.value.text))
    if not ctx.q.categories:
        if ctx.q.asks_delivery:  # "资助的钱啥时候给": how each identity's subsidy is paid
            steps.extend(_delivery_ways(ctx))
        figures += [Figure(key="net_amount", value=standard, unit="元"),
                    Figure(key="pay_now", value=standard, unit="元")]
        return ctx.answer("ok", say("standard_only", where=ctx.where, standard=standard),
                          figures=figures, steps=steps)

    cutoff = ctx.find(lambda n: n.identity_cutoff)
    if cutoff and ctx.q.change_date and ctx.q.change_date >= cutoff.value.day:
        ctx.cite(cutoff.notice, cutoff.value.cite)
        steps.append(say("notice_sentence", text=cutoff.value.text))
        figures += [Figure(key="subsidy", value=Decimal(0), unit="元"),
                    Figure(key="net_amount", value=standard, unit="元"),
                    Figure(key="pay_now", value=standard, unit="元")]
        return ctx.answer("ok", say("identity_next_year", where=ctx.where, standard=standard,
                                    day=ctx.q.change_date), figures=figures, steps=steps)
    options: list[SubsidyOption] = []
    for category in ctx.q.categories:
        cat = ctx.kb.categories.get(category)
        if cat is None:
            continue
        entries = _subsidy_entries(ctx, category)
        if len(entries) > 1:
            listing = [say("tier_amount", name=ctx.kb.categories[c].name,
                           amount=subsidy_amount(f.value, standard) or Decimal(0)) for c, f in entries]
            for _, f in entries:
                ctx.cite(f.notice, f.value.cite)
            note = entries[0][1].value.delivery_note
            if note and all(f.value.delivery_note == note for _, f in entries):
                ctx.cite(entries[0][1].notice, note.cite)
                steps.append(say("delivery", how=say("notice_words", text=note.text)))
            return ctx.answer("needs_input", say("ask_tier", where=ctx.where, name=cat.name,
                                                 listing=listing), figures=figures, steps=steps,
                              missing=["category_tier"])
        if not entries:
            steps.extend(_identity_rules(ctx, category) or [say("not_subsidised", name=cat.name)])
            continue
        entry = entries[0][1]
        ctx.cite(entry.notice, entry.value.cite)
        amount = subsidy_amount(entry.value, standard)
        options.append(SubsidyOption(category, entry, amount))
        if amount is None:
            steps.append(say("amount_refers", name=cat.name, doc=entry.value.refers_to)
                         if entry.value.refers_to else say("amount_not_stated", name=cat.name))
        else:
            kind = "full" if entry.value.kind == "full" else "fixed"
            steps.append(say(f"subsidy.{kind}{'.at_least' if entry.value.at_least else ''}",
                             name=cat.name, amount=amount))
        for part in entry.value.parts:  # who pays which part (省45元、市10元、县不少于15元)
            ctx.cite(entry.notice, part.cite)
            steps.append(say("notice_sentence", text=part.text))

    known = [o for o in options if o.amount is not None]
    if not options:
        figures += [Figure(key="net_amount", value=standard, unit="元"),
                    Figure(key="pay_now", value=standard, unit="元")]
        return ctx.answer("ok", say("not_in_subsidies", where=ctx.where, standard=standard),
                          figures=figures, steps=steps)
    if not known:
        # Amount set by another notice; when paid first and subsidised later (先缴后补) the
        # resident still knows what to pay now.
        first = options[0].found.value
        if first.delivery_note:
            ctx.cite(options[0].found.notice, first.delivery_note.cite)
            steps.append(say("delivery", how=say("notice_words", text=first.delivery_note.text)))
        if first.delivery == "reimbursed":
            figures.append(Figure(key="pay_now", value=standard, unit="元"))
            return ctx.answer("ok", say("pay_first_amount_unknown", where=ctx.where, standard=standard),
                              figures=figures, steps=steps)
        return ctx.answer("not_stated", say("amount_unknown", where=ctx.where, standard=standard),
                          figures=figures, steps=steps)

    best = max(known, key=lambda o: o.amount or 0)
    caveats: list[Text] = []
    if len(options) > 1:
        rule = ctx.find(lambda n: n.multiple_identity)
        if rule:
            ctx.cite(rule.notice, rule.value.cite)
            if rule.value.rule == "highest":
                steps.append(say("multiple.highest"))
            else:
                steps.append(say("multiple.one_only"))
                caveats.append(say("multiple.one_only_note"))
        else:
            caveats.append(say("multiple.not_stated"))

    entry = best.found.value
    subsidy = best.amount or Decimal(0)
    if lost_outside_window(ctx, best.found):
        steps.append(say("notice_sentence", text=entry.concentrated_window_only.text))
        subsidy = Decimal(0)
    net = standard - subsidy
    pay_now = standard if subsidy == 0 else {"paid_by_bureau": Decimal(0), "deducted": net,
                                              "reimbursed": standard}.get(entry.delivery)
    name = ctx.kb.categories[best.category].name
    figures += [Figure(key="subsidy", value=subsidy, unit="元"),
                Figure(key="net_amount", value=net, unit="元"),
                Figure(key="category", value=name)]
    if pay_now is not None:
        figures.append(Figure(key="pay_now", value=pay_now, unit="元"))
    steps.append(say("delivery", how=_how_paid(ctx, entry, best.found.notice)))
    floor = entry.at_least and subsidy > 0  # "不低于0元" is no figure
    if floor:
        caveats.append(say("at_least_note", amount=subsidy))
    summary = say("net.at_least" if floor else "net", where=ctx.where, standard=standard, name=name,
                  subsidy=subsidy, net=net)
    if pay_now is not None and pay_now != net:
        summary = say("then", first=summary, second=say("pay_first", amount=pay_now))
    return ctx.answer("ok", summary, figures=figures, steps=steps, caveats=caveats)


def _how_paid(ctx: Ctx, entry: Subsidy, notice: Notice) -> Text:
    """How a subsidy reaches the resident, with the notice's own words when it has them."""
    how = say(f"delivery.{entry.delivery}")
    if entry.delivery_note:
        ctx.cite(notice, entry.delivery_note.cite)
        how = say("delivery_with_note", how=how, note=entry.delivery_note.text)
    return how


def _delivery_ways(ctx: Ctx) -> list[Text]:
    """Each way the nearest notice pays its subsidies, with the identities paid that way."""
    found = ctx.find(lambda n: n.subsidies)
    if found is None:
        return []
    ways: dict[tuple[str, str | None], tuple[Subsidy, list[str]]] = {}
    for sub in found.value:
        key = (sub.delivery, sub.delivery_note.text if sub.delivery_note else None)
        ways.setdefault(key, (sub, []))[1].append(ctx.kb.categories[sub.category].name)
    return [say("delivery_for", names=names, how=_how_paid(ctx, sub, found.notice))
            for sub, names in ways.values()]


def _previous_standard(ctx: Ctx, standard: Decimal, figures: list[Figure]) -> list[Text]:
    """比上一年提高X元: the increase the notice states, and the previous standard it implies."""
    found = ctx.find(lambda n: n.personal_increase)
    if found is None:
        return [say("previous_not_stated")]
    ctx.cite(found.notice, found.value.cite)
    increase = found.value.yuan
    figures += [Figure(key="standard_increase", value=increase, unit="元"),
                Figure(key="previous_standard", value=standard - increase,
                       unit="元")]
    return [say("previous_standard", increase=increase, previous=standard - increase, standard=standard)]


def _identity_rules(ctx: Ctx, category: str) -> list[Text]:
    """The notice's words on an identity it gives no subsidy entry (稳定脱贫人口 不再享受…)."""
    cat = ctx.kb.categories[category]
    names = [cat.name, *cat.aliases]
    found = ctx.find(lambda n: [c for c in n.subsidy_changes if any(a in c.text for a in names)])
    if found is None:
        return []
    for c in found.value:
        ctx.cite(found.notice, c.cite)
    return [say("notice_sentence", text=c.text) for c in found.value]


def critical_illness(ctx: Ctx) -> Answer:
    """大病保险筹资标准: the figure only; the notices do not say how it is split or paid."""
    found = ctx.find(lambda n: n.critical_illness)
    if found is None:
        return ctx.answer("not_stated", say("critical_illness_not_stated", where=ctx.where))
    ctx.cite(found.notice, found.value.cite)
    amount = found.value.yuan
    return ctx.answer("ok", say("critical_illness", where=ctx.where, amount=amount),
                      figures=[Figure(key="critical_illness",
                                      value=amount, unit="元")],
                      steps=[say("notice_sentence", text=found.value.cite.quote)])


def _tier_for(ctx: Ctx, notice: Notice):
    chain = [r.name for r in ctx.kb.gazetteer.chain(ctx.region.name)]
    for place in chain:
        for tier in notice.fiscal_subsidy.tiers:
            if place in tier.regions:
                return tier, place
    return None, None


LEVELS = ["central", "province", "city", "county", "city_county"]  # labels: catalog figure.*


def fiscal_subsidy(ctx: Ctx) -> Answer:
    """人均财政补助: total, by level, and the region's row of the tier table."""
    found = ctx.find(lambda n: n.fiscal_subsidy)
    if found is None:
        return ctx.answer("not_stated", say("fiscal_not_stated", where=ctx.where))
    fs = found.value
    ctx.cite(found.notice, fs.total.cite)
    floor = ".at_least" if fs.total.at_least else ""
    figures = [Figure(key="total", value=fs.total.yuan, unit="元", label_key="fiscal_total")]
    steps: list[Text] = [say(f"fiscal_total{floor}", amount=fs.total.yuan)]
    caveats: list[Text] = []
    tier, place = _tier_for(ctx, found.notice) if fs.tiers else (None, None)
    levels: list[Text] = []
    if tier:
        ctx.cite(found.notice, tier.cite)
        figures.append(Figure(key="tier", value=tier.name))
        steps.append(say("tier_of", place=place, tier=tier.name, applies_to=tier.applies_to))
        for key in LEVELS:
            value = getattr(tier, key)
            if value is not None:
                figures.append(Figure(key=key, value=value, unit="元"))
                levels.append(say(f"level.{key}", amount=value))
        steps += [say("sentence", text=level) for level in levels]
        local = [getattr(tier, k) for k in LEVELS if k != "central" and getattr(tier, k) is not None]
        if local:
            figures.append(Figure(key="local_total", value=sum(local), unit="元"))
            steps.append(say("local_total", amount=sum(local)))
        if tier.excludes_unlisted and place != ctx.region.name:
            caveats.append(say("tier_exception", applies_to=tier.applies_to, place=ctx.region.name))
    else:
        if fs.central:
            ctx.cite(found.notice, fs.central.cite)
            figures.append(Figure(key="central", value=fs.central.yuan,
                                  unit="元"))
            steps.append(say("central_part", amount=fs.central.yuan))
        if fs.local:
            ctx.cite(found.notice, fs.local.cite)
            steps.append(say("local_part", amount=fs.local.yuan))
        elif fs.central and not fs.total.at_least:
            local_total = fs.total.yuan - fs.central.yuan
            figures.append(Figure(key="local_total", value=local_total, unit="元"))
            steps.append(say("local_rest", amount=local_total, total=fs.total.yuan, central=fs.central.yuan))
        if fs.tiers:
            caveats.append(say("tier_missing", place=ctx.region.name))
    for share in fs.shares:
        ctx.cite(found.notice, share.cite)
        steps.append(say("notice_sentence", text=share.text))
    steps.extend(_total_standard(ctx))
    summary = say(f"fiscal{floor}", where=ctx.where, amount=fs.total.yuan)
    if tier:
        summary = say(f"fiscal_tier{floor}", where=ctx.where, amount=fs.total.yuan, tier=tier.name,
                      levels=levels)
    return ctx.answer("ok", summary, figures=figures, steps=steps, caveats=caveats)


def compare_years(ctx: Ctx, other: Ctx) -> Answer:
    """Personal standard and fiscal subsidy of one place in two benefit years."""
    a, b = personal_standard(ctx), personal_standard(other)
    ctx.citations.extend(c for c in other.citations if c not in ctx.citations)
    if a is None or b is None:
        return ctx.answer("not_stated", say("compare_not_stated"))
    figures = [Figure(key="standard_a", value=a.value.yuan, unit="元", label_params={"year": ctx.year}),
               Figure(key="standard_b", value=b.value.yuan, unit="元", label_params={"year": other.year}),
               Figure(key="standard_change", value=b.value.yuan - a.value.yuan,
                      unit="元")]
    for key, c in (("subsidy_total_a", ctx), ("subsidy_total_b", other)):
        fs = c.find(lambda n: n.fiscal_subsidy)
        if fs:
            ctx.cite(fs.notice, fs.value.total.cite)
            figures.append(Figure(key=key, value=fs.value.total.yuan, unit="元",
                                  label_params={"year": c.year}))
    change = b.value.yuan - a.value.yuan
    trend = say("trend.up", amount=change) if change > 0 else (
        say("trend.down", amount=-change) if change < 0 else say("trend.same"))
    summary = say("compare", place=ctx.region.name, year_a=ctx.year, a=a.value.yuan,
                  doc_a=a.notice.doc_no, year_b=other.year, b=b.value.yuan, doc_b=b.notice.doc_no,
                  trend=trend)
    return ctx.answer("ok", summary, figures=figures)
