"""Real time, real HTTP on 127.0.0.1: the spacing counts from when a request really left.

aiohttp announces a request's headers before it writes anything, and writes a POST body later,
from a task of its own. When the event loop is busy in between (an application validating two
thousand invoices, a slow callback), the body leaves long after the headers were announced. A
scheduler that counted from the announcement would send the next call less than the vendor's
interval after the previous one *arrived*. The simulator runs in a thread of its own here, so
that it reads each request when it really comes, whatever the client's loop is doing.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import aiohttp
import pytest

from fgo_async import IssuedInvoice, Scheduler
from fgo_async.simulator import FgoSimulator
from fgo_async.transport import send_time_trace
from tests.integration.test_realtime import invoice

COMPANIES = {f"1000{i}": f"key-{i}" for i in range(5)}
INVOICES = 3
#: How long the client's loop is held right after each company's first request was announced.
HOLD = 0.5


class SimulatorThread:
    """The simulator serving HTTP on a loop of its own, in a thread of its own."""

    def __init__(self) -> None:
        self.sim = FgoSimulator(COMPANIES)
        self.base_url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self.base_url = self._loop.run_until_complete(self.sim.start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self.sim.aclose())
        self._loop.close()

    def __enter__(self) -> SimulatorThread:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture
def simulator() -> Iterator[SimulatorThread]:
    with SimulatorThread() as thread:
        yield thread


def hold_after_first_announcement() -> aiohttp.TraceConfig:
    """A trace that holds the loop once per company, right after its first request's headers
    were announced and before its body is written: a busy application."""
    held: list[str] = []

    async def hold(
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestHeadersSentParams,
    ) -> None:
        if params.url.path.endswith("factura/emitere") and len(held) < len(COMPANIES):
            held.append(str(params.url))
            time.sleep(HOLD)  # noqa: ASYNC251 - holding the loop, as CPU-bound work does, is the point

    config = aiohttp.TraceConfig()
    config.on_request_headers_sent.append(hold)
    return config


@pytest.mark.realtime
async def test_a_body_written_late_does_not_bring_the_next_call_closer(
    simulator: SimulatorThread,
) -> None:
    sim = simulator.sim
    scheduler = Scheduler()
    async with aiohttp.ClientSession(
        trace_configs=[send_time_trace(), hold_after_first_announcement()]
    ) as session:
        clients = [
            sim.client(company, http=True, scheduler=scheduler, session=session)
            for company in COMPANIES
        ]
        # The base URL is read in the simulator's thread; every client goes there.
        assert all(fgo.base_url == simulator.base_url for fgo in clients)
        outcomes = await asyncio.gather(
            *(
                fgo.issue_many([invoice(fgo.cod_unic, i) for i in range(INVOICES)])
                for fgo in clients
            )
        )
        for fgo in clients:
            await fgo.aclose()
    assert all(isinstance(o, IssuedInvoice) for batch in outcomes for o in batch), outcomes
    summary = sim.summary()
    assert summary.calls == len(COMPANIES) * INVOICES
    assert (summary.rate_violations, summary.throttled) == (0, 0), sim.violations()
