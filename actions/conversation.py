"""One conversation turn: message facts + the situation so far → the question(s) → answers.

Pure (no Rasa imports): ``ActionAnswer`` passes the normalised text, the NLU's entities and
intent, and the ``situation`` slot; it gets back the messages and the new situation. The NLU
intent says what is asked only where no word cue decides (``actions/cues.yaml``); everything
the message states (place, year label, identities with head counts, dates with their roles) is
kept in the situation, so that a short reply ("白银的，2022年度") completes the question asked
before, and the bot asks only for what the rule layer reports missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from actions.reading import Reading, cues, read
from actions.render import render_answer, render_plain
from actions.render.channels import Channel
from actions.rules import Answer, Question, answer_question
from actions.rules.contract import QUESTION_TOPICS
from actions.texts import (
    admission_verdict,
    also_benefit_year,
    ask_identity,
    household_lines,
    latest_year_intro,
    not_stated_topic,
    text,
    top_up_line,
)
from knowledge import dates
from knowledge.loader import Category, KnowledgeBase, default_knowledge

INTENT_TOPIC = {f"ask_{topic}": topic for topic in QUESTION_TOPICS}  # the NLU's question intents
HOUSEHOLD_FIGURE = {"fee": "net_amount", "late_payment": "amount_due"}  # what each member pays
CONFIDENT = 0.5  # below this the NLU intent alone does not start a new topic
GUESS = 0.3  # ... unless nothing else is known (no cue, no topic so far)
SHORT_REPLY = 20  # characters: a message this short that states facts answers the question before
DATE_FIELDS = {"birth": "birth_date", "payment": "payment_date", "stop": "stop_date",
               "change": "change_date"}
REFUND_DATES = {"death": "death", "enlisted": "enlisted"}  # a date with this role names the reason
REFUND_FLAGS = {"reason_flexible_employee": "flexible_employee",  # before reason_employee
                "reason_identity_recognized": "identity_recognized", "reason_employee": "employee",
                "reason_wrong_region": "wrong_region", "reason_other_region": "other_region",
                "duplicate": "duplicate"}


class Situation(BaseModel):
    """What the conversation has established (stored in the ``situation`` slot as a dict)."""

    model_config = ConfigDict(extra="ignore")

    topic: str | None = None
    region: str | None = None
    year: int | None = None
    year_is_label: bool = False
    year_is_benefit: bool = False
    categories: list[str] = Field(default_factory=list)
    groups: list[dict[str, Any]] = Field(default_factory=list)  # [{"categories": [...], "count": n}]
    household: int | None = None
    dates: dict[str, str] = Field(default_factory=dict)  # role → ISO date or month
    continuous_years: int | None = None
    gap_months: int | None = None
    elapsed_days: int | None = None
    amounts: list[str] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    awaiting: str | None = None  # what the bot asked for last

    @classmethod
    def load(cls, data: Any) -> Situation:
        """The slot's value; anything malformed starts a fresh situation rather than failing."""
        try:
            return cls.model_validate(data or {})
        except ValidationError:
            return cls()


@dataclass
class Turn:
    messages: list[dict[str, Any]]
    situation: Situation
    answers: list[Answer] = field(default_factory=list)


def _topic(reading: Reading, intent: str | None, confidence: float, prior: Situation) -> str | None:
    """What is asked: a word cue first, then a confident intent, then the topic so far."""
    cued = [t for t in reading.topics if t != "deadline.dated" or reading.dates]
    if cued:
        topic = cued[0].removesuffix(".dated")
        if topic == "fiscal_subsidy" and reading.categories and "财政" not in reading.text:
            return "fee"  # "监测户…省里补多少": that identity's subsidy, not the fiscal subsidy
        if reading.household and "total" in reading.flags and "fee" in cued:
            return "fee"  # "娃在学校交…家里这4个人一共": a member's situation is a fact of the total
        return topic
    nlu = INTENT_TOPIC.get(intent or "")
    said_facts = reading.year or reading.region or reading.dates or reading.categories
    if prior.topic and said_facts and len(reading.text) <= SHORT_REPLY:
        return prior.topic  # "就是7月份开始交的那个，2021年度": completes the question before
    if nlu and confidence >= CONFIDENT:
        return nlu
    if prior.topic:
        return prior.topic
    if nlu and confidence >= GUESS:
        return nlu
    if intent == "out_of_scope":
        return "out_of_scope"
    return None


def _merge(prior: Situation, r: Reading, topic: str | None) -> Situation:
    """The situation after this message; a new topic drops the facts of the previous question."""
    s = prior.model_copy(deep=True)
    if topic != prior.topic and topic is not None and prior.topic is not None:
        s.categories, s.groups, s.household, s.amounts, s.flags = [], [], None, [], []
        s.dates = {k: v for k, v in s.dates.items() if k in ("birth", "stop")}
        s.continuous_years = s.gap_months = s.elapsed_days = None
    s.topic = topic or s.topic
    if r.region:
        s.region = r.region
    if r.year is not None:
        s.year, s.year_is_label, s.year_is_benefit = r.year, r.year_is_label, r.year_is_benefit
    if r.categories:
        s.categories = r.categories
    groups = [{"categories": g.categories, "count": g.count} for g in r.groups]
    if r.household:
        s.groups, s.household = groups, r.household
    elif groups and prior.household and sum(g["count"] for g in groups) < prior.household:
        # "那要是其中一个是孤儿呢": some of the household said before; the rest as before
        rest = prior.household - sum(g["count"] for g in groups)
        s.groups = [*groups, {"categories": [], "count": rest}]
    for d in r.dates:
        s.dates[d.role] = d.value
    if r.continuous_years is not None:
        s.continuous_years = r.continuous_years
    if r.amounts:
        s.amounts = r.amounts
    if r.gap_months is not None:
        s.gap_months = r.gap_months
    if r.elapsed_days is not None:
        s.elapsed_days = r.elapsed_days
    s.flags = sorted(set(s.flags) | r.flags)
    return s


def _day(value: str | None, role: str) -> date | None:
    """An ISO day; a month ("2022-01") counts as its last day for a stop date (辞职后就断了:
    the later day, so a time limit is never wrongly met) and its first day otherwise."""
    span = dates.span_of(value) if value else None
    if span is None:
        return None
    return span[1] if role == "stop" else span[0]


def build_question(s: Situation, topic: str, today: date, categories: list[str] | None = None
                   ) -> Question:
    """The rule-layer question for one topic of the situation."""
    fields: dict[str, Any] = {}
    for role, name in DATE_FIELDS.items():
        day = _day(s.dates.get(role), role)
        if day:
            fields[name] = day
    if "stop_date" not in fields and "payment_date" in fields and s.gap_months:
        # "中间断了5个月，7月15号补缴": the old insurance stopped that long before paying.
        fields["stop_date"] = dates.add_months(fields["payment_date"], -s.gap_months)
    past = True if "past_limit" in s.flags else False if "within_limit" in s.flags else None
    if topic == "benefit_period" and "payment_date" in fields:
        topic = "late_payment"  # paid on a given day: the window rules say from when it covers
    benefit_year = None
    admitted = _day(s.dates.get("admission"), "admission")
    if s.year is None and admitted and not fields and topic in ("benefit_period", "late_payment"):
        benefit_year = admitted.year  # "2023年3月住院，用的是哪个年度交的医保"
    base = Decimal(s.amounts[0]) if s.amounts else None
    reason = next((REFUND_DATES[r] for r in REFUND_DATES if r in s.dates), None) or next(
        (REFUND_FLAGS[f] for f in REFUND_FLAGS if f in s.flags), None)
    return Question(
        topic=topic, region=s.region or "", today=today, said_year=s.year, benefit_year=benefit_year,
        gap_months=s.gap_months, elapsed_days=s.elapsed_days,
        # A year said plainly is read as a notice's label first (白银 "2022年" = 市医保发〔2022〕47号's
        # 2022年度), then as a benefit year; "2023年看病" is a benefit year.
        said_label=not s.year_is_benefit, categories=categories if categories is not None else s.categories,
        continuous_years=s.continuous_years, reason=reason,
        paid_after_window="after_window" in s.flags and "payment_date" not in fields,
        insured_elsewhere="insured_elsewhere" in s.flags, asks_delivery="delivery" in s.flags,
        compare_previous="previous_year" in s.flags, past_limit=past, base_amount=base, **fields)


def _ask(reply: str, s: Situation, awaiting: str | None, kind: str = "clarify") -> Turn:
    """A message that is not an answer. Its payload says which kind (the console counts
    ``fallback`` replies as unanswered): clarify, fallback, out_of_scope, ack."""
    s.awaiting = awaiting
    return Turn([{"text": reply, "custom": {"type": kind, "awaiting": awaiting}}], s)


def respond(message: str, entities: list[dict[str, Any]], intent: str | None, confidence: float,
            situation: Any, today: date, channel: Channel = "web",
            kb: KnowledgeBase | None = None) -> Turn:
    """Answer one resident message in the context of the conversation so far."""
    kb = kb or default_knowledge()
    prior = Situation.load(situation)
    earlier = [int(v[:4]) for v in prior.dates.values() if v[:4].isdigit()]
    reading = read(message, entities, kb, today, max(earlier) if earlier else None)
    stated = bool(reading.region or reading.year or reading.categories or reading.dates
                  or reading.topics)
    if intent == "deny" and not stated:  # "不知道" / "不是": nothing more to compute
        return _ask(text("conv.anything_else"), prior, None, "ack")
    if intent == "affirm" and not stated and (prior.awaiting or "").startswith("category:"):
        # "是的" to "如您家属于这一类，请回复确认": the identity the bot asked about is added.
        reading.categories = [prior.awaiting.removeprefix("category:")]
    topic = _topic(reading, intent, confidence, prior)
    s = _merge(prior, reading, topic)

    if topic == "out_of_scope":
        return _ask(text("conv.out_of_scope"), s, None, "out_of_scope")
    if topic is None:
        if reading.region or reading.year or reading.categories or reading.dates:
            return _ask(text("conv.no_topic"), s, "topic")
        return _ask(text("conv.ask_rephrase"), s, None, "fallback")
    if not s.region:
        return _ask(text("conv.ask_region"), s, "region")
    if topic == "reimbursement":
        return _ask(not_stated_topic(s.region), s, None, "not_stated")

    answer = _answer(s, topic, today, kb)
    messages = render_answer(answer, channel)
    answers = [answer]
    for other in companions(topic, reading.topics):
        extra_answer = _answer(s, other, today, kb)
        if extra_answer.status == "ok":
            answers.append(extra_answer)
            messages[0]["text"] += "\n" + render_plain(extra_answer, channel)
    asked = _asked_identity(s, topic, kb)
    lead = _lead_lines(s, answer, topic, asked, today, kb)
    if lead:
        messages[0]["text"] = "\n".join([*lead, messages[0]["text"]])
    s.awaiting = answer.missing[0] if answer.status == "needs_input" and answer.missing else None
    if asked:
        s.awaiting = f"category:{asked.id}"
    return Turn(messages, s, answers)


def companions(topic: str, cued: list[str]) -> list[str]:
    """Second questions asked in the same message that are answered too (cues.yaml)."""
    return [t for t in cues().get("companions", {}).get(topic, []) if t in cued]


def _answer(s: Situation, topic: str, today: date, kb: KnowledgeBase) -> Answer:
    q = build_question(s, topic, today)
    answer = answer_question(q, kb)
    if s.year and not (s.year_is_label or s.year_is_benefit) and answer.status == "ok" \
            and answer.benefit_year != s.year:
        # "2022年" said plainly, read as a notice's "2022年度": also the benefit year 2022's answer.
        other = answer_question(q.model_copy(update={"said_label": False}), kb)
        if other.status == "ok" and other.benefit_year == s.year:
            answer = answer.model_copy(update={"notes": [
                *answer.notes, also_benefit_year(s.year, other)]})
    years = kb.covered_years(answer.region) if answer.region in kb.gazetteer.regions else []
    if answer.status == "not_covered" and years and s.year:
        # A year no notice covers (今年 = 2026): say so, then the latest covered year's answer.
        latest = answer_question(q.model_copy(update={"said_year": None, "said_label": False,
                                                      "benefit_year": years[-1]}), kb)
        if latest.status != "not_covered":
            return latest.model_copy(update={"notes": [latest_year_intro(answer.region, s.year,
                                                                            s.year_is_label, latest),
                                                         *latest.notes]})
    return answer


def _asked_identity(s: Situation, topic: str, kb: KnowledgeBase) -> Category | None:
    """A subsidised identity the message came near without naming (cues.yaml ask_* flags)."""
    if topic != "fee":
        return None
    for flag in s.flags:
        category = kb.categories.get(flag.removeprefix("ask_"))
        if flag.startswith("ask_") and category and category.id not in s.categories:
            return category
    return None


def _identity_change_lines(s: Situation, today: date, kb: KnowledgeBase) -> list[str]:
    """"原来是已脱贫，后来认定成一类低保": the two identities' subsidies compared; one identity
    ("按普通人交了，后来被认定为低保"): the subsidy a newly recognised resident is given."""
    old_id, new_id = s.categories[0], s.categories[-1]
    new = answer_question(build_question(s, "fee", today, [new_id]), kb)
    subsidy, pay = new.figure("subsidy"), new.figure("net_amount")
    if subsidy is None or pay is None:
        return []
    name = kb.categories[new_id].name
    if old_id == new_id:
        return [text("conv.newly_recognised", new_name=name, new=subsidy.value, pay=pay.value)]
    old = answer_question(build_question(s, "fee", today, [old_id]), kb).figure("subsidy")
    if old is None:
        return []
    return [top_up_line(kb.categories[old_id].name, Decimal(old.value), name, Decimal(subsidy.value)),
            text("conv.new_net", new_name=name, pay=pay.value)]


def _lead_lines(s: Situation, answer: Answer, topic: str, asked: Category | None, today: date,
                kb: KnowledgeBase) -> list[str]:
    """Lines before the rendered answer: an identity to confirm (``asked``), household totals,
    the 补差 amount, a hospital stay's verdict."""
    out: list[str] = []
    if asked:
        out.append(ask_identity(asked.name))
    paid = HOUSEHOLD_FIGURE.get(topic)
    if paid and s.groups and answer.status == "ok":
        per_group = []
        for g in s.groups:
            a = answer_question(build_question(s, topic, today, g["categories"] or []), kb)
            net = a.figure(paid)
            if net is None:
                return out
            per_group.append((g, a, Decimal(net.value)))
        out += household_lines(per_group, kb, "delivery" in s.flags)
    if topic == "identity_change" and s.categories:
        out += _identity_change_lines(s, today, kb)
    admitted = s.dates.get("admission")
    first = answer.figure("benefit_start") or answer.figure("late_benefit_start")
    end = answer.figure("benefit_end")
    verdict = admission_verdict(admitted, first.value, end.value if end else None) \
        if admitted and first else ""
    return [*out, verdict] if verdict else out

