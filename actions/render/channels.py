"""Per-channel rendering of answers (pure functions: Answer in, message dicts out)."""

from __future__ import annotations

from typing import Any, Literal

from actions.render.format import fmt_value, short_citation, year_text
from actions.rules.contract import Answer

Channel = Literal["sms", "wechat", "web"]
CHANNELS: tuple[Channel, ...] = ("sms", "wechat", "web")
SMS_LIMIT = 134  # two concatenated UCS-2 SMS segments of 67 characters
WECHAT_LIMIT = 600
SMS_CITATION = 24
MAX_STEPS = 8
MAX_CAVEATS = 3  # a long notice title is cut in SMS; "依据" gives the full citation
WHERE_TO_ASK = "当地医保经办机构或12393医保服务热线"

Message = dict[str, Any]


def channel_of(metadata: dict[str, Any] | None) -> Channel:
    """The channel named in the message metadata; unknown or missing means ``web``."""
    value = str((metadata or {}).get("channel", "web")).lower()
    return value if value in CHANNELS else "web"  # type: ignore[return-value]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tail(answer: Answer, channel: Channel) -> str:
    """Year + short citation (the year only when the summary does not already name it).

    No brackets around it: a section such as ``三（二）1（2）`` ends with one itself.
    """
    year = year_text(answer)
    said = answer.summary
    if answer.benefit_year and str(answer.benefit_year) in said and (
            not answer.year_label or answer.year_label in said):
        year = ""
    cite = short_citation(answer)
    if channel == "sms" and len(cite) > SMS_CITATION:
        cite = cite[: SMS_CITATION - 1] + "…"
    parts = []
    if year:
        parts.append(year)
    if cite:
        parts.append(f"依据：{cite}")
    return "，".join(parts)


def _not_covered(answer: Answer, limit: int, channel: Channel) -> str:
    text = answer.summary
    if answer.covered and channel != "sms":
        covered = "；".join(answer.covered)
        text += f"目前收录：{covered}。"
    if "12393" not in text:
        text += f"其他地区或年度请咨询{WHERE_TO_ASK}。"
    return _cut(text, limit)


def render_plain(answer: Answer, channel: Channel) -> str:
    """The text part of an answer for one channel."""
    limit = SMS_LIMIT if channel == "sms" else WECHAT_LIMIT
    if answer.status == "not_covered":
        return _not_covered(answer, limit, channel)
    if answer.status == "needs_input" and (answer.benefit_year is None or not answer.citations):
        return _cut(answer.summary, limit)  # a clarifying question from the rule layer
    tail = _tail(answer, channel)
    if channel == "sms":
        body = _cut(answer.summary, SMS_LIMIT - len(tail) - 14)
        return body + (f"（{tail}）" if tail else "") + "回复“依据”看原文"
    lines = [answer.summary]
    # The why: the steps the summary does not already say (web and WeChat only).
    lines += [f"· {s}" for s in answer.steps if s.rstrip("。") not in answer.summary][:MAX_STEPS]
    if answer.status == "not_stated":
        lines.append(f"本地通知未载明此事项，请咨询{WHERE_TO_ASK}。")
    for caveat in answer.caveats[:MAX_CAVEATS]:
        lines.append(caveat if caveat.startswith(("注意", "若")) else "注意：" + caveat)
    if tail:
        lines.append(tail)
    if channel == "wechat":
        lines.append("回复“依据”查看政策原文，回复“转人工”联系工作人员。")
        text = "\n".join(lines)
        if len(text) > WECHAT_LIMIT:  # keep the year/citation tail, cut the middle
            keep = "\n".join(lines[-2:])
            text = _cut("\n".join(lines[:-2]), WECHAT_LIMIT - len(keep) - 1) + "\n" + keep
        return text
    return "\n".join(lines)


def render_answer(answer: Answer, channel: Channel) -> list[Message]:
    """Messages for the dispatcher: ``text``, and for ``web`` buttons and a JSON payload."""
    message: Message = {"text": render_plain(answer, channel)}
    if channel == "web" and answer.citations:
        message["buttons"] = [
            {"title": "查看依据", "payload": "/ask_citation"},
            {"title": "转人工", "payload": "/handoff"},
        ]
    if channel == "web":
        message["custom"] = {
            "type": "answer",
            "topic": answer.topic,
            "status": answer.status,
            "region": answer.region,
            "benefit_year": answer.benefit_year,
            "year_label": answer.year_label,
            "summary": answer.summary,
            "figures": [{"key": f.key, "label": f.label, "value": fmt_value(f)}
                        for f in answer.figures],
            "steps": answer.steps,
            "caveats": answer.caveats,
            "missing": answer.missing,
            "covered": answer.covered,
            "citations": [c.model_dump() for c in answer.citations],
        }
    return [message]


def render_citations(citations: list[dict[str, Any]], channel: Channel) -> str:
    """The 依据 of the last answer: 文号, section and the exact quote."""
    if not citations:
        return "还没有可以出示依据的回答。请先提出您的问题，例如“会宁县2022年缴费标准是多少”。"
    limit = SMS_LIMIT if channel == "sms" else WECHAT_LIMIT if channel == "wechat" else 4000
    lines = ["依据："]
    for c in citations:
        lines.append(f"{c.get('doc_no', '')}（{c.get('issuer', '')}）{c.get('section', '')}："
                     f"“{c.get('quote', '')}”")
    return _cut("\n".join(lines), limit)
