"""Bookkeeping that must not grow without bound: idle lanes, the deadlines of started calls."""

from __future__ import annotations

import asyncio
import gc

from fgo_async.scheduling import InMemoryLedger, Scheduler
from fgo_async.virtual_time import run
from tests.scheduling.helpers import Recorder


def test_lanes_of_companies_that_no_longer_call_are_dropped() -> None:
    recorder = Recorder()

    async def main() -> list[int]:
        ledger = InMemoryLedger()
        scheduler = Scheduler(ledger=ledger, idle_lane_ttl=60.0)
        sizes = []
        for wave in range(3):  # a pipeline that serves a changing set of companies
            companies = [f"{wave}-{i}" for i in range(1000)]
            await asyncio.gather(
                *(scheduler.submit(recorder.call(c, company=c, latency=0.2)) for c in companies)
            )
            sizes.append(scheduler.stats().lanes)
            await asyncio.sleep(120)  # past the spacing and the idle time: nothing matters now
            sizes.append(scheduler.stats().lanes)
        sizes.append(len(ledger))
        return sizes

    assert run(main()) == [1000, 0, 1000, 0, 1000, 0, 0]


def test_a_lane_is_kept_exactly_as_long_as_its_spacing_can_matter() -> None:
    recorder = Recorder()

    async def main() -> tuple[float, int, int]:
        loop = asyncio.get_running_loop()
        ledger = InMemoryLedger()
        scheduler = Scheduler(ledger=ledger, idle_lane_ttl=0.0)
        t0 = loop.time()
        await scheduler.submit(recorder.call("first", endpoint="articol/get"))
        await asyncio.sleep(2.0)  # idle, but the articles bucket is closed until +5 s
        await scheduler.submit(recorder.call("second", endpoint="articol/get"))
        second = recorder.starts("second")[0] - t0
        await asyncio.sleep(4.99)  # until just before +10 s: the spacing still matters
        kept = len(ledger)
        await asyncio.sleep(0.02)
        gc.collect()
        return second, kept, len(ledger) + scheduler.stats().lanes

    second, kept, left = run(main())
    assert second == 5.0  # the spacing held although the lane was idle
    assert kept == 1
    assert left == 0


def test_a_started_call_does_not_keep_its_deadline_timer() -> None:
    recorder = Recorder()

    async def main() -> int:
        loop = asyncio.get_running_loop()
        scheduler = Scheduler()
        far = loop.time() + 24 * 3600  # a generous queue timeout, far from expiring
        calls = [
            scheduler.submit(recorder.call(f"c{i}", company=f"{i % 50}", deadline=far))
            for i in range(2000)
        ]
        await asyncio.gather(*calls)
        return len(scheduler._timers)

    # 2,000 deadlines were armed; once their calls started they are swept, not kept for a day.
    assert run(main()) < 600


def test_stats_names_only_the_companies_with_calls_waiting() -> None:
    recorder = Recorder()

    async def main() -> None:
        scheduler = Scheduler()
        await asyncio.gather(
            *(scheduler.submit(recorder.call(f"c{i}", company=f"{i}")) for i in range(500))
        )
        pending = [
            asyncio.ensure_future(scheduler.submit(recorder.call(f"w{i}", company="busy")))
            for i in range(3)
        ]
        await asyncio.sleep(0)
        stats = scheduler.stats()
        assert list(stats.queued) == ["busy"]
        assert stats.queued_total == 2
        assert stats.in_flight == 1
        await asyncio.gather(*pending)

    run(main())
