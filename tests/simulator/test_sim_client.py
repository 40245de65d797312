"""Every vendor method through FgoClient: in-process on virtual time, and over real HTTP.

The same scenario runs both ways. Over HTTP the limits are set to zero (the rate rules have their
own tests), since the client of this version does not space its calls yet.
"""

from __future__ import annotations

import asyncio
import datetime
from decimal import Decimal

import pytest

from fgo_async import (
    Bucket,
    Customer,
    DocumentType,
    FgoApiError,
    InvoiceLine,
    Payment,
    ReceiptRef,
)
from fgo_async.client import FgoClient
from fgo_async.simulator import DocumentKind, DocumentStatus, FgoSimulator, Outcome
from fgo_async.testing import TEST_COMPANY
from tests._helpers import unpaced_scheduler
from tests.simulator.sim_helpers import make_invoice

NO_LIMITS = dict.fromkeys(Bucket, 0.0)


async def gap(seconds: float) -> None:
    """Space calls as the vendor asks (only used in-process: free on virtual time)."""
    await asyncio.sleep(seconds)


async def run_every_method(sim: FgoSimulator, fgo: FgoClient, pause: float) -> None:
    sim.add_article(TEST_COMPANY, name="Pix", code="PIX", unit="buc", unit_price="2.5", stock=100)

    # Invoice, print, status, payment, status again.
    issued = await fgo.issue_invoice(make_invoice(external_id="A-1", check_duplicate=True))
    assert (issued.series, issued.number) == ("BV", "001")
    assert issued.stock[0].account_code == "CARTE-1"
    assert issued.stock[0].stock == -2
    await gap(pause)
    link = await fgo.print_invoice(issued.ref)
    assert link.link == issued.link
    await gap(pause)
    status = await fgo.invoice_status(issued.ref)
    assert (status.total, status.paid, status.payments) == (Decimal("48.38"), 0, ())
    await gap(pause)
    paid_at = datetime.datetime(2025, 9, 1, 10, 30)
    receipt = await fgo.add_payment(
        Payment(invoice=issued.ref, payment_type="Card", amount="40", paid_at=paid_at)
    )
    assert receipt.receipt == ReceiptRef(series="CH", number="001")
    assert receipt.invoice is None
    await gap(pause)
    status = await fgo.invoice_status(issued.ref)
    assert (status.total, status.paid, status.balance) == (Decimal("48.38"), 40, Decimal("8.38"))
    assert [(p.amount, p.date, p.currency) for p in status.payments] == [
        (40, paid_at.date(), "RON")
    ]
    await gap(pause)
    deleted = await fgo.delete_payment(issued.ref, receipt.receipt)
    assert deleted.message == "Incasarea a fost stearsa."
    await gap(pause)
    assert (await fgo.set_awb(issued.ref, "AWB123")).raw == {"Success": True}
    document = sim.document(TEST_COMPANY, "BV", "001")
    assert document is not None
    assert document.awb == "AWB123"
    await gap(pause)

    # Reversal: a new invoice with negated lines; the stock comes back.
    reversal = await fgo.reverse_invoice(issued.ref)
    assert (reversal.series, reversal.number) == ("BV", "002")
    assert document.status is DocumentStatus.REVERSED
    reversed_document = sim.document(TEST_COMPANY, "BV", "002")
    assert reversed_document is not None
    assert reversed_document.total == Decimal("-48.38")
    await gap(pause)

    # A proforma; a payment on it produces the invoice (v6.9), listed as associated.
    proforma = await fgo.issue_invoice(
        make_invoice(
            series="PF",
            document_type=DocumentType.PROFORMA,
            lines=[InvoiceLine(name="Pix", article_code="PIX", quantity=4, unit="buc",
                               vat_rate=21, total_price="12.10")],
        )
    )  # fmt: skip
    assert proforma.stock[0].stock == 100  # a proforma moves no stock
    await gap(pause)
    on_proforma = await fgo.add_payment(
        Payment(invoice=proforma.ref, payment_type="Numerar", amount="12.10", paid_at=paid_at)
    )
    assert on_proforma.invoice is not None
    assert (on_proforma.invoice.series, on_proforma.invoice.number) == ("FCT", "001")
    await gap(pause)
    associated = await fgo.associated_invoices(proforma.ref)
    assert [(a.series, a.number, a.total, a.paid) for a in associated] == [
        ("FCT", "001", Decimal("12.10"), Decimal("12.10"))
    ]
    await gap(pause)

    # Cancel, and delete the last one of a series.
    other = await fgo.issue_invoice(make_invoice(series="CJ"))
    await gap(pause)
    assert (await fgo.cancel_invoice(other.ref)).message == "Factura a fost anulata."
    await gap(pause)
    last = await fgo.issue_invoice(make_invoice(series="CJ", external_id="B-2"))
    await gap(pause)
    assert (await fgo.delete_invoice(last.ref)).message == "Factura a fost stearsa."
    assert sim.document(TEST_COMPANY, "CJ", last.number) is None
    await gap(pause)
    with pytest.raises(FgoApiError, match="nu a fost gasit"):
        await fgo.print_invoice(last.ref)
    await gap(pause)

    # Articles: created on first use, stock lowered by invoices.
    article = await fgo.article("CARTE-1")
    assert (article.name, article.stock, article.vat_rate) == ("Carte", 0, 21)
    await gap(pause)
    pix = await fgo.articles_by_code(["PIX", "NOPE"])
    assert [(a.account_code, a.stock) for a in pix] == [("PIX", 96)]
    await gap(pause)
    names = [a.name async for a in fgo.articles(page_size=1).items()]
    assert names == ["Pix", "Carte"]
    await gap(pause)
    changed = await fgo.changed_articles(hours=24)
    assert {c.account_code for c in changed} == {"PIX", "CARTE-1"}
    assert all(c.last_used is not None for c in changed)
    await gap(pause)
    warehouses = await fgo.warehouses()
    assert [(w.code, w.name) for w in warehouses] == [("G1", "Gestiune principala")]
    await gap(pause)

    # Customers saved from the invoices, found again by CodUnic: one customer.
    customers = [c async for c in fgo.customers(page_size=10).items()]
    assert [(c.name, c.tax_id, c.county) for c in customers] == [
        ("Ionescu Popescu SRL", "RO18547290", "Brasov")
    ]

    # Nomenclators, by GET with query parameters.
    counties = await fgo.nomenclature("judet")
    assert len(counties) == 42
    assert counties.value_of("Brasov") == "BV"
    await gap(pause)
    rates = await fgo.nomenclature("tva")
    assert [item.value for item in rates] == ["21", "11", "9", "5", "0"]
    await gap(pause)
    places = await fgo.nomenclature("localitati", county="Cluj")
    assert "Cluj-Napoca" in places.names()
    for name in ("tara", "banca", "tipincasare", "tipfactura", "tipclient", "valuta"):
        await gap(pause)
        assert len(await fgo.nomenclature(name)) >= 2
    assert {doc.kind for doc in sim.company(TEST_COMPANY).documents.values()} == {
        DocumentKind.INVOICE,
        DocumentKind.PROFORMA,
    }


async def test_every_method_in_process_on_virtual_time(
    fgo_simulator: FgoSimulator, virtual_clock: object
) -> None:
    async with fgo_simulator.client() as fgo:
        await run_every_method(fgo_simulator, fgo, pause=0.0)
    # No pauses of our own: the client's scheduler spaces every call as the vendor's limits
    # want (the second page of articol/list 30 s after the first, and so on).
    assert fgo_simulator.violations() == []
    assert fgo_simulator.summary().throttled == 0
    assert fgo_simulator.summary().calls >= 30


@pytest.mark.realtime
async def test_every_method_over_http() -> None:
    # Limits off on both sides: this test is about every method over HTTP, in real time.
    async with FgoSimulator({TEST_COMPANY: "k"}, limits=NO_LIMITS) as sim:
        async with sim.client(http=True, scheduler=unpaced_scheduler()) as fgo:
            await run_every_method(sim, fgo, pause=0.0)
        assert all(call.http_method in {"GET", "POST"} for call in sim.calls)
        assert sim.summary().outcomes.keys() <= {Outcome.SUCCESS, Outcome.REFUSED}


@pytest.mark.realtime
async def test_form_encoding_over_http() -> None:
    async with FgoSimulator({TEST_COMPANY: "k"}, limits=NO_LIMITS) as sim:
        async with sim.client(http=True, wire_format="form") as fgo:
            customer = Customer(name="Știrbu Țăran", type="PF", country="RO", county="Iași")
            issued = await fgo.issue_invoice(make_invoice(customer=customer))
            status = await fgo.invoice_status(issued.ref)
        assert status.total == Decimal("48.38")
        assert sim.calls[0].body["Client"]["Denumire"] == "Știrbu Țăran"
