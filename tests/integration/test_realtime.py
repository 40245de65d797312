"""Real time, real HTTP on 127.0.0.1: three companies issuing at once against the simulator."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from fgo_async import Customer, Invoice, InvoiceLine, IssuedInvoice, RatePolicy, Scheduler
from fgo_async.endpoints import VENDOR_LIMITS, Bucket, nomenclature_endpoint
from fgo_async.protocol import FgoProtocol
from fgo_async.signing import Credentials
from fgo_async.simulator import FgoSimulator, LogNormalLatency
from fgo_async.simulator.analysis import minimum_makespan
from fgo_async.transport import AiohttpTransport

COMPANIES = {"18547290": "key-one", "2864518": "key-two", "14399840": "key-three"}
INVOICES_PER_COMPANY = 10


def invoice(company: str, index: int) -> Invoice:
    return Invoice(
        series="RT",
        external_id=f"{company}-{index}",
        check_duplicate=True,
        customer=Customer(name=f"Client {index}", type="PF", country="RO", county="Cluj"),
        lines=[
            InvoiceLine(name=f"Produs {index}", quantity=index + 1, unit="buc", vat_rate=21,
                        unit_price="10.00")
        ],
    )  # fmt: skip


@pytest.mark.realtime
async def test_three_companies_at_once_keep_the_discipline_at_the_pace_the_limits_allow() -> None:
    policy = RatePolicy()
    latency = LogNormalLatency(median=0.05, p99=0.4)
    async with FgoSimulator(COMPANIES, latency=latency, seed=11) as sim:
        scheduler = Scheduler(rate_policy=policy)
        clients = [sim.client(company, http=True, scheduler=scheduler) for company in COMPANIES]
        loop = asyncio.get_running_loop()
        started = loop.time()
        outcomes = await asyncio.gather(
            *(
                fgo.issue_many([invoice(fgo.cod_unic, i) for i in range(INVOICES_PER_COMPANY)])
                for fgo in clients
            )
        )
        wall = loop.time() - started
        for fgo in clients:
            await fgo.aclose()
        await scheduler.aclose()

        issued = [o for per_company in outcomes for o in per_company]
        assert all(isinstance(o, IssuedInvoice) for o in issued), issued
        summary = sim.summary()
        assert summary.calls == len(COMPANIES) * INVOICES_PER_COMPANY
        assert (summary.rate_violations, summary.overlaps, summary.throttled) == (0, 0, 0)

        spacing = {bucket: policy.spacing(bucket) for bucket in VENDOR_LIMITS}
        minimum = minimum_makespan(sim.calls, spacing, start=started)
        assert wall <= 1.10 * minimum, (wall, minimum)
        # The vendor saw each company's invoices at least its 1 s apart.
        for company in COMPANIES:
            arrivals = [c.arrival for c in sim.calls_to("factura/emitere", company)]
            gaps = [b - a for a, b in itertools.pairwise(arrivals)]
            assert min(gaps) >= VENDOR_LIMITS[Bucket.FACTURA]


@pytest.mark.realtime
async def test_the_aiohttp_transport_says_when_a_request_went_out() -> None:
    async with FgoSimulator(COMPANIES) as sim:
        protocol = FgoProtocol(
            credentials=Credentials(cod_unic="18547290", private_key="key-one"),
            platform_url="https://shop.example.ro",
            base_url=sim.base_url,
        )
        transport = AiohttpTransport()  # with a session of its own, traced
        loop = asyncio.get_running_loop()
        before = loop.time()
        raw = await transport.send(
            protocol.build_nomenclature_request(nomenclature_endpoint("judet")), timeout=5
        )
        after = loop.time()
        await transport.aclose()
    assert raw.status == 200
    assert raw.sent_at is not None
    assert before <= raw.sent_at <= after
    assert raw.sent_at <= sim.calls[0].arrival
