"""SMS keywords handled by the gateway itself, before the bot: opt-out, opt-in, help."""

from __future__ import annotations

import unicodedata
from typing import Literal

Keyword = Literal["stop", "start", "help"]

STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "退订", "取消", "TD", "T"}
)
START_WORDS = frozenset({"START", "UNSTOP", "SUBSCRIBE", "开始", "订阅"})
HELP_WORDS = frozenset({"HELP", "INFO", "帮助"})
_TRIM = " \t\r\n.,!?。，！？~～"


def classify(text: str) -> Keyword | None:
    """The keyword `text` consists of (whole message, any case, full-width too), or None."""
    word = unicodedata.normalize("NFKC", text).strip(_TRIM).upper()
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    if word in HELP_WORDS:
        return "help"
    return None
