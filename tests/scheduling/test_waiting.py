"""Waiting on virtual time: deadlines, cancellation, backpressure, closing, stats and events."""

from __future__ import annotations

import asyncio

import pytest

from fgo_async.errors import FgoClosedError, FgoQueueFullError, FgoQueueTimeoutError
from fgo_async.scheduling import EventKind, RatePolicy, Scheduler, SchedulerEvent
from fgo_async.virtual_time import run
from tests.scheduling.helpers import Recorder, settle, spawn


def test_a_call_that_cannot_start_before_its_deadline_fails_unsent() -> None:
    recorder = Recorder()

    async def main() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        scheduler = Scheduler()
        t0 = loop.time()
        calls = [spawn(scheduler.submit(recorder.call(f"c{i}"))) for i in range(3)]
        await settle()
        late = recorder.call("late", deadline=t0 + 2.0)  # its turn would come at +3.3 s
        with pytest.raises(FgoQueueTimeoutError) as caught:
            await scheduler.submit(late)
        failed_at = loop.time() - t0
        await asyncio.gather(*calls)
        assert caught.value.identity is not None
        assert caught.value.identity.number == "late"
        return failed_at, scheduler.stats().expired

    failed_at, expired = run(main())
    assert failed_at == 2.0
    assert expired == 1
    assert "late" not in recorder.order()


def test_a_deadline_already_passed_fails_at_once_and_a_reachable_one_is_met() -> None:
    recorder = Recorder()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        scheduler = Scheduler()
        with pytest.raises(FgoQueueTimeoutError):
            await scheduler.submit(recorder.call("past", deadline=loop.time() - 1))
        first = spawn(scheduler.submit(recorder.call("first")))
        await settle()
        await scheduler.submit(recorder.call("in-time", deadline=loop.time() + 1.2))
        await first

    run(main())
    assert recorder.order() == ["first", "in-time"]


def test_a_cancelled_waiting_call_is_removed_and_never_sent() -> None:
    recorder = Recorder()

    async def main() -> None:
        scheduler = Scheduler()
        first = spawn(scheduler.submit(recorder.call("first", latency=0.5)))
        doomed = spawn(scheduler.submit(recorder.call("doomed")))
        last = spawn(scheduler.submit(recorder.call("last")))
        await settle()
        doomed.cancel()
        await asyncio.gather(first, last)
        with pytest.raises(asyncio.CancelledError):
            await doomed
        stats = scheduler.stats()
        assert stats.cancelled == 1
        assert stats.queued_total == 0

    run(main())
    assert recorder.order() == ["first", "last"]
    assert recorder.starts()[1] - recorder.starts()[0] == pytest.approx(1.1)


def test_a_call_cancelled_in_flight_keeps_the_lane_closed_for_the_hold() -> None:
    recorder = Recorder()

    async def main() -> float:
        loop = asyncio.get_running_loop()
        scheduler = Scheduler(rate_policy=RatePolicy(lost_reply_hold=15.0))
        t0 = loop.time()
        slow = spawn(scheduler.submit(recorder.call("slow", latency=60)))
        await asyncio.sleep(2)
        slow.cancel()
        await scheduler.submit(recorder.call("next"))
        return recorder.starts("next")[0] - t0

    # The vendor may still be working on the cancelled call: the next one waits 15 s.
    assert run(main()) == pytest.approx(17.0)


def test_a_full_lane_makes_the_submitter_wait_for_room() -> None:
    recorder = Recorder()

    async def main() -> list[int]:
        scheduler = Scheduler(max_queued_per_company=2)
        tasks = [spawn(scheduler.submit(recorder.call(f"c{i}"))) for i in range(6)]
        await settle()
        queued = [scheduler.stats().queued_total]
        await asyncio.sleep(1.15)
        queued.append(scheduler.stats().queued_total)
        await asyncio.gather(*tasks)
        return queued

    # c0 runs at once; two wait in the queue, the other three submitters wait outside it.
    assert run(main()) == [2, 2]
    assert recorder.order() == [f"c{i}" for i in range(6)]


def test_a_full_lane_raises_when_told_not_to_wait() -> None:
    recorder = Recorder()

    async def main() -> None:
        scheduler = Scheduler(max_queued_per_company=1, block_when_full=False)
        first = spawn(scheduler.submit(recorder.call("running")))
        second = spawn(scheduler.submit(recorder.call("queued")))
        await settle()
        with pytest.raises(FgoQueueFullError):
            await scheduler.submit(recorder.call("refused"))
        await asyncio.gather(first, second)

    run(main())
    assert recorder.order() == ["running", "queued"]


def test_close_drains_the_queued_calls_by_default() -> None:
    recorder = Recorder()

    async def main() -> None:
        scheduler = Scheduler()
        tasks = [spawn(scheduler.submit(recorder.call(f"c{i}", latency=0.5))) for i in range(4)]
        await settle()
        await scheduler.aclose()
        assert all(task.done() for task in tasks)
        assert [task.result() for task in tasks] == ["ok"] * 4
        with pytest.raises(FgoClosedError):
            await scheduler.submit(recorder.call("after"))

    run(main())
    assert recorder.order() == ["c0", "c1", "c2", "c3"]


def test_close_without_drain_fails_queued_calls_and_lets_the_one_in_flight_finish() -> None:
    recorder = Recorder()

    async def main() -> None:
        scheduler = Scheduler(drain_on_close=False)
        tasks = [spawn(scheduler.submit(recorder.call(f"c{i}", latency=0.5))) for i in range(4)]
        await settle()
        await scheduler.aclose()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert results[0] == "ok"
        assert all(isinstance(r, FgoClosedError) for r in results[1:])
        assert all(r.identity is not None for r in results[1:] if isinstance(r, FgoClosedError))

    run(main())
    assert recorder.order() == ["c0"]


def test_close_without_drain_wakes_submitters_waiting_for_room() -> None:
    recorder = Recorder()

    async def main() -> None:
        scheduler = Scheduler(max_queued_per_company=1)
        tasks = [spawn(scheduler.submit(recorder.call(f"c{i}"))) for i in range(4)]
        await settle()
        await scheduler.aclose(drain=False)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert results[0] == "ok"
        assert [type(r) for r in results[1:]] == [FgoClosedError] * 3

    run(main())


def test_stats_and_events_describe_what_happened() -> None:
    recorder = Recorder()
    events: list[SchedulerEvent] = []

    async def main() -> None:
        scheduler = Scheduler(event_hook=events.append)
        tasks = [spawn(scheduler.submit(recorder.call(f"c{i}", latency=0.3))) for i in range(3)]
        await settle()
        stats = scheduler.stats()
        assert stats.in_flight == 1
        assert stats.queued == {"12345678": {"factura": 2}}
        await asyncio.gather(*tasks)
        stats = scheduler.stats()
        assert (stats.started, stats.finished, stats.failed, stats.in_flight) == (3, 3, 0, 0)
        assert stats.max_wait == pytest.approx(2.2)

    run(main())
    kinds = [(e.kind, e.identity.number) for e in events]
    assert kinds[:3] == [
        (EventKind.QUEUED, "c0"),
        (EventKind.STARTED, "c0"),
        (EventKind.QUEUED, "c1"),
    ]
    started = [e for e in events if e.kind is EventKind.STARTED]
    finished = [e for e in events if e.kind is EventKind.FINISHED]
    assert [round(e.wait or 0, 6) for e in started] == [0.0, 1.1, 2.2]
    assert all(e.delay == pytest.approx(0.0) for e in started)
    assert all(e.latency == pytest.approx(0.3) for e in finished)


def test_a_failing_event_hook_does_not_break_calls(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()

    def broken(event: SchedulerEvent) -> None:
        raise RuntimeError("metrics backend down")

    async def main() -> str:
        scheduler = Scheduler(event_hook=broken)
        result: str = await scheduler.submit(recorder.call("c"))
        return result

    assert run(main()) == "ok"
    assert "event hook failed" in caplog.text
