"""The ledger seam: the in-memory ledger, one ledger shared by two schedulers, and a ledger the
scheduler must await (as a ledger shared by processes is), including one that fails."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence

import pytest

from fgo_async.endpoints import Bucket
from fgo_async.errors import FgoQueueTimeoutError
from fgo_async.scheduling import (
    InMemoryLedger,
    LaneLedger,
    Lease,
    Outcome,
    RatePolicy,
    Scheduler,
    Settlement,
    SyncLaneLedger,
)
from fgo_async.virtual_time import run
from tests.scheduling.helpers import Recorder, gaps, spawn

F = Bucket.FACTURA
A = Bucket.ARTICOL


def test_the_in_memory_ledger_grants_one_lease_per_company_and_spaces_each_bucket() -> None:
    ledger = InMemoryLedger()
    lease = ledger.acquire_now("1", [F], 100.0)
    assert isinstance(lease, Lease)
    assert lease.bucket is F
    assert ledger.acquire_now("1", [A], 100.0) == math.inf  # single flight, whatever the bucket
    assert isinstance(ledger.acquire_now("2", [F], 100.0), Lease)  # another company
    ledger.release_now(lease, 100.5, Outcome.ANSWERED, sent_at=100.0)
    assert ledger.acquire_now("1", [F], 100.5) == pytest.approx(0.6)  # 100 + 1 + 0.1
    other = ledger.acquire_now("1", [F, A], 100.5)  # the articles bucket is free
    assert isinstance(other, Lease)
    assert other.bucket is A


def test_a_lease_released_twice_is_counted_not_applied() -> None:
    ledger = InMemoryLedger()
    lease = ledger.acquire_now("1", [F], 0.0)
    assert isinstance(lease, Lease)
    ledger.release_now(lease, 0.0, Outcome.ANSWERED)
    later = ledger.acquire_now("1", [A], 0.0)
    ledger.release_now(lease, 0.0, Outcome.LOST)  # stale: must not touch the lane
    assert ledger.leases_lost == 1
    assert isinstance(later, Lease)
    assert ledger.acquire_now("1", [F], 0.5) == math.inf  # still held by the second lease


def test_an_idle_lane_is_forgotten_only_once_nothing_of_it_can_matter() -> None:
    ledger = InMemoryLedger()
    lease = ledger.acquire_now("1", [A], 0.0)
    assert isinstance(lease, Lease)
    assert not ledger.forget_if_idle("1", 0.0)  # in flight
    ledger.release_now(lease, 0.0, Outcome.ANSWERED, sent_at=0.0)
    assert not ledger.forget_if_idle("1", 4.0)  # its bucket is spaced until 5.0
    assert ledger.next_change("1") == pytest.approx(5.0)
    assert ledger.forget_if_idle("1", 5.0)
    assert len(ledger) == 0


def test_two_schedulers_sharing_a_ledger_keep_one_discipline() -> None:
    recorder = Recorder()

    async def main() -> None:
        ledger = InMemoryLedger()
        first, second = Scheduler(ledger=ledger), Scheduler(ledger=ledger)
        calls = [
            (first if i % 2 else second).submit(recorder.call(f"c{i}", latency=0.5))
            for i in range(6)
        ]
        await asyncio.gather(*calls)

    run(main())
    assert recorder.max_in_flight == 1
    assert gaps(recorder.starts()) == [1.1] * 5


def test_a_rate_policy_given_twice_must_agree() -> None:
    with pytest.raises(ValueError, match="ledger"):
        Scheduler(ledger=InMemoryLedger(RatePolicy(margin=0.2)), rate_policy=RatePolicy())
    scheduler = Scheduler(ledger=InMemoryLedger(RatePolicy(margin=0.2)))
    assert scheduler.rate_policy.margin == 0.2


class AwaitedLedger:
    """The in-memory ledger seen only through the awaited protocol, each answer taking a
    round trip, as a ledger shared by processes would; ``down`` makes it fail."""

    def __init__(self, round_trip: float = 0.002) -> None:
        self.inner = InMemoryLedger()
        self.rate_policy = self.inner.rate_policy
        self.round_trip = round_trip
        self.down = False
        self.acquires = 0

    async def _trip(self) -> None:
        await asyncio.sleep(self.round_trip)
        if self.down:
            raise ConnectionError("the ledger cannot be reached")

    async def acquire(
        self, company: str | None, buckets: Sequence[Bucket], *, holder: str
    ) -> Lease | float:
        self.acquires += 1
        await self._trip()
        return await self.inner.acquire(company, buckets, holder=holder)

    async def release(
        self,
        lease: Lease,
        settlement: Settlement,
        *,
        then: Sequence[Bucket] = (),
        holder: str = "",
    ) -> Lease | float | None:
        await self._trip()
        return await self.inner.release(lease, settlement, then=then, holder=holder)

    async def withdraw(
        self, company: str | None, buckets: Sequence[Bucket], *, holder: str
    ) -> None:
        await self.inner.withdraw(company, buckets, holder=holder)

    async def restore(
        self, company: str | None, bucket: Bucket, *, sent_ago: float, in_flight: bool
    ) -> None:
        await self.inner.restore(company, bucket, sent_ago=sent_ago, in_flight=in_flight)

    def add_listener(self, listener: object) -> None:
        self.inner.add_listener(listener)  # type: ignore[arg-type]

    async def aclose(self) -> None:
        pass


def test_an_awaited_ledger_is_a_ledger_and_not_a_fast_one() -> None:
    ledger = AwaitedLedger()
    assert isinstance(ledger, LaneLedger)
    assert not isinstance(ledger, SyncLaneLedger)


def test_through_an_awaited_ledger_calls_keep_single_flight_and_spacing() -> None:
    recorder = Recorder()
    ledger = AwaitedLedger()

    async def main() -> None:
        scheduler = Scheduler(ledger=ledger)
        calls = [
            scheduler.submit(recorder.call(f"{company}{i}", company=company, latency=0.3))
            for i in range(4)
            for company in "AB"
        ]
        await asyncio.gather(*calls)
        await scheduler.aclose()

    run(main())
    assert recorder.max_in_flight == 1
    for company in "AB":
        starts = [a.start for a in recorder.attempts if a.company == company]
        # Never closer than the interval plus the margin (the ledger's round trips only add).
        assert all(gap >= 1.1 - 1e-9 for gap in gaps(starts)), gaps(starts)
        assert all(gap < 1.2 for gap in gaps(starts)), gaps(starts)


def test_a_ledger_that_cannot_be_reached_keeps_calls_queued_unsent_until_it_returns() -> None:
    recorder = Recorder()
    ledger = AwaitedLedger()

    async def main() -> float:
        loop = asyncio.get_running_loop()
        scheduler = Scheduler(ledger=ledger)
        ledger.down = True
        t0 = loop.time()
        doomed = recorder.call("doomed", deadline=t0 + 3.0)
        with pytest.raises(FgoQueueTimeoutError):
            await scheduler.submit(doomed)  # fail closed: never sent without the ledger
        patient = spawn(scheduler.submit(recorder.call("patient")))
        await asyncio.sleep(5)
        assert recorder.order() == []
        assert scheduler.stats().ledger_errors >= 3
        ledger.down = False  # Redis is back: the process recovers by itself
        await patient
        return recorder.starts("patient")[0] - t0

    started = run(main())
    assert 8.0 <= started <= 9.1
    assert recorder.order() == ["patient"]


def test_a_grant_for_a_call_cancelled_meanwhile_is_given_back() -> None:
    recorder = Recorder()
    ledger = AwaitedLedger(round_trip=0.5)

    async def main() -> None:
        scheduler = Scheduler(ledger=ledger)
        gone = spawn(scheduler.submit(recorder.call("gone")))
        await asyncio.sleep(0.1)  # the acquire is under way
        gone.cancel()
        await asyncio.sleep(1.5)
        await scheduler.submit(recorder.call("next"))
        await scheduler.aclose()

    run(main())
    assert recorder.order() == ["next"]
    assert ledger.inner.leases_lost == 0


def test_a_scheduler_waits_for_its_releases_before_it_closes() -> None:
    ledger = AwaitedLedger(round_trip=0.5)
    recorder = Recorder()

    async def main() -> None:
        scheduler = Scheduler(ledger=ledger)
        await scheduler.submit(recorder.call("a"))
        await scheduler.aclose()
        # The lease went back before aclose returned: the lane is free for anyone.
        assert ledger.inner.acquire_now("12345678", [F], asyncio.get_running_loop().time() + 5)

    run(main())
