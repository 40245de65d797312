"""FgoClient and the scheduler together, on virtual time with a mock transport."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from fgo_async import (
    Customer,
    FgoApiError,
    FgoClient,
    FgoQueueTimeoutError,
    FgoValidationError,
    Invoice,
    InvoiceLine,
    InvoiceRef,
    IssuedInvoice,
)
from fgo_async.client import BatchProgress
from fgo_async.protocol import Request
from fgo_async.scheduling import Scheduler
from fgo_async.transport import MockTransport, RawResponse
from fgo_async.virtual_time import run

SIM_URL = "http://127.0.0.1:8089/v1"


class Vendor:
    """A mock vendor that numbers invoices per company and remembers when calls came."""

    def __init__(self, refuse: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.arrivals: list[tuple[str, str, float]] = []
        self.numbers: dict[str, int] = {}
        self.refuse = refuse

    def __call__(self, request: Request) -> RawResponse:
        body = json.loads(request.body) if request.body else {}
        company = body.get("CodUnic", "-")
        self.arrivals.append((company, request.endpoint.name, asyncio.get_running_loop().time()))
        if body.get("IdExtern") in self.refuse:
            return _reply({"Success": False, "Message": "Client inexistent"})
        if request.endpoint.name == "factura/emitere":
            self.numbers[company] = self.numbers.get(company, 0) + 1
            number = f"{self.numbers[company]:03d}"
            return _reply({"Success": True, "Factura": {"Numar": number, "Serie": "BV"}})
        if request.endpoint.name == "nomenclator/judet":
            return _reply({"Success": True, "List": [{"Nume": "Brasov", "Valoare": "BV"}]})
        return _reply({"Success": True, "Factura": {"Numar": "001", "Serie": "BV", "Link": "x"}})


def _reply(data: dict[str, Any]) -> RawResponse:
    return RawResponse(status=200, body=json.dumps(data).encode())


def invoice(external_id: str) -> Invoice:
    return Invoice(
        series="BV",
        external_id=external_id,
        check_duplicate=True,
        customer=Customer(name="Ionescu Popescu", type="PF", country="RO", county="Brasov"),
        lines=[InvoiceLine(name="Carte", quantity=1, unit="buc", vat_rate=21, unit_price="19.99")],
    )


def client(company: str, transport: MockTransport, scheduler: Scheduler | None) -> FgoClient:
    return FgoClient(
        cod_unic=company,
        private_key="k-" + company,
        platform_url="https://shop.example.ro",
        base_url=SIM_URL,
        transport=transport,
        scheduler=scheduler,
    )


def test_clients_sharing_a_scheduler_run_companies_in_parallel_each_at_its_pace() -> None:
    vendor = Vendor()
    transport = MockTransport(vendor)

    async def main() -> None:
        shared = Scheduler()
        a, b = client("111", transport, shared), client("222", transport, shared)
        await asyncio.gather(
            *(a.issue_invoice(invoice(f"a{i}")) for i in range(3)),
            *(b.issue_invoice(invoice(f"b{i}")) for i in range(3)),
        )
        await a.aclose()
        await b.aclose()
        assert not shared.closed  # the clients do not close a scheduler they were given
        await shared.aclose()

    run(main())
    for company in ("111", "222"):
        times = [t for c, _, t in vendor.arrivals if c == company]
        # The mock vendor answers at once: the next call may follow the reply by the interval.
        assert [round(t - times[0], 6) for t in times] == [0.0, 1.0, 2.0]


def test_two_clients_of_one_company_share_its_lane() -> None:
    vendor = Vendor()
    transport = MockTransport(vendor)

    async def main() -> None:
        shared = Scheduler()
        first, second = client("111", transport, shared), client("111", transport, shared)
        await asyncio.gather(
            first.issue_invoice(invoice("x1")),
            second.issue_invoice(invoice("x2")),
            first.print_invoice(InvoiceRef(series="BV", number="001")),
        )

    run(main())
    times = [t for _, _, t in vendor.arrivals]
    # The mock vendor answers at once: the next call may follow the reply by the interval.
    assert [round(t - times[0], 6) for t in times] == [0.0, 1.0, 2.0]


def test_nomenclators_use_one_global_lane_without_a_company() -> None:
    vendor = Vendor()
    transport = MockTransport(vendor)

    async def main() -> None:
        shared = Scheduler()
        a, b = client("111", transport, shared), client("222", transport, shared)
        await asyncio.gather(a.nomenclature("judet"), b.nomenclature("judet"))
        assert shared.stats().lanes == 1

    run(main())
    times = [t for _, name, t in vendor.arrivals if name == "nomenclator/judet"]
    assert [round(t - times[0], 6) for t in times] == [0.0, 1.0]


def test_issue_many_returns_outcomes_in_input_order_and_one_failure_stops_nothing() -> None:
    vendor = Vendor(refuse={"o2"})
    transport = MockTransport(vendor)
    progress: list[BatchProgress] = []

    async def main() -> list[IssuedInvoice | Exception]:
        async with client("111", transport, None) as fgo:
            bad = Invoice(
                series="BV",
                customer=Customer(name="X", type="PF", country="RO"),  # no county
                lines=[InvoiceLine(name="a", quantity=1, unit="buc", vat_rate=21, unit_price=1)],
            )
            batch = [invoice("o1"), invoice("o2"), bad, invoice("o4")]
            return await fgo.issue_many(batch, on_progress=progress.append)

    outcomes = run(main())
    assert isinstance(outcomes[0], IssuedInvoice)
    assert outcomes[0].number == "001"
    assert isinstance(outcomes[1], FgoApiError)
    assert isinstance(outcomes[2], FgoValidationError)
    assert isinstance(outcomes[3], IssuedInvoice)
    assert outcomes[3].number == "002"
    assert sorted(p.index for p in progress) == [0, 1, 2, 3]
    assert [p.done for p in progress] == [1, 2, 3, 4]
    assert all(p.total == 4 for p in progress)
    assert [p.ok for p in sorted(progress, key=lambda p: p.index)] == [True, False, False, True]
    # Three calls reached the vendor (the invalid invoice never did), spaced by the bucket.
    times = [t for _, _, t in vendor.arrivals]
    assert [round(t - times[0], 6) for t in times] == [0.0, 1.0, 2.0]


def test_issue_many_survives_a_broken_progress_callback(caplog: pytest.LogCaptureFixture) -> None:
    transport = MockTransport(Vendor())

    def broken(progress: BatchProgress) -> None:
        raise RuntimeError("terminal gone")

    async def main() -> list[IssuedInvoice | Exception]:
        async with client("111", transport, None) as fgo:
            return await fgo.issue_many([invoice("a"), invoice("b")], on_progress=broken)

    outcomes = run(main())
    assert all(isinstance(o, IssuedInvoice) for o in outcomes)
    assert "on_progress callback" in caplog.text


def test_an_interactive_view_overtakes_batch_calls_of_the_same_client() -> None:
    vendor = Vendor()
    transport = MockTransport(vendor)

    async def main() -> None:
        async with client("111", transport, None) as fgo:
            batch = asyncio.ensure_future(fgo.issue_many([invoice(f"o{i}") for i in range(4)]))
            await asyncio.sleep(0.5)
            await fgo.with_options(interactive=True).print_invoice(
                InvoiceRef(series="BV", number="001")
            )
            await batch

    run(main())
    names = [name for _, name, _ in vendor.arrivals]
    assert names == ["factura/emitere", "factura/print", *["factura/emitere"] * 3]


def test_a_queue_timeout_view_fails_unsent_when_the_lane_is_busy() -> None:
    vendor = Vendor()
    transport = MockTransport(vendor)

    async def main() -> None:
        async with client("111", transport, None) as fgo:
            batch = asyncio.ensure_future(fgo.issue_many([invoice(f"o{i}") for i in range(5)]))
            await asyncio.sleep(0.5)  # the batch holds the factura bucket until +4.4 s
            hurried = fgo.with_options(queue_timeout=2.0)
            with pytest.raises(FgoQueueTimeoutError):
                await hurried.print_invoice(InvoiceRef(series="BV", number="001"))
            await batch

    run(main())
    assert [name for _, name, _ in vendor.arrivals].count("factura/print") == 0
