"""What a throttle, a lost reply, a spent retry budget and a caller who gives up do to a
company's lane, on virtual time."""

from __future__ import annotations

import asyncio
import logging

import pytest

from fgo_async.errors import (
    FgoConnectError,
    FgoConnectionLostError,
    FgoOutcomeUnknownError,
    FgoRateLimitedError,
    FgoTimeoutError,
)
from fgo_async.scheduling import (
    EventKind,
    RetryBudget,
    RetryPolicy,
    Scheduler,
    SchedulerEvent,
)
from fgo_async.virtual_time import run
from tests.scheduling.helpers import Recorder, settle, spawn


def test_a_retry_after_holds_every_queued_call_of_the_bucket_not_only_the_throttled_one() -> None:
    recorder = Recorder()
    throttled = FgoRateLimitedError("Prea multe apeluri", retry_after=10.0)

    async def main() -> dict[str, float]:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        scheduler = Scheduler()
        first = spawn(scheduler.submit(recorder.call("first", outcomes=[throttled, "ok"])))
        others = [spawn(scheduler.submit(recorder.call(f"other-{i}"))) for i in range(2)]
        await asyncio.gather(first, *others)
        return {a.name: a.start - t0 for a in recorder.attempts}

    starts = run(main())
    # Today's fix: nothing of the company's bucket goes before the vendor's 10 s; then the
    # throttled call's retry (queued first? no: re-queued) and the others follow, spaced.
    after = sorted(start for start in starts.values() if start > 0)
    assert after[0] >= 10.0
    assert len(recorder.attempts) == 4  # first (429), first again, other-0, other-1
    assert all(start == 0.0 or start >= 10.0 for start in starts.values())


def test_a_retry_after_past_the_cap_ends_the_call_but_the_lane_still_waits_it() -> None:
    recorder = Recorder()
    throttled = FgoRateLimitedError("Prea multe apeluri", retry_after=600.0)

    async def main() -> tuple[FgoRateLimitedError, float]:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        scheduler = Scheduler(retry_policy=RetryPolicy(retry_after_cap=60.0))
        with pytest.raises(FgoRateLimitedError) as caught:
            await scheduler.submit(recorder.call("throttled", outcomes=[throttled]))
        ended = loop.time() - t0
        await scheduler.submit(recorder.call("next"))
        assert ended == 0.0  # it did not sit out 600 s for the caller
        return caught.value, recorder.starts("next")[0] - t0

    error, next_start = run(main())
    assert error.retry_after == 600.0
    assert next_start == pytest.approx(600.0)


def test_a_retry_after_holds_only_its_bucket() -> None:
    recorder = Recorder()
    throttled = FgoRateLimitedError("Prea multe apeluri", retry_after=100.0)

    async def main() -> float:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        scheduler = Scheduler(retry_policy=RetryPolicy(max_attempts=1))
        with pytest.raises(FgoRateLimitedError):
            await scheduler.submit(recorder.call("t", outcomes=[throttled]))
        await scheduler.submit(recorder.call("article", endpoint="articol/get"))
        return recorder.starts("article")[0] - t0

    assert run(main()) == 0.0


def test_a_call_that_timed_out_holds_the_lane_as_a_cancelled_one() -> None:
    recorder = Recorder()
    timed_out = FgoTimeoutError("no reply within 30 s")

    async def main() -> float:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        scheduler = Scheduler(retry_policy=RetryPolicy(max_attempts=1))
        with pytest.raises(FgoTimeoutError):
            await scheduler.submit(recorder.call("slow", latency=30.0, outcomes=[timed_out]))
        await scheduler.submit(recorder.call("next", endpoint="articol/get"))
        return recorder.starts("next")[0] - t0

    # The vendor may still be working on the call it never answered: 30 s + the 15 s hold.
    assert run(main()) == pytest.approx(45.0)


def test_a_connection_that_was_never_made_does_not_take_the_bucket() -> None:
    recorder = Recorder()
    refused = FgoConnectError("could not connect")

    async def main() -> float:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        scheduler = Scheduler(retry_policy=RetryPolicy(max_attempts=1))
        with pytest.raises(FgoConnectError):
            await scheduler.submit(recorder.call("refused", outcomes=[refused]))
        await scheduler.submit(recorder.call("next"))
        return recorder.starts("next")[0] - t0

    assert run(main()) == 0.0


def test_the_retry_budget_refills_with_time() -> None:
    recorder = Recorder()
    lost = FgoConnectionLostError("reset")
    throttled = FgoRateLimitedError("Prea multe apeluri", retry_after=1.0)

    async def main() -> list[str]:
        scheduler = Scheduler()
        outcomes: list[str] = []
        # Morning: two lost replies of reads, each retried, spend the whole budget (2 x 10).
        for name in ("m1", "m2"):
            await scheduler.submit(recorder.call(name, outcomes=[lost, "ok"]))
        with pytest.raises(FgoRateLimitedError):
            # No token left: this throttle is not retried now.
            await scheduler.submit(recorder.call("m3", outcomes=[throttled, "ok"]))
        outcomes.append("spent")
        await asyncio.sleep(4 * 3600)  # a quiet shop until the afternoon
        outcomes.append(await scheduler.submit(recorder.call("pm", outcomes=[throttled, "ok"])))
        return outcomes

    assert run(main()) == ["spent", "ok"]
    assert recorder.order().count("pm") == 2


def test_a_dead_server_sees_about_one_attempt_per_call() -> None:
    recorder = Recorder()
    dead = FgoConnectError("refused")

    async def main() -> None:
        scheduler = Scheduler()
        for i in range(100):
            with pytest.raises(FgoConnectError):
                await scheduler.submit(recorder.call(f"c{i}", outcomes=[dead]))
            await asyncio.sleep(1.0)  # one call a second, as a steady shop

    run(main())
    # 100 calls, the budget's 4 retries at first, then one retry per 50 s of refill.
    assert 100 <= len(recorder.attempts) <= 110, len(recorder.attempts)


def test_cancelling_a_caller_mid_flight_emits_an_abandoned_event_with_the_identity(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    events: list[SchedulerEvent] = []

    async def main() -> None:
        scheduler = Scheduler(event_hook=events.append)
        call = recorder.call("BV-0042", endpoint="factura/emitere", latency=20.0)
        task = spawn(scheduler.submit(call))
        await asyncio.sleep(5)
        task.cancel()  # asyncio.wait_for around issue_invoice does this
        with pytest.raises(asyncio.CancelledError):
            await task

    with caplog.at_level(logging.WARNING, logger="fgo_async.scheduler"):
        run(main())
    abandoned = [e for e in events if e.kind is EventKind.ABANDONED]
    assert len(abandoned) == 1
    assert abandoned[0].identity.number == "BV-0042"
    assert abandoned[0].outcome_known is False
    assert "BV-0042" in caplog.text
    assert "outcome unknown" in caplog.text


def test_cancelling_during_the_backoff_after_a_lost_reply_is_abandoned_not_just_cancelled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    events: list[SchedulerEvent] = []
    lost = FgoConnectionLostError("reset after sending")

    async def main() -> int:
        scheduler = Scheduler(event_hook=events.append, seed=3)
        call = recorder.call(
            "BV-0043", endpoint="factura/emitere", outcomes=[lost, "ok"], can_deduplicate=True
        )
        task = spawn(scheduler.submit(call))
        await settle()  # the first attempt was lost; the retry is backing off
        assert recorder.order() == ["BV-0043"]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return scheduler.stats().abandoned

    with caplog.at_level(logging.WARNING, logger="fgo_async.scheduler"):
        assert run(main()) == 1
    assert [e.kind for e in events if e.kind is EventKind.ABANDONED] == [EventKind.ABANDONED]
    abandoned = next(e for e in events if e.kind is EventKind.ABANDONED)
    assert abandoned.identity.number == "BV-0043"
    assert isinstance(abandoned.error, FgoConnectionLostError)
    assert "BV-0043" in caplog.text


def test_a_read_cancelled_during_its_backoff_is_only_cancelled() -> None:
    recorder = Recorder()
    events: list[SchedulerEvent] = []

    async def main() -> None:
        scheduler = Scheduler(event_hook=events.append)
        task = spawn(
            scheduler.submit(recorder.call("r", outcomes=[FgoConnectionLostError("x"), "ok"]))
        )
        await settle()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())
    kinds = [e.kind for e in events]
    assert EventKind.CANCELLED in kinds
    assert EventKind.ABANDONED not in kinds


def test_a_lost_reply_of_a_create_without_dedup_is_unknown_and_holds_nothing_extra() -> None:
    recorder = Recorder()
    lost = FgoConnectionLostError("reset")

    async def main() -> None:
        scheduler = Scheduler()
        with pytest.raises(FgoOutcomeUnknownError):
            await scheduler.submit(recorder.call("x", endpoint="factura/emitere", outcomes=[lost]))

    run(main())
    assert recorder.order() == ["x"]


def test_a_budget_with_negative_numbers_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        RetryBudget(refill_per_second=-1)
