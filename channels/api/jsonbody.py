"""Parsing of the public JSON endpoints' request bodies, with limits on what the stdlib
parser does not limit.

`json.loads` recurses once per nesting level: a body of 10,000 `[` raised RecursionError
(a 500). So the depth is checked first: not at all when the body has fewer brackets than the
limit (every real request), else over the brackets outside strings, found by regular
expressions (C speed), with the number of arrays and objects capped.
Numbers of more than 4,300 digits are refused by Python's int conversion limit (ValueError).
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 8  # requests are flat objects; anything deeper is not ours
MAX_CONTAINERS = 256  # arrays + objects in one body; a real request has one
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


class InvalidJson(ValueError):
    """Not JSON, not UTF-8, nested deeper or with more arrays/objects than allowed."""


def loads(body: bytes, max_depth: int = MAX_DEPTH) -> Any:
    if body.count(b"[") + body.count(b"{") > max_depth:
        _check_shape(body, max_depth)
    try:
        return json.loads(body or b"null")
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise InvalidJson(str(exc)) from None


def _check_shape(body: bytes, max_depth: int) -> None:
    """Depth and container count outside strings; the Python loop sees brackets only, and at
    most 2 * MAX_CONTAINERS of them (a 64 KiB body costs about a millisecond)."""
    bare = _STRING.sub(b"", body)
    if bare.count(b"[") + bare.count(b"{") > MAX_CONTAINERS:
        raise InvalidJson(f"more than {MAX_CONTAINERS} arrays or objects")
    brackets = _BRACKET.findall(bare)
    if len(brackets) > 2 * MAX_CONTAINERS:  # closers without openers: not JSON anyway
        raise InvalidJson("unbalanced brackets")
    depth = 0
    for bracket in brackets:
        if bracket in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                raise InvalidJson(f"nested deeper than {max_depth}")
        else:
            depth -= 1
