"""The conversation's own resident-facing texts (questions back, apologies, added lines).

Answers to policy questions are rendered from the rule layer's :class:`Answer` by
``actions.render``; this module holds what the conversation adds around them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from actions.rules import Answer
from actions.rules.context import HOTLINE, WHERE_TO_ASK, cn_date, yuan
from knowledge.loader import KnowledgeBase

ASK_REGION = "请问您在哪个地区参保？（说到县区或地市即可，例如：会宁县、白银市、安康市汉滨区、贵州省）"
NO_TOPIC = ("好的，已记下。请问您想了解什么？例如：缴费标准和资助、缴费时间、待遇享受期、"
            "新生儿或学生参保、转移接续、退费、缴费渠道。")
ASK_REPHRASE = "抱歉，我没太理解。能换个说法再问一次吗？例如：“会宁县低保户2022年度交多少钱？”"
OUT_OF_SCOPE = ("抱歉，这个问题不在我的服务范围内。我只能解答城乡居民医保参保缴费的问题"
                f"（缴费标准、资助、缴费时间、待遇期、转移接续、退费等）。其他问题请{WHERE_TO_ASK}。")
ANYTHING_ELSE = "好的。请问还有什么可以帮您？您也可以回复“转人工”联系工作人员。"
RULES_DOWN = ("抱歉，政策计算服务暂时不可用，请稍后再试，或回复“转人工”联系工作人员，"
              f"也可拨打{HOTLINE}医保服务热线。")


def not_stated_topic(place: str) -> str:
    """Reimbursement ratios and lines: not in the enrolment notices the assistant holds."""
    return (f"已收录的{place}参保缴费通知没有规定住院、门诊的报销比例和起付线等待遇标准，"
            f"我无法给出准确数字。请{WHERE_TO_ASK}查询。")


def ask_identity(category_name: str) -> str:
    """A word near a subsidised identity: ask rather than widen it (重度残疾人 ≠ 低收入家庭中的…)."""
    return (f"通知只对“{category_name}”给予参保资助。如您家属于这一类，请回复确认，我再按资助后金额计算；"
            "以下先按个人缴费标准回答。")


def also_benefit_year(year: int, other: Answer) -> str:
    """The other reading of a plainly said year: the year benefits are used."""
    return f"若您说的{year}年是指{year}年享受待遇（{other.year_label}），则：{other.summary}"


def latest_year_intro(region: str | None, year: int, is_label: bool, latest: Answer) -> str:
    said = f"{year}年度" if is_label else f"{year}年"
    label = f"（{latest.year_label}）" if latest.year_label else ""
    return (f"暂未收录{region or ''}{said}的参保缴费通知，以下是已收录的最新年度{latest.benefit_year}年"
            f"待遇年度{label}的规定，{said}的标准请{WHERE_TO_ASK}。")


def household_lines(per_group: list[tuple[dict[str, Any], Answer, Decimal]],
                    kb: KnowledgeBase, pay_first: bool) -> list[str]:
    """家里5口人 → one line per group of people and the household total."""
    lines, total, first, people = [], Decimal(0), Decimal(0), 0
    for group, answer, net in per_group:
        n = int(group["count"])
        who = "、".join(kb.categories[c].name for c in group["categories"] if c in kb.categories)
        who = who or "无资助身份"
        lines.append(f"{who}{n}人：每人{yuan(net)}元，共{yuan(net * n)}元")
        pay_now = answer.figure("pay_now")
        total += net * n
        first += (Decimal(pay_now.value) if pay_now else net) * n
        people += n
    out = f"全家{people}人合计个人实际负担{yuan(total)}元（" + "；".join(lines) + "）。"
    if pay_first and first != total:
        out += f"缴费时需先交{yuan(first)}元，其中{yuan(first - total)}元资助事后补发。"
    return [out]


def top_up_line(old_name: str, old: Decimal, new_name: str, new: Decimal) -> str:
    """Subsidy after an identity change, against the one already received."""
    if new > old:
        return (f"按新身份补差：{new_name}资助{yuan(new)}元，原{old_name}资助{yuan(old)}元，"
                f"应补差{yuan(new - old)}元。")
    return (f"{new_name}资助{yuan(new)}元，不高于原{old_name}资助{yuan(old)}元，不补差"
            "（资助标准降低的，原资助按通知规定处理，见下）。")


def _month_bounds(value: str) -> tuple[date, date] | None:
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return day, day
        y, m = int(value[:4]), int(value[5:7])
    except ValueError:
        return None
    nxt = date(y + (m == 12), m % 12 + 1, 1)
    return date(y, m, 1), date.fromordinal(nxt.toordinal() - 1)


def admission_verdict(admitted: str, start: date | Any, end: date | None) -> str:
    """Whether a hospital stay on ``admitted`` (a day or a month) falls in the covered period."""
    bounds = _month_bounds(admitted)
    if bounds is None or not isinstance(start, date):
        return ""
    first, last = bounds
    when = cn_date(first) if first == last else f"{first.year}年{first.month}月"
    if last < start:
        return f"{when}住院时还未到待遇开始日（{cn_date(start)}），不能报销这次住院费用。"
    if end is not None and first > end:
        return f"{when}住院已超出待遇期（至{cn_date(end)}），不能按本年度报销。"
    if first >= start:
        return f"{when}住院在待遇期内（{cn_date(start)}起），可以按规定报销。"
    return (f"{when}住院：{cn_date(start)}以前的费用不能报销，{cn_date(start)}起的可以按规定报销。")
