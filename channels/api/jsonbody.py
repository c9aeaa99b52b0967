"""Parsing of the public JSON endpoints' request bodies, with limits on what the stdlib
parser does not limit.

`json.loads` recurses once per nesting level: a body of 10,000 `[` raised RecursionError
(a 500). Bodies are small (`MAX_BODY_BYTES`), and the depth is checked first: cheaply when the
body has few brackets at all (every real request), by a scan outside strings otherwise.
Numbers of more than 4,300 digits are refused by Python's int conversion limit (ValueError).
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 8  # requests are flat objects; anything deeper is not ours
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


class InvalidJson(ValueError):
    """Not JSON, not UTF-8, or nested deeper than allowed."""


def loads(body: bytes, max_depth: int = MAX_DEPTH) -> Any:
    if body.count(b"[") + body.count(b"{") > max_depth:
        _check_depth(body, max_depth)
    try:
        return json.loads(body or b"null")
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise InvalidJson(str(exc)) from None


def _check_depth(body: bytes, max_depth: int) -> None:
    depth = 0
    for byte in _STRING.sub(b"", body):
        if byte in b"[{":  # bytes iterate as ints; `in` on bytes tests membership
            depth += 1
            if depth > max_depth:
                raise InvalidJson(f"nested deeper than {max_depth}")
        elif byte in b"]}":
            depth -= 1
