"""Run the message store's (synchronous, short) calls on dedicated threads.

`loop.run_in_executor` builds a `concurrent.futures.Future`, a work item, a wrapping asyncio
future and two chained callbacks for every call; with two store calls per message that was
~7 % of the gateway's CPU in `bench/gateway.py`. Here a call is one tuple on a queue and one
`call_soon_threadsafe` back to the loop. Calls from all threads are taken in order; with one
thread (SQLite: writers serialise anyway) they also run in order.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_STOP = object()
log = logging.getLogger(__name__)


def _deliver(fut: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if fut.cancelled():
        return
    if ok:
        fut.set_result(value)
    else:
        fut.set_exception(value)


class StoreThreads:
    def __init__(self, count: int = 1, name: str = "store") -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._count = max(1, count)
        self._name = name
        self._threads: list[threading.Thread] = []
        self._pid = 0  # threads start at the first call, in the process that serves
        self._closed = False

    def _start(self) -> None:
        self._jobs = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{self._name}-{i}", daemon=True)
            for i in range(self._count)
        ]
        for thread in self._threads:
            thread.start()
        self._pid = os.getpid()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP:
                return
            loop, fut, fn, args = job
            try:
                result = (True, fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
                result = (False, exc)
            try:
                loop.call_soon_threadsafe(_deliver, fut, *result)
            except RuntimeError:  # the loop was closed meanwhile: nobody is waiting
                pass

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise RuntimeError("store threads are shut down")
        if self._pid != os.getpid():  # first call, or a forked child without the threads
            self._start()
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, fut, fn, args))
        return await fut

    def shutdown(self) -> None:
        """Finish the queued calls, then stop the threads (blocks until they are done)."""
        if self._closed:
            return
        self._closed = True
        if self._pid != os.getpid():
            return
        for _ in self._threads:
            self._jobs.put(_STOP)
        for thread in self._threads:
            thread.join()


class Periodic:
    """Call `fn()` every `interval_s` on a daemon thread (started at the first `ensure_started`
    in the serving process) until `stop()`; errors are logged, not raised."""

    def __init__(self, fn: Callable[[], object], interval_s: float, name: str) -> None:
        self._fn = fn
        self._interval_s = interval_s
        self._name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def ensure_started(self) -> None:
        if self._pid == os.getpid() or self._stop.is_set():
            return
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self._fn()
            except Exception:  # noqa: BLE001 - keep going; the next round may succeed
                log.exception("%s failed", self._name)

    def stop(self) -> None:
        """Stop the thread after its current call, then run `fn` once more (blocks)."""
        self._stop.set()
        if self._thread is not None and self._pid == os.getpid():
            self._thread.join()
            self._thread = None
            try:
                self._fn()
            except Exception:  # noqa: BLE001 - best effort at shutdown
                log.exception("%s failed", self._name)
