"""Rate buckets on virtual time: every bucket's spacing, margin, strict mode, throttle widening."""

from __future__ import annotations

import asyncio

import pytest

from fgo_async.endpoints import Bucket
from fgo_async.errors import FgoRateLimitedError
from fgo_async.scheduling import RatePolicy, RetryPolicy, Scheduler
from fgo_async.virtual_time import run
from tests.scheduling.helpers import BUCKET_ENDPOINT, Recorder, gaps

VENDOR_INTERVALS = {
    Bucket.FACTURA: 1.0,
    Bucket.ARTICOL: 5.0,
    Bucket.ARTICOL_LIST: 30.0,
    Bucket.ARTICOL_MODIFICATE: 1800.0,
    Bucket.CLIENT: 5.0,
    Bucket.NOMENCLATOR: 1.0,
}


@pytest.mark.parametrize("bucket", list(Bucket))
def test_calls_of_a_bucket_start_one_interval_plus_margin_apart(bucket: Bucket) -> None:
    recorder = Recorder()
    company = None if bucket is Bucket.NOMENCLATOR else "12345678"

    async def main() -> None:
        scheduler = Scheduler()
        calls = [
            recorder.call(f"c{i}", company=company, endpoint=BUCKET_ENDPOINT[bucket], latency=0.2)
            for i in range(4)
        ]
        await asyncio.gather(*(scheduler.submit(call) for call in calls))

    run(main())
    expected = VENDOR_INTERVALS[bucket] + 0.1
    assert gaps(recorder.starts()) == [expected] * 3
    assert recorder.order() == ["c0", "c1", "c2", "c3"]


def test_the_first_call_starts_at_once_and_a_late_call_does_not_wait_again() -> None:
    recorder = Recorder()

    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        scheduler = Scheduler()
        t0 = loop.time()
        await scheduler.submit(recorder.call("a"))
        await asyncio.sleep(5)  # longer than the interval: the next call may go at once
        await scheduler.submit(recorder.call("b"))
        return [start - t0 for start in recorder.starts()]

    assert run(main()) == [0.0, 5.0]


def test_overridden_intervals_and_margin_apply() -> None:
    recorder = Recorder()
    policy = RatePolicy(intervals={"factura": 2.0}, margin=0.25)

    async def main() -> None:
        scheduler = Scheduler(rate_policy=policy)
        await asyncio.gather(
            *(scheduler.submit(recorder.call(f"c{i}", latency=0.5)) for i in range(3))
        )

    run(main())
    assert gaps(recorder.starts()) == [2.25, 2.25]
    assert policy.intervals[Bucket.ARTICOL] == 5.0  # the others keep the vendor's numbers


def test_strict_mode_counts_the_interval_from_the_previous_reply() -> None:
    recorder = Recorder()

    async def main() -> None:
        scheduler = Scheduler(rate_policy=RatePolicy(strict=True))
        await asyncio.gather(
            *(scheduler.submit(recorder.call(f"c{i}", latency=0.5)) for i in range(3))
        )

    run(main())
    # Each call lasts 0.5 s and the next starts 1.1 s after its reply.
    assert gaps(recorder.starts()) == [1.6, 1.6]


def test_a_slow_call_delays_the_next_only_by_its_own_length() -> None:
    recorder = Recorder()

    async def main() -> None:
        scheduler = Scheduler()
        slow = recorder.call("slow", latency=3.0)
        fast = recorder.call("fast")
        await asyncio.gather(scheduler.submit(slow), scheduler.submit(fast))

    run(main())
    # Single flight: "fast" waits for "slow" to end (3 s), not for 3 s + interval.
    assert gaps(recorder.starts()) == [3.0]


def test_a_throttle_widens_the_company_spacing_and_it_recovers_slowly() -> None:
    recorder = Recorder()
    throttled = FgoRateLimitedError("Prea multe apeluri", retry_after=None)
    policy = RatePolicy(throttle_widening=2.0, recovery=0.5)

    async def main() -> None:
        scheduler = Scheduler(rate_policy=policy, retry_policy=RetryPolicy(max_attempts=1))
        with pytest.raises(FgoRateLimitedError):
            await scheduler.submit(recorder.call("t", latency=0.5, outcomes=[throttled]))
        calls = [scheduler.submit(recorder.call(f"c{i}", latency=0.5)) for i in range(4)]
        await asyncio.gather(*calls)

    run(main())
    # After the throttle: 2x (2.1 s); each success halves the widening back towards 1.
    assert gaps(recorder.starts()) == [2.1, 1.1, 1.1, 1.1]


def test_another_company_is_not_slowed_by_a_throttled_one() -> None:
    recorder = Recorder()
    throttled = FgoRateLimitedError("Prea multe apeluri", retry_after=None)

    async def main() -> None:
        scheduler = Scheduler(retry_policy=RetryPolicy(max_attempts=1))
        with pytest.raises(FgoRateLimitedError):
            await scheduler.submit(recorder.call("t", company="A", outcomes=[throttled]))
        await asyncio.gather(
            *(scheduler.submit(recorder.call(f"b{i}", company="B", latency=0.5)) for i in range(3))
        )

    run(main())
    b_starts = [a.start for a in recorder.attempts if a.company == "B"]
    assert gaps(b_starts) == [1.1, 1.1]


def test_spacing_counts_from_when_the_request_went_out_when_the_transport_says() -> None:
    recorder = Recorder()

    async def main() -> None:
        scheduler = Scheduler()
        first = recorder.call("slow-connect", latency=0.5)
        inner = first.attempt

        async def connect_slowly_then_send() -> object:
            # A TLS handshake of 0.4 s before the request goes out: the vendor sees the call
            # at +0.4 s, so the next one may only start at +0.4 + 1.1 s.
            loop = asyncio.get_running_loop()
            await asyncio.sleep(0.4)
            first.sent_at = loop.time()
            return await inner()

        first.attempt = connect_slowly_then_send
        await asyncio.gather(scheduler.submit(first), scheduler.submit(recorder.call("next")))

    run(main())
    # The recorder stamps an attempt when its request goes out (after the 0.4 s set-up).
    assert gaps(recorder.starts()) == [1.1]


def test_a_sent_time_earlier_than_the_start_is_ignored() -> None:
    recorder = Recorder()

    async def main() -> None:
        scheduler = Scheduler()
        first = recorder.call("a", latency=0.5)
        inner = first.attempt

        async def confused_clock() -> object:
            first.sent_at = asyncio.get_running_loop().time() - 50
            return await inner()

        first.attempt = confused_clock
        await asyncio.gather(scheduler.submit(first), scheduler.submit(recorder.call("b")))

    run(main())
    assert gaps(recorder.starts()) == [1.1]


def test_a_slow_step_before_sending_does_not_bring_the_next_call_closer() -> None:
    """A journal that takes 0.5 s to commit: the request leaves 0.5 s after the lane was
    granted, and the next call is spaced from then, not from the grant."""
    recorder = Recorder()

    async def main() -> None:
        scheduler = Scheduler()
        first = recorder.call("slow-commit", latency=0.5)

        async def commit() -> None:
            await asyncio.sleep(0.5)

        first.before_send = commit
        await asyncio.gather(scheduler.submit(first), scheduler.submit(recorder.call("next")))

    run(main())
    assert gaps(recorder.starts()) == [1.1]  # the recorder stamps when each request left
