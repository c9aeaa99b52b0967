"""Strict parser for `application/x-www-form-urlencoded` webhook bodies."""

from __future__ import annotations

from urllib.parse import parse_qsl

MAX_FIELDS = 100


class FormRejected(ValueError):
    """The body is not a well-formed, reasonably sized form."""


class FormData(dict[str, list[str]]):
    """Field name → values, with the `getlist` the twilio validator understands."""

    def getlist(self, name: str) -> list[str]:
        return self[name]

    def first(self, name: str, default: str = "") -> str:
        values = self.get(name)
        return values[0] if values else default


def parse_form(body: bytes, *, max_bytes: int = 64 * 1024) -> FormData:
    """Parse a form body; raises FormRejected for oversize, non-ASCII or non-UTF-8 input."""
    if len(body) > max_bytes:
        raise FormRejected("form body too large")
    try:
        raw = body.decode("ascii")
        pairs = parse_qsl(
            raw,
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormRejected(f"malformed form body: {type(exc).__name__}") from exc
    form = FormData()
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            raise FormRejected("NUL in form field")
        form.setdefault(name, []).append(value)
    return form
