"""Fit a reply into few SMS segments.

A message of GSM-7 characters takes 160 per segment (153 each when concatenated); anything
else, e.g. Chinese, is sent as UCS-2: 70 UTF-16 code units alone, 67 each when concatenated.
A character outside the BMP (emoji, CJK Extension B) takes two UTF-16 code units, and a
concatenated message must never split such a surrogate pair, so all lengths here are counted
in UTF-16 code units and every cut falls between code points.

`split_sms` keeps a short reply whole and cuts a long one into parts of at most two segments
(134 UCS-2 units, or 306 GSM-7 septets), each prefixed `(i/n)`, preferring to cut after a
line break or sentence punctuation. The parts together never exceed `max_total` units
(Twilio's 1,600 characters); what does not fit is cut off and the last part ends with `…`
(`...` in GSM-7 text).
"""

from __future__ import annotations

UCS2_SINGLE = 70
UCS2_SEGMENT = 67
GSM_SINGLE = 160
GSM_SEGMENT = 153
TWILIO_MAX = 1600
ELLIPSIS = "…"
_BREAKS = "\n。！？；!?;，,、 ）)"

_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXT = set("^{}\\[~]|€\f")


def normalize(text: str) -> str:
    """Join stray surrogate code points into characters; replace lone ones with U+FFFD."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def is_gsm7(text: str) -> bool:
    return all(ch in _GSM_BASIC or ch in _GSM_EXT for ch in text)


def units(text: str, gsm: bool) -> int:
    """Length in the unit segments are counted in: septets for GSM-7, UTF-16 units else."""
    if gsm:
        return sum(2 if ch in _GSM_EXT else 1 for ch in text)
    return len(text.encode("utf-16-le")) // 2


def segments(text: str) -> int:
    """How many SMS segments `text` takes as one (possibly concatenated) message."""
    gsm = is_gsm7(text)
    n = units(text, gsm)
    single, seg = (GSM_SINGLE, GSM_SEGMENT) if gsm else (UCS2_SINGLE, UCS2_SEGMENT)
    if n <= single:
        return 1
    return -(-n // seg)


def _prefix(i: int, n: int) -> str:
    return f"({i}/{n})"


def _cut(text: str, limit: int, gsm: bool) -> int:
    """Index of the best cut so that text[:index] takes at most `limit` units (index >= 1)."""
    used = 0
    end = 0
    for idx, ch in enumerate(text):
        w = units(ch, gsm)
        if used + w > limit:
            break
        used += w
        end = idx + 1
    if end >= len(text):
        return len(text)
    if end == 0:
        return 1 if limit > 0 else 0
    floor = max(1, end // 2)
    for idx in range(end, floor - 1, -1):
        if text[idx - 1] in _BREAKS:
            return idx
    return end


def split_sms(
    text: str, *, max_segments_per_part: int = 2, max_total: int = TWILIO_MAX
) -> list[str]:
    """Split `text` into SMS parts; see the module docstring for the rules."""
    text = normalize(text)
    if not text:
        return []
    gsm = is_gsm7(text)
    seg = GSM_SEGMENT if gsm else UCS2_SEGMENT
    single = GSM_SINGLE if gsm else UCS2_SINGLE
    part_limit = seg * max_segments_per_part if max_segments_per_part > 1 else single
    total = units(text, gsm)
    if total <= part_limit and total <= max_total:
        return [text]
    # Numbered parts; the prefix width depends on the number of parts, so iterate.
    n_guess = 1
    for _ in range(5):
        parts = _split_numbered(text, gsm, part_limit, max_total, n_guess)
        if len(parts) == n_guess:
            return parts
        n_guess = len(parts)
    return _split_numbered(text, gsm, part_limit, max_total, max(n_guess, 10) * 10 - 1)


def _split_numbered(text: str, gsm: bool, part_limit: int, max_total: int, n: int) -> list[str]:
    width = units(_prefix(n, n), gsm)
    ellipsis = "..." if gsm else ELLIPSIS
    bodies: list[str] = []
    rest = text
    budget = max_total
    while rest:
        limit = min(part_limit - width, budget - width)
        if limit <= units(ellipsis, gsm):
            break
        if units(rest, gsm) <= limit:
            bodies.append(rest)
            rest = ""
            break
        # Would the remainder still fit after this part? If not, this may be the last part.
        cut = _cut(rest, limit, gsm)
        bodies.append(rest[:cut])
        rest = rest[cut:]
        budget -= width + units(bodies[-1], gsm)
    if rest:
        # Out of room: shorten the last part so it can end with an ellipsis.
        last = bodies.pop() if bodies else ""
        room = units(last, gsm) - units(ellipsis, gsm)
        if room < 0:
            last, room = "", 0
        keep = _cut(last, room, gsm) if room > 0 else 0
        bodies.append(last[:keep] + ellipsis)
    count = len(bodies)
    return [_prefix(i + 1, count) + body for i, body in enumerate(bodies)]


def strip_prefix(part: str) -> str:
    """Remove the `(i/n)` prefix added by `split_sms` (for reassembly)."""
    if part.startswith("("):
        close = part.find(")")
        if close > 0 and "/" in part[:close]:
            return part[close + 1 :]
    return part


def reassemble(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return "".join(strip_prefix(p) for p in parts)
