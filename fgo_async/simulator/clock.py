"""The simulated wall clock: calendar time that advances with the event loop's clock.

Issue dates and the article change log need dates and times; the call discipline needs the loop
clock. Deriving the first from the second keeps them in step, so that a test on virtual time
that jumps 30 minutes sees the change log's windows move by 30 minutes too.
"""

from __future__ import annotations

import asyncio
import datetime

__all__ = ["SimulatedClock"]


class SimulatedClock:
    """Maps the running loop's ``time()`` onto calendar time.

    The mapping is fixed at the first reading: ``start`` (or the real local time then) is what
    the calendar says at that loop time.
    """

    def __init__(self, start: datetime.datetime | None = None) -> None:
        self._start = start
        self._origin: float | None = None

    @staticmethod
    def loop_time() -> float:
        """The running loop's clock."""
        return asyncio.get_running_loop().time()

    def now(self) -> datetime.datetime:
        """The simulated local date and time (naive, as the vendor writes them)."""
        loop_now = self.loop_time()
        if self._origin is None:
            self._origin = loop_now
            if self._start is None:
                self._start = datetime.datetime.now().replace(microsecond=0)
        assert self._start is not None
        return self._start + datetime.timedelta(seconds=loop_now - self._origin)
