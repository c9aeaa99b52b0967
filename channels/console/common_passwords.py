"""The breached-password check (OWASP ASVS 2.1.7) against the bundled list.

`data/breached-passwords.txt` (origin and license in `data/README.md`) holds lowercased
passwords from public breaches. A password is "common" when, lowercased, it is on the list,
or when it is a listed word of at least 4 characters with only digits, symbols and spaces
around it: `Password2026!` and `2026qwerty` are as guessable as the words they decorate,
and cracking rules try exactly those decorations first.
"""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

LIST_PATH = Path(__file__).parent / "data" / "breached-passwords.txt"
_DECORATION = string.digits + string.punctuation + " "
MIN_WORD = 4


@lru_cache(maxsize=1)
def load() -> frozenset[str]:
    with LIST_PATH.open(encoding="utf-8") as f:
        return frozenset(line.rstrip("\n") for line in f if line.strip())


def is_common(password: str) -> bool:
    listed = load()
    lowered = password.lower()
    if lowered in listed or lowered.strip() in listed:
        return True
    word = lowered.strip(_DECORATION)
    return len(word) >= MIN_WORD and word != lowered and word in listed
