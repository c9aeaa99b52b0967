"""Counts the scrypt derivations a test causes, and how many ran at the same time.

The console's password module calls `hashlib.scrypt`; the probe wraps that function (the
real one still runs), so a test can tell whether a refused sign-in cost any hashing work.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

import pytest


class ScryptProbe:
    def __init__(self, real: Callable[..., bytes]) -> None:
        self.real = real
        self.lock = threading.Lock()
        self.calls = 0
        self.running = 0
        self.max_running = 0

    def __call__(self, *args: Any, **kwargs: Any) -> bytes:
        with self.lock:
            self.calls += 1
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        try:
            return self.real(*args, **kwargs)
        finally:
            with self.lock:
                self.running -= 1

    def reset(self) -> None:
        with self.lock:
            self.calls = 0
            self.max_running = self.running


def install(monkeypatch: pytest.MonkeyPatch) -> ScryptProbe:
    probe = ScryptProbe(hashlib.scrypt)
    monkeypatch.setattr(hashlib, "scrypt", probe)
    return probe
