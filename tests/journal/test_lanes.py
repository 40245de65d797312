"""A new process starts a company's lane no sooner than the calls the journal says an earlier
process sent allow: the vendor's spacing, and the hold after a call left in flight. On virtual
time, with the in-process simulator; the journal keeps wall-clock times."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from fgo_async import Scheduler
from fgo_async.journal import SqliteJournal
from fgo_async.journal.sqlite import LANE_MEMORY
from fgo_async.simulator import FgoSimulator
from fgo_async.testing import TEST_COMPANY, VirtualClock
from tests.journal.helpers import EMITERE, client, order, sql

pytestmark = pytest.mark.usefixtures("virtual_clock")

#: The token of a journal instance of this machine whose lock file is gone: it ended.
DEAD_OWNER = f"{socket.gethostname()}-1-00000000"


async def journal_with_lane(
    path: Path, *, sent_ago: float, in_flight_owner: str | None = None
) -> None:
    """A journal whose company's last ``factura`` call left ``sent_ago`` seconds ago."""
    async with SqliteJournal(path):
        pass
    sql(
        path,
        "INSERT INTO lanes VALUES (?, 'factura', ?, ?, ?)",
        TEST_COMPANY,
        time.time() - sent_ago,
        None if in_flight_owner is None else "A-0",
        in_flight_owner,
    )


async def first_call_after(sim: FgoSimulator, path: Path, clock: VirtualClock) -> float:
    """Seconds from a new client's first call to its arrival at the vendor."""
    start = clock.time()
    async with client(sim, path) as fgo:
        await fgo.issue_invoice(order("A-1"))
    (record,) = sim.calls_to(EMITERE)
    return record.arrival - start


async def test_a_send_moments_ago_delays_the_first_call(
    sim: FgoSimulator, tmp_path: Path, virtual_clock: VirtualClock
) -> None:
    path = tmp_path / "journal.sqlite"
    await journal_with_lane(path, sent_ago=0.3)
    waited = await first_call_after(sim, path, virtual_clock)
    # 1 s between factura calls, plus the 0.1 s margin, from the send 0.3 s ago (the
    # journal's clock is the wall clock: a few milliseconds pass while the test runs).
    assert waited == pytest.approx(0.8, abs=0.05)


async def test_a_call_left_in_flight_holds_the_lane(
    sim: FgoSimulator, tmp_path: Path, virtual_clock: VirtualClock
) -> None:
    path = tmp_path / "journal.sqlite"
    await journal_with_lane(path, sent_ago=0.3, in_flight_owner=DEAD_OWNER)
    waited = await first_call_after(sim, path, virtual_clock)
    # The vendor may still be working on it: 15 s from its send.
    assert waited == pytest.approx(14.7, abs=0.05)


async def test_an_old_send_does_not_delay_anything(
    sim: FgoSimulator, tmp_path: Path, virtual_clock: VirtualClock
) -> None:
    path = tmp_path / "journal.sqlite"
    await journal_with_lane(path, sent_ago=LANE_MEMORY + 60, in_flight_owner=DEAD_OWNER)
    assert await first_call_after(sim, path, virtual_clock) == pytest.approx(0.0, abs=1e-6)


async def test_a_restarted_process_keeps_the_spacing_of_the_one_before(
    sim: FgoSimulator, tmp_path: Path, virtual_clock: VirtualClock
) -> None:
    path = tmp_path / "journal.sqlite"
    async with client(sim, path) as fgo:
        await fgo.issue_invoice(order("A-1"))
    # A new process: another journal instance, another scheduler, right away.
    async with client(sim, path, scheduler=Scheduler()) as fgo:
        await fgo.issue_invoice(order("A-2", price="5"))
    first, second = sim.calls_to(EMITERE)
    assert second.arrival - first.arrival >= 1.0
    assert sim.violations() == []
