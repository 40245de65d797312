"""Virtual time for asyncio: ``loop.time()`` jumps to the next timer whenever the loop idles.

For tests and benchmarks of code that waits on the loop's clock (the scheduler, the simulator):
hours of rate-limit spacing run in milliseconds, and timings are exact (a call spaced 1.1 s
after another starts at exactly +1.1 s). Real I/O is still polled, without waiting; code on
virtual time should use in-process transports (:class:`~fgo_async.transport.MockTransport`,
the simulator's ``SimulatorTransport``), since a real socket would see its timeouts fire at once.

::

    from fgo_async.virtual_time import run

    async def main() -> None:
        await asyncio.sleep(3600)  # returns at once; loop.time() moved by 3600

    run(main())

In pytest, the ``virtual_clock`` fixture of :mod:`fgo_async.testing` puts a test's own loop on
a :class:`VirtualClock`.

Work the loop waits for off the loop (a thread writing a file: the journal) is marked with
:func:`real_work`: while it runs, the clock stands still and the loop waits for it in real
time, so that it takes no virtual time instead of letting every timer due before the next one
fire first.
"""

from __future__ import annotations

import asyncio
import contextlib
import selectors
import weakref
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar
from unittest import mock

__all__ = ["VirtualClock", "real_work", "run"]

T = TypeVar("T")

# How many pieces of work off the loop each loop is waiting for (see real_work).
_REAL_WORK: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, int] = weakref.WeakKeyDictionary()

#: How long, in real seconds, a loop on virtual time with no timer at all waits for real I/O
#: before concluding that nothing can ever wake it (a deadlock in the code under test).
REAL_IDLE_LIMIT = 30.0


class VirtualClock:
    """Virtual time for an asyncio event loop (a selector loop, the default on Unix).

    Once :meth:`patch_loop` is entered, the loop's ``time()`` reads this clock, and whenever the
    loop would block waiting for its next timer, the clock jumps to that timer instead: a
    ``sleep(1800)`` returns at once, yet the loop's clock says 30 minutes went by, and every
    timer fires in the order real time would fire it.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = start

    def time(self) -> float:
        """The virtual time, in seconds."""
        if self._now is None:
            raise RuntimeError("the clock is not attached to a loop yet")
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` at once (timers due by then fire next)."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self._now = self.time() + seconds

    @contextlib.contextmanager
    def patch_loop(self, loop: asyncio.AbstractEventLoop | None = None) -> Iterator[VirtualClock]:
        """Put ``loop`` (the running loop by default) on this clock for the ``with`` block."""
        loop = loop or asyncio.get_running_loop()
        selector: selectors.BaseSelector | None = getattr(loop, "_selector", None)
        if selector is None:
            raise RuntimeError(f"{type(loop).__name__} has no selector to put on virtual time")
        if self._now is None:
            self._now = loop.time()
        real_select = selector.select

        def select(timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
            if timeout is None or (timeout > 0 and _REAL_WORK.get(loop)):
                # No timer at all, or work off the loop is under way: only real I/O can wake
                # the loop (the work's end included), and the clock waits for it.
                ready = real_select(REAL_IDLE_LIMIT)
                if not ready:
                    what = "work off the loop did not end" if timeout else "nothing is scheduled"
                    raise RuntimeError(f"virtual time: {what} and nothing woke up")
                return ready
            if timeout > 0:
                self._now = self.time() + timeout
            return real_select(0)

        with (
            mock.patch.object(loop, "time", self.time),
            mock.patch.object(selector, "select", select),
        ):
            yield self


@contextlib.contextmanager
def real_work(loop: asyncio.AbstractEventLoop | None = None) -> Iterator[None]:
    """Mark, for the ``with`` block, work that ``loop`` (the running loop by default) waits for
    and that runs off it, on a thread or in another process. On virtual time the clock stands
    still until it ends, as if it took no time; on a real clock this costs a dict update."""
    loop = loop or asyncio.get_running_loop()
    _REAL_WORK[loop] = _REAL_WORK.get(loop, 0) + 1
    try:
        yield
    finally:
        left = _REAL_WORK.get(loop, 1) - 1
        if left:
            _REAL_WORK[loop] = left
        else:
            _REAL_WORK.pop(loop, None)


def run(coro: Coroutine[Any, Any, T], *, start: float = 1000.0) -> T:
    """Run ``coro`` to completion on a fresh event loop on virtual time, starting at ``start``."""
    loop = asyncio.SelectorEventLoop()
    try:
        with VirtualClock(start).patch_loop(loop):
            try:
                return loop.run_until_complete(coro)
            finally:
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()
