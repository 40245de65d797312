"""An order pipeline serving many companies from one process.

Orders of many companies arrive on one queue; a few workers take them and issue their
invoices. Every company has its own FgoClient, made on first use, and all the clients share one
Scheduler: each company gets one call at a time and one invoice call per second, while the
companies go side by side, so 20 companies x 5 invoices take about 5 seconds, not 100. A slow or
failing company never holds back the others.

Run it against the simulator (in-process, 20 companies)::

    python examples/many_companies.py
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from fgo_async import Customer, FgoClient, Invoice, InvoiceLine, Scheduler
from fgo_async.simulator import FgoSimulator

#: A job: the issuing company and the invoice.
Job = tuple[str, Invoice]


class Pipeline:
    """Issues the invoices of many companies through one scheduler.

    ``make_client(cod_unic, scheduler)`` builds a company's client (from your own store of
    credentials); clients are made once, on a company's first order, and closed at the end.
    """

    def __init__(self, make_client: Callable[[str, Scheduler], FgoClient], workers: int = 50):
        self.scheduler = Scheduler()
        self.make_client = make_client
        self.workers = workers
        self.clients: dict[str, FgoClient] = {}
        self.issued = 0
        self.failed: list[tuple[str, Exception]] = []

    def client(self, cod_unic: str) -> FgoClient:
        """The client of a company, made on first use."""
        if cod_unic not in self.clients:
            self.clients[cod_unic] = self.make_client(cod_unic, self.scheduler)
        return self.clients[cod_unic]

    async def _work(self, queue: asyncio.Queue[Job | None]) -> None:
        while (job := await queue.get()) is not None:
            cod_unic, invoice = job
            try:
                await self.client(cod_unic).issue_invoice(invoice)
                self.issued += 1
            except Exception as error:  # one order's failure never stops the pipeline
                self.failed.append((cod_unic, error))

    async def run(self, jobs: list[Job]) -> None:
        """Issue every job's invoice; the workers wait on the scheduler, not on each other."""
        queue: asyncio.Queue[Job | None] = asyncio.Queue()
        for job in jobs:
            queue.put_nowait(job)
        for _ in range(self.workers):
            queue.put_nowait(None)
        try:
            await asyncio.gather(*(self._work(queue) for _ in range(self.workers)))
        finally:
            for client in self.clients.values():
                await client.aclose()
            await self.scheduler.aclose()


def orders(companies: list[str], per_company: int) -> list[Job]:
    """Sample orders, the companies' interleaved as they would arrive."""
    return [
        (
            cod_unic,
            Invoice(
                series="WEB",
                external_id=f"{cod_unic}-{n}",
                check_duplicate=True,
                customer=Customer(name=f"Client {n}", type="PF", country="Romania", county="Iasi"),
                lines=[
                    InvoiceLine(
                        name="Livrare", quantity=1, unit="buc", vat_rate=21, unit_price="15.00"
                    )
                ],
            ),
        )
        for n in range(per_company)
        for cod_unic in companies
    ]


async def main(companies: int = 20, per_company: int = 5) -> FgoSimulator:
    """Run the pipeline against a simulator in-process; returns the simulator."""
    codes = [str(10_000_000 + n) for n in range(companies)]
    simulator = FgoSimulator(companies={code: f"key-{code}" for code in codes})
    pipeline = Pipeline(lambda code, scheduler: simulator.client(code, scheduler=scheduler))
    loop = asyncio.get_running_loop()
    started = loop.time()
    await pipeline.run(orders(codes, per_company))
    stats = pipeline.scheduler.stats()
    print(
        f"{pipeline.issued} invoices for {companies} companies in "
        f"{loop.time() - started:.1f} s, {len(pipeline.failed)} failed; "
        f"longest wait in the queue {stats.max_wait:.1f} s; "
        f"violations of the vendor's discipline: {len(simulator.violations())}"
    )
    return simulator


if __name__ == "__main__":
    wall = time.monotonic()
    asyncio.run(main())
    print(f"(wall clock: {time.monotonic() - wall:.1f} s)")
