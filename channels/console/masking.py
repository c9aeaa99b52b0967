"""Resident identifiers out of everything the console shows.

Conversations carry only the gateway's masked sender; message texts can still contain what
residents type (phone numbers, 身份证号, bank card numbers), so every text shown in the console
goes through :func:`redact_text` first.
"""

from __future__ import annotations

import re

# 18-digit resident ID (last char may be X), 15-digit old IDs, mainland mobile numbers,
# and any other run of 7+ digits (landlines, card numbers), with optional separators.
_ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{6}(?:19|20)\d{2}[01]\d[0-3]\d\d{3}[\dXx](?![0-9A-Za-z])")
_DIGITS_RE = re.compile(r"\+?\d(?:[\d\- ]{5,}\d)")


def _mask_run(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if len(digits) < 7:
        return match.group(0)
    return "*" * (len(digits) - 4) + digits[-4:]


def redact_text(text: str) -> str:
    """Mask ID numbers and digit runs long enough to be phone or card numbers."""
    text = _ID_RE.sub(lambda m: "*" * 14 + m.group(0)[-4:], text)
    return _DIGITS_RE.sub(_mask_run, text)
