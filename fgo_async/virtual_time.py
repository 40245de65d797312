"""An event loop on virtual time: ``loop.time()`` jumps to the next timer whenever the loop idles.

For tests and benchmarks of code that waits on the loop's clock (the scheduler, the simulator):
hours of spacing run in milliseconds, and timings are exact (a call spaced 1.1 s after another
starts at exactly +1.1 s). Only in-process I/O may be used (:class:`~fgo_async.transport.
MockTransport`, the simulator's in-process transport): a real socket would see its timeouts
fire at once, since time jumps whenever the loop would wait.

::

    from fgo_async.virtual_time import run

    async def main() -> None:
        await asyncio.sleep(3600)  # returns at once; loop.time() moved by 3600

    run(main())
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

__all__ = ["VirtualTimeLoop", "run"]

T = TypeVar("T")

# How long to wait on the real clock for real I/O (a thread's call_soon_threadsafe) before
# declaring that nothing can ever happen.
_REAL_IDLE_LIMIT = 5.0


class _VirtualSelector(selectors.BaseSelector):
    """Polls the real selector without blocking; where the loop would sleep, time jumps."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        self._real = selectors.DefaultSelector()
        self._loop = loop

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._real.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._real.select(0)
        if ready:
            return ready
        if timeout is None:
            ready = self._real.select(_REAL_IDLE_LIMIT)
            if not ready:
                raise RuntimeError("virtual time: nothing is scheduled and nothing can wake up")
            return ready
        self._loop.now += max(0.0, timeout)
        return []

    def close(self) -> None:
        self._real.close()

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        return self._real.get_key(fileobj)

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._real.get_map()


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose clock only moves when every task waits for a timer."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        super().__init__(_VirtualSelector(self))

    def time(self) -> float:
        return self.now


def run(coro: Coroutine[Any, Any, T], *, start: float = 1000.0) -> T:
    """Run ``coro`` to completion on a fresh virtual-time loop."""
    loop = VirtualTimeLoop(start)
    try:
        return loop.run_until_complete(coro)
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
