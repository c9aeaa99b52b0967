"""The knowledge browser: every cited value of every notice, by region and benefit year.

Walks the notice models generically, so a new field in the schema shows up without changes
here: each sub-model with a `cite` becomes one row (its other fields as the value).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from knowledge import default_knowledge

SECTION_NAMES = {
    "personal": "个人缴费标准", "total_standard": "筹资总额", "critical_illness": "大病保险筹资",
    "fiscal_subsidy": "财政补助", "windows": "缴费期", "benefit_period": "待遇享受期",
    "subsidies": "资助政策", "multiple_identity": "多重身份", "subsidy_changes": "身份变更",
    "scenarios": "特殊情形", "refunds": "退费", "duplicates": "重复参保", "scope": "参保范围",
    "registration": "参保登记", "payment_channels": "缴费渠道", "contribution_bonus": "连续缴费奖励",
    "plan": "参保计划",
}
SKIP = {"id", "source", "issuers", "doc_no", "title", "issued_on", "issued_note", "region",
        "year_label", "benefit_years", "builds_on", "contacts"}


@dataclass
class Row:
    section: str  # Chinese group name
    path: str
    value: str
    cite_section: str
    quote: str


@dataclass
class NoticeView:
    id: str
    doc_no: str
    title: str
    issuers: str
    issued_on: str
    region: str
    year_label: str
    benefit_years: list[int]
    rows: list[Row]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _walk(obj: Any, path: str, group: str, rows: list[Row]) -> None:
    if isinstance(obj, list):
        for i, item in enumerate(obj):
            name = next((str(getattr(item, k)) for k in ("name", "id", "category", "region")
                         if isinstance(item, BaseModel) and getattr(item, k, None)), str(i + 1))
            _walk(item, f"{path}[{name}]", group, rows)
        return
    if not isinstance(obj, BaseModel):
        return
    scalars: list[str] = []
    nested: list[tuple[str, Any]] = []
    for key in type(obj).model_fields:
        value = getattr(obj, key)
        if key == "cite" or value in (None, [], ""):
            continue
        if isinstance(value, BaseModel | list):
            nested.append((key, value))
        else:
            scalars.append(f"{key}={_scalar(value)}" if key not in ("text", "yuan") else
                           (f"{_scalar(value)}元" if key == "yuan" else _scalar(value)))
    cite = getattr(obj, "cite", None)
    if cite is not None:
        rows.append(Row(group, path, "；".join(scalars), cite.section, cite.quote))
    for key, value in nested:
        _walk(value, f"{path}.{key}", group, rows)


def notice_views(region: str = "", year: int | None = None) -> list[NoticeView]:
    kb = default_knowledge()
    out: list[NoticeView] = []
    for notice in sorted(kb.notices.values(), key=lambda n: (n.region, n.benefit_years)):
        if region and notice.region != region:
            continue
        if year and year not in notice.benefit_years:
            continue
        rows: list[Row] = []
        for key in type(notice).model_fields:
            if key in SKIP:
                continue
            value = getattr(notice, key)
            if value in (None, [], ""):
                continue
            _walk(value, key, SECTION_NAMES.get(key, key), rows)
        out.append(NoticeView(
            id=notice.id, doc_no=notice.doc_no, title=notice.title,
            issuers="、".join(notice.issuers),
            issued_on=notice.issued_on.isoformat() if notice.issued_on else (notice.issued_note or ""),
            region=notice.region, year_label=notice.year_label,
            benefit_years=list(notice.benefit_years), rows=rows))
    return out


def regions_and_years() -> tuple[list[str], list[int]]:
    kb = default_knowledge()
    regions = sorted({n.region for n in kb.notices.values()})
    years = sorted({y for n in kb.notices.values() for y in n.benefit_years})
    return regions, years


def category_names() -> dict[str, str]:
    return {cid: cat.name for cid, cat in default_knowledge().categories.items()}
