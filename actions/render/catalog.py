"""The text catalog: every sentence residents read, keyed by what it says (catalog.yaml).

The rule layer and the conversation pass :class:`~actions.rules.contract.Text` values (a key
and its parameters); this module fills the catalog's templates. Values are formatted by type:
amounts (Decimal) without trailing zeros, days (date) as 2022年1月1日, nested Texts rendered, and
lists joined by the format spec of their field (``{items:、}``; ``{items:concat}`` for none;
"；" when none is given).
A key may have a short ``sms`` wording beside its ``full`` one.
"""

from __future__ import annotations

import string
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

from actions.rules.contract import Text, say

CATALOG_FILE = Path(__file__).with_name("catalog.yaml")
Variant = Literal["full", "sms"]


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    data = yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8"))
    return {key: (value if isinstance(value, dict) else {"full": value}) for key, value in data.items()}


def yuan(amount: Decimal | int) -> str:
    """320 → '320', Decimal('105.40') → '105.4'."""
    text = f"{Decimal(amount):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


class _Formatter(string.Formatter):
    def __init__(self, variant: Variant) -> None:
        self.variant = variant

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, list | tuple):
            sep = "" if format_spec == "concat" else (format_spec or "；")
            return sep.join(self.format_field(v, "") for v in value)
        return _plain(value, self.variant)


def _plain(value: Any, variant: Variant) -> str:
    if isinstance(value, Text):
        return render_text(value, variant)
    if isinstance(value, dict) and "key" in value:  # a Text read back from JSON
        return render_text(Text.model_validate(value), variant)
    if isinstance(value, Decimal):
        return yuan(value)
    if isinstance(value, date):
        return cn_date(value)
    return str(value)


def render_text(text: Text, variant: Variant = "full") -> str:
    """The sentence for ``text`` (the ``sms`` wording when asked for and there is one)."""
    entry = catalog().get(text.key)
    if entry is None:
        raise KeyError(f"text key {text.key!r} is not in {CATALOG_FILE.name}")
    template = entry.get(variant) or entry["full"]
    return _Formatter(variant).vformat(template, (), {"hotline": hotline(), **text.params})


def text(key: str, **params: Any) -> str:
    """The full sentence of catalog entry ``key`` with ``params``."""
    return render_text(say(key, **params))


def hotline() -> str:
    """The service hotline, said in one place (catalog key ``hotline``)."""
    return catalog()["hotline"]["full"]
