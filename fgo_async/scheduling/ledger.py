"""Where the state of the company lanes lives: the ledger, behind one small protocol.

A scheduler keeps its waiting calls to itself, but asks a ledger for a company's lane: who may
call the vendor next for that company, and when. :class:`InMemoryLedger` keeps the lanes of one
process (the default); a ledger shared by many processes, such as
:class:`fgo_async.redis.RedisLedger`, keeps one discipline across all of them. Every decision is
taken by the pure functions of :mod:`.discipline` on the ledger's own clock; the protocol speaks
in durations ("wait 0.4 s", "the request left 0.2 s ago"), never in one process's clock.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import attrs

from .._log_fields import company_fields
from ..endpoints import Bucket
from .discipline import LaneState, Outcome, admit, restored, settle
from .policy import RatePolicy

__all__ = [
    "InMemoryLedger",
    "LaneLedger",
    "LaneListener",
    "Lease",
    "Settlement",
    "SyncLaneLedger",
]

logger = logging.getLogger("fgo_async.scheduler")

#: Called with a company (None for the nomenclator lane) when its lane may have opened.
LaneListener = Callable[[str | None], None]


@attrs.frozen(kw_only=True)
class Lease:
    """The right to make one call for ``company`` in ``bucket``; give it back with ``release``.

    ``token`` tells this lease from any other; a ledger shared by processes also gives each
    lease a time to live, after which the lane reopens by itself (a crashed holder).
    """

    company: str | None
    bucket: Bucket
    token: str


@attrs.frozen(kw_only=True)
class Settlement:
    """How a leased call ended, in durations counted back from the release.

    ``sent_ago`` is how long ago the request left (None when it is not known, or never
    left); ``retry_after`` is the vendor's ``Retry-After`` of a throttle, in seconds.
    """

    outcome: Outcome
    sent_ago: float | None = None
    retry_after: float | None = None


@runtime_checkable
class LaneLedger(Protocol):
    """The lanes of the companies, for one or many schedulers.

    ``acquire`` grants the lane of ``company`` for the first bucket of ``buckets`` (given in the
    order the caller would rather go) that may start now, or says how many seconds to wait;
    ``math.inf`` means "until the call in flight elsewhere ends", which the ledger announces to
    its listeners. ``holder`` names the scheduler asking, so a shared ledger can queue
    schedulers first come, first served. ``release`` gives a lease back with how its call ended.
    """

    async def acquire(
        self, company: str | None, buckets: Sequence[Bucket], *, holder: str
    ) -> Lease | float:
        """A lease, or the seconds to wait before asking again."""
        ...

    async def release(
        self,
        lease: Lease,
        settlement: Settlement,
        *,
        then: Sequence[Bucket] = (),
        holder: str = "",
    ) -> Lease | float | None:
        """End a lease: the ledger settles the lane's spacing from ``settlement``.

        With ``then`` (buckets the caller still has calls for), a ledger may ask for the lane
        again in the same round trip and answer as ``acquire`` does; None when it did not.
        """
        ...

    async def withdraw(
        self, company: str | None, buckets: Sequence[Bucket], *, holder: str
    ) -> None:
        """``holder`` no longer waits for these buckets of ``company``."""
        ...

    async def restore(
        self, company: str | None, bucket: Bucket, *, sent_ago: float, in_flight: bool
    ) -> None:
        """Start a lane no sooner than a call sent ``sent_ago`` seconds ago allows (a call of a
        process that ended, read from a journal); ``in_flight`` when its reply never came."""
        ...

    def add_listener(self, listener: LaneListener) -> None:
        """Call ``listener`` with a company whenever its lane may have opened."""
        ...

    async def aclose(self) -> None:
        """Release what the ledger holds (connections, subscriptions)."""
        ...


@runtime_checkable
class SyncLaneLedger(Protocol):
    """A ledger on this process's event loop clock, which the scheduler may ask without
    awaiting: the fast path of :class:`InMemoryLedger`."""

    def acquire_now(
        self, company: str | None, buckets: Sequence[Bucket], now: float
    ) -> Lease | float:
        """As ``acquire``, at loop time ``now``."""
        ...

    def release_now(
        self,
        lease: Lease,
        now: float,
        outcome: Outcome,
        sent_at: float | None = None,
        retry_after: float | None = None,
    ) -> None:
        """As ``release``, at loop time ``now``, with ``sent_at`` on the loop clock."""
        ...

    def forget_if_idle(self, company: str | None, now: float) -> bool:
        """Drop the lane of ``company`` when nothing of it can matter any more; True if so."""
        ...


class _Lane:
    """One company's lane in memory: its call in flight, its state, each bucket's next start."""

    __slots__ = ("holder", "next_start", "state")

    def __init__(self) -> None:
        self.holder: str | None = None  # the token of the lease in flight
        self.state = LaneState()
        self.next_start: dict[Bucket, float] = {}


class InMemoryLedger:
    """The lanes of the schedulers of one process, on the event loop's clock.

    A scheduler makes its own; give one to several schedulers of one loop to make them keep
    one discipline. ``rate_policy`` holds the vendor's numbers (the scheduler's by default).
    """

    def __init__(self, rate_policy: RatePolicy | None = None) -> None:
        self.rate_policy = rate_policy or RatePolicy()
        self._lanes: dict[str | None, _Lane] = {}
        self._tokens = itertools.count(1)
        self._listeners: list[LaneListener] = []
        #: Releases whose lease was not the one in flight (a bug in the caller, or an expiry).
        self.leases_lost = 0

    def __len__(self) -> int:
        return len(self._lanes)

    # -- the fast path -----------------------------------------------------------------------

    def acquire_now(
        self, company: str | None, buckets: Sequence[Bucket], now: float
    ) -> Lease | float:
        """A lease for the first bucket of ``buckets`` that may start at ``now``, or the seconds
        until one may (``math.inf`` while a call of the company is in flight)."""
        lane = self._lanes.get(company)
        if lane is None:
            lane = self._lanes[company] = _Lane()
        elif lane.holder is not None:
            return math.inf
        shortest = math.inf
        state = lane.state
        for bucket in buckets:
            wait = admit(state, lane.next_start.get(bucket, -math.inf), now)
            if wait == 0.0:
                token = str(next(self._tokens))
                lane.holder = token
                return Lease(company=company, bucket=bucket, token=token)
            if wait < shortest:
                shortest = wait
        return shortest

    def release_now(
        self,
        lease: Lease,
        now: float,
        outcome: Outcome,
        sent_at: float | None = None,
        retry_after: float | None = None,
    ) -> None:
        """End ``lease`` at loop time ``now``; its call ended with ``outcome``."""
        lane = self._lanes.get(lease.company)
        if lane is None or lane.holder != lease.token:
            self.leases_lost += 1
            logger.warning(
                "a lease of company %s was released twice",
                lease.company,
                extra=company_fields(lease.company),
            )
            return
        lane.holder = None
        settled = settle(
            lane.state,
            lane.next_start.get(lease.bucket, -math.inf),
            self.rate_policy,
            lease.bucket,
            now=now,
            outcome=outcome,
            sent_at=sent_at,
            retry_after=retry_after,
        )
        lane.state = settled.lane
        lane.next_start[lease.bucket] = settled.next_start
        for listener in self._listeners:
            listener(lease.company)

    def forget_if_idle(self, company: str | None, now: float) -> bool:
        """Drop the lane of ``company`` once nothing it holds can delay a call: no call in
        flight, no hold, every bucket free and no widening in force. True when dropped."""
        lane = self._lanes.get(company)
        if lane is None:
            return True
        if lane.holder is not None or lane.state.matters_until() > now:
            return False
        if any(start > now for start in lane.next_start.values()):
            return False
        del self._lanes[company]
        return True

    def next_change(self, company: str | None) -> float:
        """The loop time after which the lane of ``company`` holds nothing that matters (its
        hold and every bucket's next start have passed); ``-inf`` when it holds nothing."""
        lane = self._lanes.get(company)
        if lane is None:
            return -math.inf
        return max(lane.state.matters_until(), *lane.next_start.values(), -math.inf)

    # -- the protocol --------------------------------------------------------------------------

    async def acquire(
        self, company: str | None, buckets: Sequence[Bucket], *, holder: str = ""
    ) -> Lease | float:
        """See :class:`LaneLedger`."""
        return self.acquire_now(company, buckets, _loop_time())

    async def release(
        self,
        lease: Lease,
        settlement: Settlement,
        *,
        then: Sequence[Bucket] = (),
        holder: str = "",
    ) -> Lease | float | None:
        """See :class:`LaneLedger`."""
        now = _loop_time()
        sent_at = None if settlement.sent_ago is None else now - settlement.sent_ago
        self.release_now(lease, now, settlement.outcome, sent_at, settlement.retry_after)
        return self.acquire_now(lease.company, then, now) if then else None

    async def withdraw(
        self, company: str | None, buckets: Sequence[Bucket], *, holder: str = ""
    ) -> None:
        """Nothing to do: in one process, waiting schedulers are told by the listeners."""

    async def restore(
        self, company: str | None, bucket: Bucket, *, sent_ago: float, in_flight: bool
    ) -> None:
        """See :class:`LaneLedger`."""
        self.restore_now(company, bucket, sent_ago=sent_ago, in_flight=in_flight, now=_loop_time())

    def restore_now(
        self, company: str | None, bucket: Bucket, *, sent_ago: float, in_flight: bool, now: float
    ) -> None:
        """As :meth:`restore`, at loop time ``now``; never brings a start closer."""
        lane = self._lanes.get(company)
        if lane is None:
            lane = self._lanes[company] = _Lane()
        settled = restored(
            lane.state, self.rate_policy, bucket, sent_ago=sent_ago, now=now, in_flight=in_flight
        )
        lane.state = settled.lane
        lane.next_start[bucket] = max(lane.next_start.get(bucket, -math.inf), settled.next_start)

    def add_listener(self, listener: LaneListener) -> None:
        """See :class:`LaneLedger`."""
        self._listeners.append(listener)

    async def aclose(self) -> None:
        """Nothing to release."""


def _loop_time() -> float:
    return asyncio.get_running_loop().time()
