"""A bounded pool for password hashing, so a burst of sign-ins cannot slow everyone.

scrypt at the console's cost takes ~0.2 s of a core and 64 MiB. Run on the event loop's
shared default executor (as before issue 12), a burst of sign-ins occupied every thread the
console's own database calls use, so each signed-in staff member's page waited behind the
burst. Here derivations run on their own threads, at most `workers` at a time; at most
`queue` more may wait, each for at most `wait_s`. Anything beyond is refused at once
(`HashBusy`, answered 503 with Retry-After) instead of piling up.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class HashBusy(Exception):
    """The pool is full: try again in `retry_after_s`."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__("password hashing pool is busy")
        self.retry_after_s = retry_after_s


class HashGate:
    def __init__(self, workers: int, queue: int, wait_s: float) -> None:
        self.workers = workers
        self.queue = queue
        self.wait_s = wait_s
        self._executor = ThreadPoolExecutor(max_workers=workers,
                                            thread_name_prefix="console-scrypt")
        self._slots: asyncio.Semaphore | None = None
        self._waiting = 0

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """`fn(*args)` on the pool's threads; raises HashBusy when the pool is full."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        slots = self._slots
        retry = float(max(1, math.ceil(self.wait_s)))
        if slots.locked() and self._waiting >= self.queue:
            raise HashBusy(retry)
        self._waiting += 1
        try:
            async with asyncio.timeout(self.wait_s):
                await slots.acquire()
        except TimeoutError:
            raise HashBusy(retry) from None
        finally:
            self._waiting -= 1
        try:
            future = asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        except BaseException:
            slots.release()
            raise
        # The slot is freed when the derivation ends, even if the request is cancelled
        # meanwhile: a running thread cannot be stopped, so it still counts.
        future.add_done_callback(lambda _: slots.release())
        return await asyncio.shield(future)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
