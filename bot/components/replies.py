"""Bare context replies ("白银", "2023年", "那低保户呢?"): pure detection, no Rasa imports.

A message made only of region / year / category / date entities and filler words is a reply
to the bot's last question or a follow-up on the last topic, however unsure the intent
classifier is about such a short message.
"""

from __future__ import annotations

from typing import Any

CONTEXT_ENTITIES = {"region", "year", "category", "date"}
FILLER = set("那的呢吗嘛啊呀吧哦噢嗯是在我家们就如果换成问年度份号日月,，.。?？!！、 ")


def is_bare_reply(text: str, entities: list[dict[str, Any]]) -> bool:
    spans = [e for e in entities if e.get("entity") in CONTEXT_ENTITIES
             and isinstance(e.get("start"), int) and isinstance(e.get("end"), int)]
    if not spans or not text:
        return False
    rest = list(text)
    for e in spans:
        for i in range(max(0, e["start"]), min(len(rest), e["end"])):
            rest[i] = " "
    return all(ch in FILLER for ch in rest)
