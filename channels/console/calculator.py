"""The staff calculator: form fields → rule-layer `Question` → `Answer` (no HTTP, no Rasa)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from actions.render.format import fmt_value, year_text
from actions.rules import Question, answer_question
from actions.rules.contract import Answer

# topic → (title, fields shown in its form)
FORMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "fee": ("缴费金额（资助后个人实缴）", ("region", "benefit_year", "categories")),
    "deadline": ("缴费期限", ("region", "benefit_year", "payment_date")),
    "newborn": ("新生儿待遇开始", ("region", "birth_date", "payment_date")),
    "employee_to_resident": ("职工医保转居民医保待遇开始",
                             ("region", "benefit_year", "stop_date", "payment_date",
                              "continuous_years")),
    "cross_region": ("跨统筹区转移待遇开始", ("region", "benefit_year", "stop_date", "payment_date")),
}
FIELD_LABELS = {
    "region": "地区", "benefit_year": "待遇年度", "categories": "资助身份",
    "payment_date": "缴费日期", "birth_date": "出生日期", "stop_date": "原保险停保日期",
    "continuous_years": "原保险连续参保年限",
}
STATUS_NAMES = {"ok": "已计算", "not_stated": "通知未载明", "not_covered": "未收录",
                "needs_input": "缺少信息"}


@dataclass
class Calculation:
    topic: str
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    answer: Answer | None = None

    @property
    def figures(self) -> list[tuple[str, str]]:
        return [(f.label, fmt_value(f)) for f in self.answer.figures] if self.answer else []

    @property
    def year(self) -> str:
        return year_text(self.answer) if self.answer else ""

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.answer.status, self.answer.status) if self.answer else ""


def _date(raw: str, label: str, errors: list[str]) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(f"{label}格式应为 YYYY-MM-DD")
        return None


def _int(raw: str, label: str, lo: int, hi: int, errors: list[str]) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        errors.append(f"{label}应为 {lo}-{hi} 之间的整数")
        return None
    return int(raw)


def calculate(args: Any, categories: dict[str, str], today: date | None = None) -> Calculation:
    """Run one calculation from query arguments (`args.get(name)`, `args.getlist(name)`)."""
    topic = (args.get("topic") or "").strip()
    calc = Calculation(topic=topic)
    if topic not in FORMS:
        calc.errors.append("请选择计算类型")
        return calc
    region = (args.get("region") or "").strip()[:40]
    calc.values["region"] = region
    if not region:
        calc.errors.append("请填写地区，例如：会宁县")
    kwargs: dict[str, Any] = {}
    fields = FORMS[topic][1]
    for name in fields:
        if name in ("region", "categories"):
            continue
        raw = (args.get(name) or "")[:20]
        calc.values[name] = raw
        label = FIELD_LABELS[name]
        if name == "benefit_year":
            kwargs[name] = _int(raw, label, 2000, 2100, calc.errors)
        elif name == "continuous_years":
            kwargs[name] = _int(raw, label, 0, 80, calc.errors)
        else:
            kwargs[name] = _date(raw, label, calc.errors)
    if "categories" in fields:
        chosen = [c for c in (args.getlist("categories") or []) if c]
        unknown = [c for c in chosen if c not in categories]
        if unknown:
            calc.errors.append("未知的资助身份")
        calc.values["categories"] = [c for c in chosen if c in categories]
        kwargs["categories"] = calc.values["categories"]
    if calc.errors:
        return calc
    try:
        calc.answer = answer_question(Question(topic=topic, region=region, today=today,
                                               **{k: v for k, v in kwargs.items() if v is not None}))
    except Exception as exc:  # noqa: BLE001 - a bad combination must be shown, not a 500
        calc.errors.append(f"无法计算：{type(exc).__name__}")
    return calc
