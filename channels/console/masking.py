"""Resident identifiers out of everything the console shows.

Conversations carry only the gateway's masked sender; message texts can still contain what
residents type (phone numbers, 身份证号, bank card numbers), so every text shown in the console
goes through :func:`redact_text` first. Dates (2022-03-05, 20220305) and amounts stay readable.
"""

from __future__ import annotations

import re
from datetime import date

from channels.identity import PHONE_SEPARATORS

# 18-digit resident ID (last char may be X) and 15-digit old IDs.
_ID_RE = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
# One separator between digit groups, the same set the log redaction knows (spaces of any
# width, dots, dashes of any kind): 138 1234 5678, 138-1234-5678, 138．1234．5678.
_SEP = f"[{PHONE_SEPARATORS}]?"
# Mobile numbers with optional +86.
_MOBILE_RE = re.compile(rf"(?<!\d)(?:\+?86{_SEP})?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}(?!\d)")
# Landlines with area code: 0943-1234567, (0943)1234567.
_LANDLINE_RE = re.compile(rf"(?<!\d)\(?0\d{{2,3}}\)?{_SEP}\d{{7,8}}(?!\d)")
# Any other run of 7 or more digits (cards, local numbers), unless it is a yyyymmdd date.
_RUN_RE = re.compile(r"(?<!\d)\d{7,}(?!\d)")


def _keep_tail(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return "*" * max(len(digits) - 4, 3) + digits[-4:]


def _is_date(run: str) -> bool:
    if len(run) != 8:
        return False
    try:
        date(int(run[:4]), int(run[4:6]), int(run[6:]))
    except ValueError:
        return False
    return 1900 <= int(run[:4]) <= 2100


def redact_text(text: str) -> str:
    """Mask ID, phone and card numbers (last 4 digits kept)."""
    text = _ID_RE.sub(lambda m: "*" * 14 + m.group(0)[-4:], text)
    text = _MOBILE_RE.sub(lambda m: _keep_tail(m.group(0)), text)
    text = _LANDLINE_RE.sub(lambda m: _keep_tail(m.group(0)), text)
    return _RUN_RE.sub(lambda m: m.group(0) if _is_date(m.group(0)) else _keep_tail(m.group(0)),
                       text)
