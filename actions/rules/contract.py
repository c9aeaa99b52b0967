"""The contract between the rule layer and its callers (bot actions, console, CLI).

A caller builds a :class:`Question`, passes it to ``actions.rules.answer_question`` and gets
an :class:`Answer`: the figures, the steps that produced them, the citations, caveats and
what is missing for a more exact answer. Text meant for residents is Simplified Chinese.


Figure keys per topic (stable; tests and renderers rely on them). Amounts in 元 (Decimal),
dates as ``date``; a figure is present only when the data determines it:

* fee: ``standard`` (personal standard), ``subsidy`` (for the given identities, capped at the
  standard), ``net_amount`` (standard - subsidy), ``category`` (name of the identity used).
* fiscal_subsidy: ``total``, ``central``, ``province``, ``city``, ``county``, ``city_county``
  (市县 as one column), ``tier`` (档次 name).
* deadline: ``window_start``, ``window_end`` (the concentrated window), ``sporadic_start``,
  ``sporadic_end`` (if any); for a given date (``payment_date`` or else ``today``):
  ``date_status`` (未开始 / 缴费期内 / 零星缴费期内 / 已截止), ``days_left`` (end - date, while
  open), ``days_passed`` (date - end, when closed); after the concentrated window also
  ``late_amount_due`` and ``late_benefit_start`` (paying on that date), when determined.
* benefit_period: ``benefit_start``, ``benefit_end``.
* late_payment, newborn, student, veteran, employee_to_resident, resident_to_employee,
  cross_region, low_income, identity_change: ``benefit_start``, ``benefit_end`` and
  ``amount_due`` (what the resident pays) when determined.
* refund: ``refundable`` (是 / 否).
* contribution_years: ``outpatient_limit_plus``, ``inpatient_ratio_plus`` (percentage points),
  ``inpatient_cap_plus``.
* compare_years: ``standard_a``, ``standard_b``, ``standard_change``, ``subsidy_total_a``,
  ``subsidy_total_b``.
* plan: ``target`` (for the region asked), ``total``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field

Topic = Literal[
    "fee",  # standard, subsidy for the given identities, net amount, how the subsidy arrives
    "deadline",  # payment window(s); whether `today`/`payment_date` is inside; what if missed
    "benefit_period",  # 待遇享受期 for on-time payment
    "late_payment",  # paid outside the window: total due, waiting period, or no benefit
    "newborn",  # birth_date, payment_date
    "student",  # 大中专学生: where to enroll, from when covered, graduates
    "veteran",  # 退役军人 (payment_date optional)
    "employee_to_resident",  # stop_date, payment_date, continuous_years
    "resident_to_employee",  # stop_date, payment_date, continuous_years
    "cross_region",  # 跨统筹区 transfer: stop_date, payment_date
    "low_income",  # dynamic enrollment of rural low-income groups
    "identity_change",  # change_date: when a new identity's subsidy/benefit applies
    "flexible_worker",  # short-term workers joining employee insurance mid-year
    "refund",  # reason, payment_date / today
    "duplicate",  # duplicate enrollment: which enrollment is kept
    "scope",  # who may enroll here
    "registration",  # where to register and what to bring
    "payment_channels",  # where/how to pay
    "contribution_years",  # Huining bonus for continuous years (years)
    "fiscal_subsidy",  # fiscal subsidy total and by level (central/province/city/county)
    "compare_years",  # year-over-year comparison for one place
    "plan",  # enrollment plan / targets (staff-facing)
    "critical_illness",  # 大病保险 financing per person
    "settlement",  # 跨年度住院结算
]

# The topics residents ask about directly: each has the NLU intent "ask_<topic>" and the name
# "topic.<topic>" in the text catalog (dashboard, console). One list for the bot and the console.
QUESTION_TOPICS: tuple[str, ...] = (
    "fee", "deadline", "benefit_period", "late_payment", "newborn", "student", "veteran",
    "employee_to_resident", "resident_to_employee", "cross_region", "refund", "duplicate", "scope",
    "registration", "payment_channels", "contribution_years", "fiscal_subsidy", "identity_change",
    "critical_illness")

Status = Literal[
    "ok",  # answered from the data
    "not_stated",  # the notice(s) for this place and year are silent on the question
    "not_covered",  # no notice for this place or year
    "needs_input",  # a required input is missing (see Answer.missing)
]


class Question(BaseModel):
    """What a caller asks. Only `topic` and `region` are always needed."""

    topic: Topic
    region: str  # any form: 会宁 / 会宁县 / 白银 / 汉滨区 / 贵州 ...
    benefit_year: int | None = None  # the 待遇享受 year, exactly; None = see said_year / dates / today
    # A year as a resident said it ("2021年的医保"): a benefit year if one is covered, else a
    # notice's own year label (甘肃“2021年度” = 2022 benefits), said so in a caveat.
    said_year: int | None = None
    said_label: bool = False  # said_year was said as "X年度": a notice's own label comes first
    categories: list[str] = Field(default_factory=list)  # ids from knowledge/data/categories.yaml
    today: date | None = None  # injectable clock; None = date.today()
    birth_date: date | None = None
    payment_date: date | None = None
    stop_date: date | None = None  # last day of the previous insurance (停保 / 中断)
    change_date: date | None = None  # identity change (身份变更) date
    continuous_years: int | None = None  # continuous years of the previous insurance
    reason: str | None = None  # refund reason: duplicate / death / employee / other_region / ...
    compare_to_year: int | None = None  # for compare_years
    past_limit: bool | None = None  # "超过90天才交" (True) / "90天内交的" (False), dates unknown
    gap_months: int | None = None  # "断了2个月": months between the old insurance and paying
    elapsed_days: int | None = None  # "生下来100多天了": days since the event, dates unknown
    base_amount: Decimal | None = None  # an amount the resident states (原来的限额6万)
    insured_elsewhere: bool = False  # "户口在靖远，在兰州交的": insured away from home
    asks_delivery: bool = False  # "资助的钱啥时候给": how and when subsidies are paid
    paid_after_window: bool = False  # "过了缴费期才交": paid after the concentrated window, day unknown
    compare_previous: bool = False  # "比上一年涨了多少": add the previous year's standard


class Text(BaseModel):
    """A sentence for residents, as data: a key of the text catalog (actions/render/catalog.yaml)
    and the values it is filled with (amounts as Decimal, days as date, nested Texts)."""

    key: str
    params: dict[str, Any] = Field(default_factory=dict)


def say(key: str, **params: Any) -> Text:
    return Text(key=key, params=params)


class Citation(BaseModel):
    notice_id: str
    doc_no: str  # 文号, e.g. 甘医保发〔2021〕55号
    issuer: str
    section: str  # e.g. 二（二）
    quote: str  # short exact quote from the notice

    def short(self) -> str:
        return f"{self.doc_no} {self.section}"


class Figure(BaseModel):
    key: str  # stable machine key, e.g. "net_amount"
    value: Decimal | date | int | str
    unit: str | None = None  # 元 / 天 / 月 ...
    # The label is the catalog's ``figure.<label_key or key>``, filled with ``label_params``.
    label_key: str | None = Field(default=None, exclude=True)
    label_params: dict[str, Any] = Field(default_factory=dict, exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> str:
        from actions.render.catalog import render_text
        return render_text(Text(key=f"figure.{self.label_key or self.key}", params=self.label_params))


class Answer(BaseModel):
    """The rule layer's answer: figures, citations and the texts as catalog keys with values.

    ``summary``, ``steps`` and ``caveats`` are those texts rendered by the catalog (full
    wording); a channel renders ``headline``/``details``/``notes`` itself (SMS short forms).
    """

    topic: Topic
    status: Status
    region: str | None = None  # canonical name of the resolved region
    benefit_year: int | None = None
    year_label: str | None = None  # how the notice names the year, e.g. 2021年度
    headline: Text  # one or two sentences with the key figure and year
    figures: list[Figure] = Field(default_factory=list)
    details: list[Text] = Field(default_factory=list)  # the steps that led to the figures
    citations: list[Citation] = Field(default_factory=list)
    notes: list[Text] = Field(default_factory=list)  # caveats
    missing: list[str] = Field(default_factory=list)  # inputs that would make it exact
    covered: list[str] = Field(default_factory=list)  # when not_covered: what is covered

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> str:
        from actions.render.catalog import render_text
        return render_text(self.headline)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def steps(self) -> list[str]:
        from actions.render.catalog import render_text
        return [render_text(t) for t in self.details]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def caveats(self) -> list[str]:
        from actions.render.catalog import render_text
        return [render_text(t) for t in self.notes]

    def figure(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.key == key), None)
