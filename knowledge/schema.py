"""The contract of a notice file (``knowledge/data/notices/*.yaml``).

A notice file holds what one government notice says, as data: every value carries the
section and a short exact quote it comes from. Fields a notice is silent on stay ``None``
(or empty): the loader then looks for them in the notice of the parent region for the same
benefit year, and the rule layer answers "本通知未载明" when none has them.

Semantics that the rule layer relies on (kept here so the data author sees them):

* Dates are calendar dates; a window's ``end`` is the last day on which payment counts.
* Periods follow 民法典 第二百零一条/第二百零二条: the day of the event is not counted, a
  period of N days ends on event + N days, a period of N months on the corresponding day N
  months later (or that month's last day). ``inclusive`` says whether the last day itself still
  counts as inside (含 / 以内 / 不超过 → true; 不含 / 不满 → false).
* An :class:`Outcome` says what a resident pays and from when benefits start; ``start`` is one
  of :data:`StartKind`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    """Base for data models: unknown keys are errors, so typos in YAML fail loudly."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Cite(Strict):
    section: str = Field(min_length=1)  # e.g. 二（五）
    quote: str = Field(min_length=4)  # exact words of the notice (whitespace may differ)


class Cited(Strict):
    """A fact in words, with its citation (scope items, documents, notes)."""

    text: str = Field(min_length=1)
    cite: Cite


class Amount(Strict):
    yuan: Decimal = Field(ge=0)
    at_least: bool = False  # 不低于 / 不少于: the notice sets a floor, not the exact figure
    cite: Cite


class Threshold(Strict):
    """A length of time with its inclusiveness, e.g. 90日内（含90日） or 不超过3个月."""

    days: int | None = Field(default=None, gt=0)
    months: int | None = Field(default=None, gt=0)
    years: int | None = Field(default=None, gt=0)
    inclusive: bool
    cite: Cite

    @model_validator(mode="after")
    def _one_unit(self) -> Threshold:
        if sum(v is not None for v in (self.days, self.months, self.years)) != 1:
            raise ValueError("give exactly one of days, months, years")
        return self


FeeBasis = Literal[
    "personal",  # the year's personal standard (subsidies apply as the notice says)
    "personal_no_subsidy",  # personal standard, identity subsidies not granted
    "personal_plus_subsidy",  # personal standard + government subsidy (e.g. 贵州 830 元)
    "paid_by_bureau",  # paid in full by the bureau for the resident
]

StartKind = Literal[
    "benefit_period_start",  # the benefit period's first day (1 January)
    "payment_date",  # from the day of payment
    "birth_date",  # from the day of birth
    "payment_month",  # from the month of payment (缴费当月)
    "next_month_after_payment",  # first day of the month after payment (次月)
    "next_month_after_change",  # first day of the month after an identity change
    "after_days",  # after N days from payment; inclusive=false: benefits on day N+1
    "after_months",  # waiting period of N months from payment; benefits the day after it ends
    "no_waiting",  # the notice only says: no waiting period (不设等待期)
    "no_benefit",  # no benefit for that year
    "not_stated",  # the notice does not say from when benefits start
    "employee_instead",  # 参加职工医保期间享受职工医保待遇，暂停原居民医保待遇
    "benefit_period_end",  # used in `ends`: benefits last to the benefit period's end
]

Ends = Literal["benefit_period_end", "birth_year_end"]


class Outcome(Strict):
    applies_to: str | None = None  # who, in Chinese, when a scenario has several outcomes
    # Identities this outcome is for (ids from categories.yaml); empty: everyone else.
    categories: list[str] = Field(default_factory=list)
    fee: FeeBasis | None = None
    start: StartKind
    days: int | None = Field(default=None, gt=0)
    months: int | None = Field(default=None, gt=0)
    ends: Ends = "benefit_period_end"
    cite: Cite

    @model_validator(mode="after")
    def _period_given(self) -> Outcome:
        if self.start == "after_days" and self.days is None:
            raise ValueError("start after_days needs days")
        if self.start == "after_months" and self.months is None:
            raise ValueError("start after_months needs months")
        return self


class Scenario(Strict):
    """A rule for one kind of resident or event (newborn, transfer, veteran, late payment...).

    ``threshold`` is measured from ``measured_from`` (birth or stop date) to the payment date;
    ``within`` applies when it is met (or when there is no threshold), ``beyond`` when not.
    ``min_continuous`` is a condition on the years of continuous previous insurance;
    ``below_min`` applies when it is not met (empty: the notice does not say).
    """

    threshold: Threshold | None = None
    measured_from: Literal["birth_date", "stop_date"] | None = None
    min_continuous: Threshold | None = None
    within: list[Outcome] = Field(min_length=1)
    beyond: list[Outcome] = Field(default_factory=list)
    below_min: list[Outcome] = Field(default_factory=list)
    # When the event (birth) fell in the year before the benefit year: 出生次年 options.
    within_next_year: list[Outcome] = Field(default_factory=list)
    beyond_next_year: list[Outcome] = Field(default_factory=list)
    notes: list[Cited] = Field(default_factory=list)

    @model_validator(mode="after")
    def _threshold_has_origin(self) -> Scenario:
        if self.threshold is not None and self.measured_from is None:
            raise ValueError("a threshold needs measured_from")
        return self


class Window(Strict):
    id: str
    kind: Literal["concentrated", "sporadic"]
    name: str  # as the notice calls it: 参保缴费期 / 集中征缴期 / 零星缴费
    start: date
    end: date  # last day, inclusive
    outcome: Outcome  # what paying inside this window costs and from when it covers
    tentative: Cited | None = None  # e.g. 原则上…以缴费公告为准
    cite: Cite

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end < self.start:
            raise ValueError(f"window {self.id} ends before it starts")
        return self


class Period(Strict):
    start: date
    end: date
    cite: Cite


class Referral(Strict):
    """What a notice says of topics it sets no rule for: another document decides (白银:
    students, veterans … follow 市医保发〔2021〕44号, which the assistant does not hold), or a
    general instruction (做好新生儿保费征收, “出生一件事”联办)."""

    topics: list[str] = Field(min_length=1)  # rule-layer topics, e.g. student, veteran
    doc_no: str | None = None
    text: str
    cite: Cite


class Cutoff(Strict):
    """A day from which something counts for the next year (安康: identities recognised from
    2021-10-01 on are subsidised from the next year)."""

    day: date
    text: str
    cite: Cite


class Subsidy(Strict):
    """资助: what the bureau pays towards one identity's personal contribution."""

    category: str  # id from categories.yaml
    kind: Literal["full", "fixed", "not_stated"]
    amount: Decimal | None = Field(default=None, ge=0)
    at_least: bool = False  # 不低于 / 不少于
    parts: list[Cited] = Field(default_factory=list)  # who pays which part, if stated
    # paid_by_bureau: the bureau pays for the resident; deducted: the resident pays only the
    # rest at payment time; reimbursed: 先缴后补, paid in full then refunded (一卡通 / 直补)
    delivery: Literal["paid_by_bureau", "deducted", "reimbursed", "not_stated"]
    delivery_note: Cited | None = None  # e.g. 次月划入"一卡通"; 先缴后补
    refers_to: str | None = None  # another notice that sets the amount (kind not_stated)
    concentrated_window_only: Cited | None = None  # 未在集中缴费期参保的不享受资助
    cite: Cite

    @model_validator(mode="after")
    def _amount_matches_kind(self) -> Subsidy:
        if (self.kind == "fixed") != (self.amount is not None):
            raise ValueError("a fixed subsidy needs amount, other kinds must not have one")
        return self


class MultipleIdentity(Strict):
    rule: Literal["highest", "one_only"]  # 就高不就低 / 只能按一种身份
    cite: Cite


class Tier(Strict):
    """One row of a fiscal subsidy table (by region)."""

    name: str  # 第一档
    applies_to: str  # the row's words, e.g. 两州一县、18个深度贫困县
    regions: list[str] = Field(default_factory=list)  # gazetteer names the row names
    # The row excludes some of its places' counties it does not list (所辖深度贫困县除外).
    excludes_unlisted: bool = False
    total: Decimal = Field(ge=0)
    central: Decimal = Field(ge=0)
    province: Decimal | None = Field(default=None, ge=0)
    city: Decimal | None = Field(default=None, ge=0)
    county: Decimal | None = Field(default=None, ge=0)
    city_county: Decimal | None = Field(default=None, ge=0)  # 市县财政 as one column
    cite: Cite


class FiscalSubsidy(Strict):
    total: Amount
    central: Amount | None = None
    local: Amount | None = None  # 省、市（区） together, when given as one figure
    shares: list[Cited] = Field(default_factory=list)  # sharing ratios in words
    tiers: list[Tier] = Field(default_factory=list)


RefundReason = Literal[
    "duplicate",  # 重复缴费 / 重复参保
    "death",
    "employee",  # joined employee insurance
    "other_region",  # joined another region's resident insurance
    "enlisted",  # 应征入伍
    "prison",  # 服刑
    "wrong_region",  # 错缴异地
    "identity_recognized",  # paid in full, then recognised as a subsidised identity
    "flexible_employee",  # paid a year of employee insurance as 灵活就业, then employed
]


class RefundRule(Strict):
    reasons: list[RefundReason] = Field(min_length=1)
    refundable: bool
    until: Literal["benefit_period_start", "concentrated_window_end"] | None = None
    after: Literal["benefit_period_start"] | None = None  # rule holds from this date on
    within: Threshold | None = None  # e.g. 身份认定后3个月内
    how: str | None = None  # Chinese: what is refunded and by whom
    cite: Cite


class PaymentChannel(Strict):
    name: str
    kind: Literal["bank_counter", "mini_program", "alipay", "app", "wechat", "door_to_door",
                  "tax_office", "other"]
    cite: Cite


class BonusTier(Strict):
    years: int = Field(gt=0)  # continuous years reached (the last tier means "or more")
    outpatient_limit_plus: Decimal = Field(ge=0)  # 元
    inpatient_ratio_plus: Decimal = Field(ge=0)  # percentage points
    inpatient_cap_plus: Decimal = Field(ge=0)  # 元


class ContributionBonus(Strict):
    effective_from: date
    counted_since_year: int
    tiers: list[BonusTier] = Field(min_length=1)
    cite: Cite


class PlanRow(Strict):
    region: str
    target: int = Field(ge=0)
    census: int | None = Field(default=None, ge=0)
    reported: int | None = Field(default=None, ge=0)


class Plan(Strict):
    title: str
    total: int = Field(ge=0)
    rows: list[PlanRow]
    cite: Cite


class ContactGroup(Strict):
    """Staff-facing: the working groups a county assigns to townships."""

    name: str
    leader: str
    members: list[str]
    townships: list[str]


class Scenarios(Strict):
    late_payment: Scenario | None = None
    newborn: Scenario | None = None
    student: Scenario | None = None
    veteran: Scenario | None = None
    employee_to_resident: Scenario | None = None
    resident_to_employee: Scenario | None = None
    cross_region: Scenario | None = None
    low_income: Scenario | None = None
    identity_change: Scenario | None = None
    flexible_worker: Scenario | None = None


class Notice(Strict):
    id: str
    source: str  # file name of the notice text under shared/seeds/
    issuers: list[str] = Field(min_length=1)
    doc_no: str
    title: str
    issued_on: date | None = None  # None: the notice text carries no legible date
    issued_note: str | None = None
    region: str  # gazetteer name of the region it governs
    year_label: str  # the year as the notice names it, e.g. 2021年度
    benefit_years: list[int] = Field(min_length=1)
    builds_on: list[str] = Field(default_factory=list)
    # A supplementary notice: the id of the notice it amends (same region and benefit year). Its
    # values replace the amended notice's; what it leaves empty still comes from that notice.
    amends: str | None = None

    personal: Amount | None = None
    personal_increase: Amount | None = None  # 比上一年提高 (the previous standard = personal - this)
    total_standard: Amount | None = None  # 个人 + 财政, when the notice states the sum
    critical_illness: Amount | None = None  # 大病保险筹资标准
    fiscal_subsidy: FiscalSubsidy | None = None
    windows: list[Window] = Field(default_factory=list)
    benefit_period: Period | None = None
    subsidies: list[Subsidy] = Field(default_factory=list)
    multiple_identity: MultipleIdentity | None = None
    subsidy_changes: list[Cited] = Field(default_factory=list)  # identity change rules
    referrals: list[Referral] = Field(default_factory=list)
    # Who subsidises a resident insured away from home (户籍地), when the notice says.
    insured_elsewhere: Cited | None = None
    identity_cutoff: Cutoff | None = None  # identities recognised on or after this day: next year
    scenarios: Scenarios = Field(default_factory=Scenarios)
    refunds: list[RefundRule] = Field(default_factory=list)
    duplicates: list[Cited] = Field(default_factory=list)  # which enrollment is kept
    settlement: list[Cited] = Field(default_factory=list)  # 跨年度住院结算
    scope: list[Cited] = Field(default_factory=list)
    registration: list[Cited] = Field(default_factory=list)
    payment_channels: list[PaymentChannel] = Field(default_factory=list)
    payment_notes: list[Cited] = Field(default_factory=list)  # how collected premiums are handled
    contribution_bonus: ContributionBonus | None = None
    plan: Plan | None = None
    contacts: list[ContactGroup] = Field(default_factory=list)  # staff-facing only

    @model_validator(mode="after")
    def _windows_do_not_overlap(self) -> Notice:
        spans = sorted(self.windows, key=lambda w: w.start)
        for a, b in zip(spans, spans[1:], strict=False):
            if b.start <= a.end:
                raise ValueError(f"windows {a.id} and {b.id} overlap")
        ids = [w.id for w in self.windows]
        if len(ids) != len(set(ids)):
            raise ValueError("window ids must be unique")
        cats = [s.category for s in self.subsidies]
        if len(cats) != len(set(cats)):
            raise ValueError("a category may have one subsidy entry per notice")
        return self
