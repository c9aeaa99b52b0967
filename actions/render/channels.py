"""Per-channel rendering of answers (pure functions: Answer in, message dicts out)."""

from __future__ import annotations

from typing import Any, Literal

from actions.render.catalog import Variant, render_text, text
from actions.render.format import fmt_value, short_citation, year_text
from actions.rules.contract import Answer, Text

Channel = Literal["sms", "wechat", "web"]
CHANNELS: tuple[Channel, ...] = ("sms", "wechat", "web")
SMS_LIMIT = 134  # two concatenated UCS-2 SMS segments of 67 characters
WECHAT_LIMIT = 600
SMS_CITATION = 24  # a long notice title is cut in SMS; "依据" gives the full citation
MAX_STEPS = 8
MAX_CAVEATS = 3
# Notes that open with their own words ("若您说的…"); the others get "注意：".
NOTES_AS_IS = {"conv.also_benefit_year"}

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
    # The headline names place and year itself when it opens with the answer's heading.
    year = "" if "where" in answer.headline.params else year_text(answer)
    cite = short_citation(answer)
    if channel == "sms" and len(cite) > SMS_CITATION:
        cite = cite[: SMS_CITATION - 1] + "…"
    parts = []
    if year:
        parts.append(year)
    if cite:
        parts.append(text("render.basis", cite=cite))
    return "，".join(parts)


def _not_covered(answer: Answer, limit: int, channel: Channel) -> str:
    out = render_text(answer.headline, _variant(channel))
    if answer.covered and channel != "sms":
        out += text("render.covered", covered=answer.covered)
    return _cut(out, limit)


def _variant(channel: Channel) -> Variant:
    return "sms" if channel == "sms" else "full"


def _note(note: Text) -> str:
    body = render_text(note)
    return body if note.key in NOTES_AS_IS else text("render.note", text=body)


def render_plain(answer: Answer, channel: Channel) -> str:
    """The text part of an answer for one channel."""
    limit = SMS_LIMIT if channel == "sms" else WECHAT_LIMIT
    if answer.status == "not_covered":
        return _not_covered(answer, limit, channel)
    if answer.status == "needs_input" and (answer.benefit_year is None or not answer.citations):
        return _cut(answer.summary, limit)  # a clarifying question from the rule layer
    tail = _tail(answer, channel)
    if channel == "sms":
        short = render_text(answer.headline, "sms")
        body = _cut(short, SMS_LIMIT - len(tail) - 14)
        return body + (text("render.sms_tail", tail=tail) if tail else "") + text("render.sms_more")
    lines = [answer.summary]
    # The why: the steps that are not the headline's own words (web and WeChat only).
    lines += [text("render.step", text=s) for s in answer.steps if s.rstrip("。") not in answer.summary
              ][:MAX_STEPS]
    if answer.status == "not_stated":
        lines.append(text("render.not_stated"))
    lines += [_note(n) for n in answer.notes[:MAX_CAVEATS]]
    if tail:
        lines.append(tail)
    if channel == "wechat":
        lines.append(text("render.wechat_more"))
        out = "\n".join(lines)
        if len(out) > WECHAT_LIMIT:  # keep the year/citation tail, cut the middle
            keep = "\n".join(lines[-2:])
            out = _cut("\n".join(lines[:-2]), WECHAT_LIMIT - len(keep) - 1) + "\n" + keep
        return out
    return "\n".join(lines)


def render_answer(answer: Answer, channel: Channel) -> list[Message]:
    """Messages for the dispatcher: ``text``, the JSON payload (``custom``: topic, figures,
    citations …; the gateway stores it and shows residents only the text), and for ``web``
    the buttons."""
    message: Message = {"text": render_plain(answer, channel)}
    if channel == "web" and answer.citations:
        message["buttons"] = [
            {"title": text("render.button_basis"), "payload": "/ask_citation"},
            {"title": text("render.button_handoff"), "payload": "/handoff"},
        ]
    message["custom"] = {  # every channel: the gateway keeps it in the message log (console)
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
        return text("render.no_basis_yet")
    limit = SMS_LIMIT if channel == "sms" else WECHAT_LIMIT if channel == "wechat" else 4000
    lines = [text("render.basis_head")]
    for c in citations:
        lines.append(text("render.citation", doc_no=c.get("doc_no", ""), issuer=c.get("issuer", ""),
                          section=c.get("section", ""), quote=c.get("quote", "")))
    return _cut("\n".join(lines), limit)
