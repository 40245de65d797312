"""Lanes on virtual time: single flight, no head-of-line blocking, order, priorities."""

from __future__ import annotations

import asyncio
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from fgo_async.endpoints import ENDPOINTS
from fgo_async.scheduling import RatePolicy, Scheduler
from fgo_async.virtual_time import run
from tests.scheduling.helpers import BUCKET_ENDPOINT, Recorder, Started, gaps, settle, spawn


def test_never_two_calls_of_one_company_in_flight_whatever_their_bucket() -> None:
    recorder = Recorder()

    async def main() -> None:
        scheduler = Scheduler()
        calls = [
            recorder.call(f"{bucket}-{i}", endpoint=endpoint, latency=0.7)
            for i in range(3)
            for bucket, endpoint in BUCKET_ENDPOINT.items()
            if bucket != "nomenclator"
        ]
        await asyncio.gather(*(scheduler.submit(call) for call in calls))

    run(main())
    assert recorder.max_in_flight == 1
    assert len(recorder.attempts) == 15


def test_companies_run_in_parallel() -> None:
    recorder = Recorder()

    async def main() -> None:
        scheduler = Scheduler()
        calls = [recorder.call(f"{c}{i}", company=c, latency=0.5) for i in range(3) for c in "ABC"]
        await asyncio.gather(*(scheduler.submit(call) for call in calls))

    run(main())
    for company in "ABC":
        starts = [a.start for a in recorder.attempts if a.company == company]
        assert gaps(starts) == [1.1, 1.1]
    assert recorder.starts()[:3] == [recorder.starts()[0]] * 3  # all three began together


def test_a_call_waiting_for_a_slow_bucket_does_not_hold_back_another_bucket() -> None:
    recorder = Recorder()

    async def main() -> float:
        loop = asyncio.get_running_loop()
        scheduler = Scheduler()
        t0 = loop.time()
        changed = "articol/articolemodificate"
        first = spawn(scheduler.submit(recorder.call("changed-1", endpoint=changed)))
        second = spawn(scheduler.submit(recorder.call("changed-2", endpoint=changed)))
        await settle()
        # The second changed-articles call now waits 30 minutes; invoices must not wait for it.
        await asyncio.gather(*(scheduler.submit(recorder.call(f"inv-{i}")) for i in range(3)))
        invoices_done = loop.time() - t0
        await asyncio.gather(first, second)
        return invoices_done

    invoices_done = run(main())
    assert recorder.order() == ["changed-1", "inv-0", "inv-1", "inv-2", "changed-2"]
    assert round(invoices_done, 6) == 2.0  # three instant invoices, each 1 s after a reply
    assert gaps(recorder.starts("changed-1") + recorder.starts("changed-2")) == [1800.0]


def test_calls_of_a_lane_start_in_the_order_they_were_submitted() -> None:
    recorder = Recorder()

    async def main() -> None:
        scheduler = Scheduler()
        names = [f"c{i}" for i in range(8)]
        # Alternate two buckets: when both are ready, the older call goes first.
        calls = [
            recorder.call(name, endpoint="factura/print" if i % 2 else "client/list")
            for i, name in enumerate(names)
        ]
        await asyncio.gather(*(scheduler.submit(call) for call in calls))

    run(main())
    factura = [n for n in recorder.order() if int(n[1:]) % 2]
    client = [n for n in recorder.order() if not int(n[1:]) % 2]
    assert factura == ["c1", "c3", "c5", "c7"]
    assert client == ["c0", "c2", "c4", "c6"]
    assert recorder.order()[:2] == ["c0", "c1"]


def test_an_interactive_call_overtakes_the_batch_calls_of_its_bucket() -> None:
    recorder = Recorder()

    async def main() -> None:
        scheduler = Scheduler()
        batch = [spawn(scheduler.submit(recorder.call(f"batch-{i}"))) for i in range(4)]
        await settle()
        link = recorder.call("pdf-link", interactive=True)
        await asyncio.gather(scheduler.submit(link), *batch)

    run(main())
    assert recorder.order() == ["batch-0", "pdf-link", "batch-1", "batch-2", "batch-3"]


def next_allowed(policy: RatePolicy, bucket: str, attempt: Started) -> float:
    """The earliest start after ``attempt`` of a call of its bucket: the send plus the interval
    plus the margin, or the reply plus the interval, whichever is sooner."""
    interval = policy.intervals[ENDPOINTS[BUCKET_ENDPOINT[bucket]].bucket]
    return min(attempt.start + interval + policy.margin, attempt.end + interval)


def _nothing_ready_while_idle(
    attempts: list[Started],
    submitted: dict[str, float],
    buckets: dict[str, str],
    policy: RatePolicy,
) -> None:
    """Between two calls of a lane, no waiting call's bucket was ready: the lane never idled
    while it could have started something (work conservation). ``attempts`` are one lane's."""
    allowed: dict[str, float] = {}
    free_at = float("-inf")
    for attempt in attempts:
        ready_times = []
        for other in attempts:
            if other.start >= attempt.start and submitted[other.name] <= attempt.start:
                bucket = buckets[other.name]
                ready = max(submitted[other.name], free_at, allowed.get(bucket, float("-inf")))
                ready_times.append(ready)
        # The scheduler's resolution: a wake may come two microseconds after the moment.
        assert attempt.start <= min(ready_times) + 5e-6, attempt
        allowed[buckets[attempt.name]] = next_allowed(policy, buckets[attempt.name], attempt)
        free_at = attempt.end


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["factura", "articol", "articol-list", "client"]),
            st.floats(min_value=0, max_value=40),  # submitted at
            st.floats(min_value=0, max_value=8),  # latency
            st.sampled_from(["A", "B", "C"]),  # company
        ),
        min_size=1,
        max_size=30,
    )
)
def test_random_mixes_keep_single_flight_spacing_and_work_conservation(
    plan: list[tuple[str, float, float, str]],
) -> None:
    recorder = Recorder()
    policy = RatePolicy()
    submitted: dict[str, float] = {}
    buckets: dict[str, str] = {}

    async def submit_later(
        scheduler: Scheduler, name: str, bucket: str, at: float, latency: float, company: str
    ) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(at)
        submitted[name] = loop.time()
        buckets[name] = bucket
        await scheduler.submit(
            recorder.call(name, company=company, endpoint=BUCKET_ENDPOINT[bucket], latency=latency)
        )

    async def main() -> None:
        scheduler = Scheduler(rate_policy=policy)
        await asyncio.gather(
            *(
                submit_later(scheduler, f"c{i}", bucket, at, latency, company)
                for i, (bucket, at, latency, company) in enumerate(plan)
            )
        )

    run(main())
    assert recorder.max_in_flight == 1
    assert len(recorder.attempts) == len(plan)
    for company in {c for *_, c in plan}:
        lane = [a for a in recorder.attempts if a.company == company]
        for bucket in {buckets[a.name] for a in lane}:
            calls = [a for a in lane if buckets[a.name] == bucket]
            for before, after in itertools.pairwise(calls):
                assert after.start >= next_allowed(policy, bucket, before) - 1e-6
        _nothing_ready_while_idle(lane, submitted, buckets, policy)


def test_companies_that_start_together_are_spread_out_of_step() -> None:
    """A hundred companies started at once would otherwise call in the same millisecond every
    second; a few per millisecond go, the rest are put off a little, once."""
    recorder = Recorder()

    async def main() -> None:
        scheduler = Scheduler()
        await asyncio.gather(
            *(
                scheduler.submit(recorder.call(f"{c}-{i}", company=f"{c}", latency=0.05))
                for i in range(4)
                for c in range(100)
            )
        )

    run(main())
    later = [a.start for a in recorder.attempts if not a.name.endswith("-0")]
    per_millisecond: dict[int, int] = {}
    for start in later:
        per_millisecond[int(start * 1000)] = per_millisecond.get(int(start * 1000), 0) + 1
    assert max(per_millisecond.values()) <= 8
    for company in range(100):
        starts = [a.start for a in recorder.attempts if a.company == f"{company}"]
        # Never sooner than the discipline allows; put off by at most a few hundredths, once.
        assert all(1.05 - 1e-9 <= gap <= 1.05 + 0.02 for gap in gaps(starts)), gaps(starts)
    # Spreading cost the batch at most a few hundredths of a second over the ideal 3 x 1.05 s.
    assert max(later) - min(a.start for a in recorder.attempts) <= 3.15 + 0.02
