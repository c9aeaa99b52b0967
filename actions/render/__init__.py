"""Render a rule-layer :class:`Answer` for the channel the message came from.

``sms`` is short (aim: 2 segments, 134 Chinese characters), ``wechat`` medium (≤ 600
characters), ``web`` rich (buttons and a JSON payload with every figure and citation).
Every rendering names the year and carries a short citation (or, when nothing is covered,
says what is covered and where to ask).
"""

from actions.render.channels import (
    CHANNELS,
    SMS_LIMIT,
    WECHAT_LIMIT,
    channel_of,
    render_answer,
    render_citations,
    render_plain,
)

__all__ = [
    "CHANNELS",
    "SMS_LIMIT",
    "WECHAT_LIMIT",
    "channel_of",
    "render_answer",
    "render_citations",
    "render_plain",
]
