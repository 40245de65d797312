"""Every FgoClient method through the mock transport: URL, wire body, typed result."""

from __future__ import annotations

import asyncio
import datetime
import json
import urllib.parse
import warnings
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses

from fgo_async import (
    Article,
    ArticlePage,
    AssociatedInvoices,
    Confirmation,
    CustomerPage,
    CustomerRecord,
    Environment,
    FgoClient,
    FgoClosedError,
    FgoConfigurationError,
    FgoConnectError,
    FgoConnectionLostError,
    FgoDuplicateError,
    FgoOutcomeUnknownError,
    FgoValidationError,
    FgoValidationWarning,
    InvoiceLink,
    InvoiceRef,
    InvoiceStatus,
    IssuedInvoice,
    Nomenclature,
    Payment,
    PaymentReceipt,
    RawResponse,
    ReceiptRef,
    RetryPolicy,
    Warehouses,
)
from fgo_async.protocol import Request
from fgo_async.scheduling import Call
from fgo_async.transport import AiohttpTransport, MockTransport
from tests._helpers import (
    BASE_URL,
    COD_UNIC,
    ONE_ATTEMPT,
    PLATFORM_URL,
    SECRET_KEY,
    body_of,
    client,
    customer,
    invoice,
    line,
    reply,
)

REF = InvoiceRef(series="BV", number="001")


def answer(data: dict[str, Any]) -> Callable[[Request], RawResponse]:
    """A handler that answers every request with ``data``."""
    return lambda request: reply(data)


def only(transport: MockTransport) -> Request:
    (request,) = transport.requests
    return request


def check_signed_post(request: Request, path: str) -> dict[str, Any]:
    assert request.method == "POST"
    assert request.url == f"{BASE_URL}/{path}"
    body = body_of(request)
    assert body["CodUnic"] == COD_UNIC
    assert body["PlatformaUrl"] == PLATFORM_URL
    assert len(body["Hash"]) == 40
    return {k: v for k, v in body.items() if k not in ("CodUnic", "Hash", "PlatformaUrl")}


# -- invoices --------------------------------------------------------------------------------------


async def test_issue_invoice() -> None:
    fgo, transport = client(
        answer(
            {
                "Success": True,
                "Message": "",
                "Factura": {
                    "Numar": "001",
                    "Serie": "BV",
                    "Link": "https://fgo/pdf/1",
                    "LinkPlata": "https://fgo/pay/1",
                },
                "InfoStoc": [{"CodConta": "371", "Nume": "Carte", "Stoc": "-1"}],
            }
        )
    )
    async with fgo:
        issued = await fgo.issue_invoice(invoice(external_id="1042", check_duplicate=True))
    body = check_signed_post(only(transport), "factura/emitere")
    assert body == {
        "Serie": "BV",
        "Client": {
            "Denumire": "Ionescu Popescu",
            "Tip": "PF",
            "Tara": "Romania",
            "Judet": "Brasov",
        },
        "Continut": [
            {
                "Denumire": "Carte",
                "NrProduse": 1,
                "UM": "buc",
                "CotaTVA": 21,
                "PretUnitar": Decimal("19.99"),
            }
        ],
        "VerificareDuplicat": True,
        "IdExtern": "1042",
    }
    assert isinstance(issued, IssuedInvoice)
    assert issued.ref == REF
    assert issued.link == "https://fgo/pdf/1"
    assert issued.payment_link == "https://fgo/pay/1"
    assert issued.stock[0].stock == Decimal(-1)
    assert issued.raw["Factura"]["Numar"] == "001"


async def test_issue_invoice_in_form_encoding() -> None:
    fgo, transport = client(
        answer({"Success": True, "Factura": {"Numar": "1", "Serie": "BV"}}), wire_format="form"
    )
    async with fgo:
        await fgo.issue_invoice(invoice())
    request = only(transport)
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    fields = dict(urllib.parse.parse_qsl(request.body.decode("ascii")))
    assert fields["Client[Denumire]"] == "Ionescu Popescu"
    assert fields["Continut[0][CotaTVA]"] == "21"
    assert fields["PlatformaUrl"] == PLATFORM_URL


async def test_print_invoice() -> None:
    fgo, transport = client(
        answer({"Success": True, "Factura": {"Numar": "001", "Serie": "BV", "Link": "https://l"}})
    )
    async with fgo:
        link = await fgo.print_invoice(REF)
    assert check_signed_post(only(transport), "factura/print") == {"Serie": "BV", "Numar": "001"}
    assert link == InvoiceLink(series="BV", number="001", link="https://l")


@pytest.mark.parametrize(
    ("method", "path"),
    [("delete_invoice", "factura/stergere"), ("cancel_invoice", "factura/anulare")],
)
async def test_delete_and_cancel(method: str, path: str) -> None:
    fgo, transport = client(answer({"Success": True, "Message": "Operatie reusita"}))
    async with fgo:
        result = await getattr(fgo, method)(REF)
    assert check_signed_post(only(transport), path) == {"Serie": "BV", "Numar": "001"}
    assert result == Confirmation(message="Operatie reusita")


async def test_invoice_status() -> None:
    fgo, transport = client(
        answer(
            {
                "Success": True,
                "Factura": {
                    "Numar": "001",
                    "Serie": "BV",
                    "Valoare": "167.69",
                    "ValoareAchitata": "100",
                    "Incasari": [
                        {"SumaIncasata": "100", "DataIncasare": "2025-08-01", "Valuta": "RON"}
                    ],
                },
            }
        )
    )
    async with fgo:
        status = await fgo.invoice_status(REF)
    assert check_signed_post(only(transport), "factura/getstatus") == {
        "Serie": "BV",
        "Numar": "001",
    }
    assert isinstance(status, InvoiceStatus)
    assert status.total == Decimal("167.69")
    assert status.balance == Decimal("67.69")
    assert not status.is_paid
    assert status.payments[0].date == datetime.date(2025, 8, 1)


async def test_add_payment() -> None:
    fgo, transport = client(
        answer(
            {
                "Success": True,
                "Incasare": {"Numar": "12", "Serie": "CH"},
                "Factura": {"Numar": "002", "Serie": "BV", "Link": "https://l"},
            }
        )
    )
    payment = Payment(
        invoice=REF,
        payment_type="Card",
        amount="167.69",
        paid_at=datetime.datetime(2025, 8, 1, 9, 30),
        receipt_series="CH",
    )
    async with fgo:
        receipt = await fgo.add_payment(payment)
    assert check_signed_post(only(transport), "factura/incasare") == {
        "SerieFactura": "BV",
        "NumarFactura": "001",
        "TipIncasare": "Card",
        "SumaIncasata": Decimal("167.69"),
        "DataIncasare": "2025-08-01 09:30:00",
        "SerieChitanta": "CH",
    }
    assert isinstance(receipt, PaymentReceipt)
    assert receipt.receipt == ReceiptRef(series="CH", number="12")
    assert receipt.invoice is not None
    assert receipt.invoice.ref == InvoiceRef(series="BV", number="002")


async def test_delete_payment() -> None:
    fgo, transport = client(answer({"Success": True, "Message": ""}))
    async with fgo:
        result = await fgo.delete_payment(REF, ReceiptRef(series="CH", number="12"))
    assert check_signed_post(only(transport), "factura/stergereincasare") == {
        "SerieFactura": "BV",
        "NumarFactura": "001",
        "SerieIncasare": "CH",
        "NumarIncasare": "12",
    }
    assert result == Confirmation(message=None)


async def test_reverse_invoice() -> None:
    fgo, transport = client(
        answer({"Success": True, "Factura": {"Numar": "9", "Serie": "ST", "Link": "https://s"}})
    )
    async with fgo:
        reversal = await fgo.reverse_invoice(
            REF, series="ST", number="9", issue_date=datetime.date(2025, 8, 2)
        )
    assert check_signed_post(only(transport), "factura/stornare") == {
        "Serie": "BV",
        "Numar": "001",
        "SerieStorno": "ST",
        "NumarStorno": "9",
        "DataEmitere": "2025-08-02",
    }
    assert reversal.ref == InvoiceRef(series="ST", number="9")


async def test_reverse_invoice_with_the_vendors_defaults() -> None:
    fgo, transport = client(answer({"Success": True, "Factura": {"Numar": "9", "Serie": "ST"}}))
    async with fgo:
        await fgo.reverse_invoice(REF)
    assert check_signed_post(only(transport), "factura/stornare") == {"Serie": "BV", "Numar": "001"}


async def test_set_awb() -> None:
    fgo, transport = client(answer({"Success": True}))
    async with fgo:
        result = await fgo.set_awb(REF, "1Z999AA10123456784")
    assert check_signed_post(only(transport), "factura/awb") == {
        "Serie": "BV",
        "Numar": "001",
        "AWB": "1Z999AA10123456784",
    }
    assert isinstance(result, Confirmation)


async def test_associated_invoices() -> None:
    fgo, transport = client(
        answer(
            {
                "Success": True,
                "Facturi": [
                    {"Numar": "5", "Serie": "BV", "Valoare": "10", "DataEmitere": "2025-08-02"},
                    {"Numar": "6", "Serie": "BV", "Valoare": 20.5},
                ],
            }
        )
    )
    proforma = InvoiceRef(series="PF", number="3")
    async with fgo:
        found = await fgo.associated_invoices(proforma)
    assert check_signed_post(only(transport), "factura/listfacturiasociate") == {
        "Serie": "PF",
        "Numar": "3",
    }
    assert isinstance(found, AssociatedInvoices)
    assert [(i.number, i.total) for i in found] == [("5", Decimal(10)), ("6", Decimal("20.5"))]
    assert found[0].issue_date == datetime.date(2025, 8, 2)


# -- articles and customers ------------------------------------------------------------------------


def paged_vendor(
    items: list[dict[str, Any]],
    *,
    total: bool = True,
    size_key: str = "NrArticole",
    max_size: int | None = None,
) -> Callable[[Request], RawResponse]:
    """A handler serving ``items`` page by page, as articol/list and client/list do; with
    ``max_size``, it serves smaller pages than asked for, as a vendor cap would."""

    def handler(request: Request) -> RawResponse:
        body = body_of(request)
        page, size = body["NrPagina"], body["NrArticole"]
        size = min(size, max_size or size)
        result: dict[str, Any] = {
            "NrPagina": page,
            size_key: size,
            "List": items[(page - 1) * size : page * size],
        }
        if total:
            result["Total"] = len(items)
        return reply({"Success": True, "Result": result})

    return handler


ARTICLES = [{"Nume": f"Articol {i}", "PretUnitar": f"{i}.50", "CotaTva": 0.19} for i in range(5)]


async def test_articles_fetch_pages_only_when_iterated() -> None:
    fgo, transport = client(paged_vendor(ARTICLES))
    async with fgo:
        pager = fgo.articles(page_size=2)
        assert transport.requests == []  # making the pager sends nothing
        async for page in pager:
            assert isinstance(page, ArticlePage)
            assert page.total == 5
            break
        assert len(transport.requests) == 1
    first = check_signed_post(transport.requests[0], "articol/list")
    assert first == {"NrPagina": 1, "NrArticole": 2}


async def test_articles_items_walk_every_page() -> None:
    fgo, transport = client(paged_vendor(ARTICLES))
    async with fgo:
        names = [article.name async for article in fgo.articles(page_size=2).items()]
    assert names == [f"Articol {i}" for i in range(5)]
    assert [body_of(r)["NrPagina"] for r in transport.requests] == [1, 2, 3]


async def test_articles_are_typed() -> None:
    fgo, _ = client(paged_vendor(ARTICLES))
    async with fgo:
        articles = [article async for article in fgo.articles(page_size=10).items()]
    assert articles[1] == Article(
        name="Articol 1", unit_price=Decimal("1.50"), vat_rate=Decimal(19)
    )


async def test_paging_stops_at_total_without_asking_for_an_empty_page() -> None:
    fgo, transport = client(paged_vendor(ARTICLES[:4]))
    async with fgo:
        pages = [page async for page in fgo.articles(page_size=2)]
    assert [len(page) for page in pages] == [2, 2]
    assert len(transport.requests) == 2


async def test_paging_stops_at_a_short_page_without_total() -> None:
    fgo, transport = client(paged_vendor(ARTICLES, total=False))
    async with fgo:
        pages = [page async for page in fgo.articles(page_size=2)]
    assert [len(page) for page in pages] == [2, 2, 1]
    assert len(transport.requests) == 3


async def test_paging_stops_at_an_empty_page_without_total() -> None:
    fgo, transport = client(paged_vendor(ARTICLES[:4], total=False))
    async with fgo:
        pages = [page async for page in fgo.articles(page_size=2)]
    assert [len(page) for page in pages] == [2, 2, 0]
    assert len(transport.requests) == 3


async def test_paging_goes_on_to_total_when_the_vendor_serves_smaller_pages() -> None:
    fgo, transport = client(paged_vendor(ARTICLES, max_size=2))
    async with fgo:
        names = [a.name async for a in fgo.articles(page_size=4).items()]
    assert names == [f"Articol {i}" for i in range(5)]
    assert len(transport.requests) == 3


async def test_paging_from_a_later_page() -> None:
    fgo, transport = client(paged_vendor(ARTICLES))
    async with fgo:
        pager = fgo.articles(page_size=2, start_page=2)
        names = [a.name async for a in pager.items()]
    assert names == ["Articol 2", "Articol 3", "Articol 4"]
    assert [body_of(r)["NrPagina"] for r in transport.requests] == [2, 3]
    assert (pager.page_size, pager.start_page) == (2, 2)


async def test_default_page_size() -> None:
    fgo, transport = client(paged_vendor(ARTICLES))
    async with fgo:
        [a async for a in fgo.articles().items()]
    assert body_of(only(transport))["NrArticole"] == 100


async def test_a_bad_page_size_is_refused_before_sending() -> None:
    fgo, transport = client(paged_vendor(ARTICLES))
    async with fgo:
        with pytest.raises(FgoValidationError, match="page_size"):
            [page async for page in fgo.articles(page_size=0)]
    assert transport.requests == []


async def test_article() -> None:
    fgo, transport = client(
        answer(
            {
                "Success": True,
                "Result": {
                    "Nume": "Carte",
                    "PretUnitar": "19.99",
                    "um": "buc",
                    "CodConta": "371",
                    "CotaTva": 0.19,
                    "Stoc": -2,
                },
            }
        )
    )
    async with fgo:
        article = await fgo.article("A1")
    assert check_signed_post(only(transport), "articol/get") == {"CodArticol": "A1"}
    assert article == Article(
        name="Carte",
        unit_price=Decimal("19.99"),
        unit="buc",
        account_code="371",
        vat_rate=Decimal(19),
        stock=Decimal(-2),
    )


async def test_articles_by_code() -> None:
    fgo, transport = client(answer({"Success": True, "Result": [{"Nume": "A"}, {"Nume": "B"}]}))
    async with fgo:
        found = await fgo.articles_by_code(code for code in ("A1", "B2"))
    assert check_signed_post(only(transport), "articol/getlist") == {"Coduri": ["A1", "B2"]}
    assert [a.name for a in found] == ["A", "B"]


async def test_changed_articles() -> None:
    fgo, transport = client(
        answer(
            {
                "Success": True,
                "Result": [
                    {"Nume": "Carte", "Stoc": "3", "UltimaUtilizare": "2025-08-01 10:11:12"}
                ],
            }
        )
    )
    async with fgo:
        changed = await fgo.changed_articles(hours=48, until_hours=24)
    assert check_signed_post(only(transport), "articol/articolemodificate") == {
        "NumarOre": 48,
        "NumarOrePanaLa": 24,
    }
    assert changed[0].last_used == datetime.datetime(2025, 8, 1, 10, 11, 12)
    assert not changed.may_be_truncated


async def test_changed_articles_default_window() -> None:
    fgo, transport = client(answer({"Success": True, "Result": []}))
    async with fgo:
        changed = await fgo.changed_articles()
    assert check_signed_post(only(transport), "articol/articolemodificate") == {"NumarOre": 24}
    assert len(changed) == 0


async def test_warehouses() -> None:
    fgo, transport = client(
        answer({"Success": True, "Result": {"List": [{"CodGestiune": "G1", "Nume": "Depozit"}]}})
    )
    async with fgo:
        found = await fgo.warehouses()
    assert check_signed_post(only(transport), "articol/gestiune") == {}
    assert isinstance(found, Warehouses)
    assert [(w.code, w.name) for w in found] == [("G1", "Depozit")]


CUSTOMERS = [{"Nume": f"Client {i}", "CodUnic": "RO18547290", "IdExtern": i + 1} for i in range(3)]


async def test_customers() -> None:
    fgo, transport = client(paged_vendor(CUSTOMERS, size_key="NrClienti"))
    async with fgo:
        pager = fgo.customers(page_size=2)
        assert transport.requests == []
        pages = [page async for page in pager]
    assert all(isinstance(page, CustomerPage) for page in pages)
    assert pages[0].page_size == 2
    assert [c.name for page in pages for c in page] == ["Client 0", "Client 1", "Client 2"]
    assert check_signed_post(transport.requests[1], "client/list") == {
        "NrPagina": 2,
        "NrArticole": 2,
    }


async def test_customer_items() -> None:
    fgo, _ = client(paged_vendor(CUSTOMERS, size_key="NrClienti"))
    async with fgo:
        records = [c async for c in fgo.customers(page_size=5).items()]
    assert records[2] == CustomerRecord(name="Client 2", tax_id="RO18547290", external_id=3)


# -- nomenclators ----------------------------------------------------------------------------------

COUNTIES = {
    "Success": True,
    "List": [{"Nume": "Brasov", "Cod": "BV"}, {"Nume": "Cluj", "Cod": "CJ"}],
}


async def test_nomenclature_is_an_unsigned_get() -> None:
    fgo, transport = client(answer(COUNTIES))
    async with fgo:
        counties = await fgo.nomenclature("judet")
    request = only(transport)
    assert request.method == "GET"
    assert request.url == f"{BASE_URL}/nomenclator/judet"
    assert request.body == b""
    assert isinstance(counties, Nomenclature)
    assert counties.value_of("cluj") == "CJ"


async def test_nomenclature_is_cached() -> None:
    fgo, transport = client(answer(COUNTIES))
    async with fgo:
        first = await fgo.nomenclature("judet")
        second = await fgo.nomenclature("judet")
        await fgo.nomenclature("tara")
    assert second is first
    assert [r.url.rsplit("/", 1)[1] for r in transport.requests] == ["judet", "tara"]


async def test_nomenclature_cache_expires_after_its_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    now = [1000.0]
    monkeypatch.setattr(loop, "time", lambda: now[0])
    fgo, transport = client(answer(COUNTIES), nomenclature_ttl=60)
    async with fgo:
        await fgo.nomenclature("judet")
        now[0] += 59.9
        await fgo.nomenclature("judet")
        assert len(transport.requests) == 1
        now[0] += 0.2
        await fgo.nomenclature("judet")
        assert len(transport.requests) == 2


async def test_concurrent_identical_calls_share_one_request() -> None:
    release = asyncio.Event()

    async def slow(request: Request) -> RawResponse:
        await release.wait()
        return reply(COUNTIES)

    fgo, transport = client(slow)
    async with fgo:
        calls = [asyncio.ensure_future(fgo.nomenclature("judet")) for _ in range(3)]
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        release.set()
        results = await asyncio.gather(*calls)
    assert len(transport.requests) == 1
    assert results[0] is results[1] is results[2]


async def test_a_cancelled_caller_does_not_cancel_the_others() -> None:
    release = asyncio.Event()

    async def slow(request: Request) -> RawResponse:
        await release.wait()
        return reply(COUNTIES)

    fgo, transport = client(slow)
    async with fgo:
        first = asyncio.ensure_future(fgo.nomenclature("judet"))
        await asyncio.sleep(0)
        second = asyncio.ensure_future(fgo.nomenclature("judet"))
        await asyncio.sleep(0)
        first.cancel()
        await asyncio.sleep(0)
        release.set()
        result = await second
    assert first.cancelled()
    assert result.value_of("Brasov") == "BV"
    assert len(transport.requests) == 1


async def test_a_fetch_whose_callers_all_left_still_fills_the_cache() -> None:
    release = asyncio.Event()

    async def slow(request: Request) -> RawResponse:
        await release.wait()
        return reply(COUNTIES)

    fgo, transport = client(slow)
    async with fgo:
        only_caller = asyncio.ensure_future(fgo.nomenclature("judet"))
        await asyncio.sleep(0)
        only_caller.cancel()
        release.set()
        for _ in range(5):
            await asyncio.sleep(0)
        counties = await fgo.nomenclature("judet")
    assert only_caller.cancelled()
    assert counties.value_of("Cluj") == "CJ"
    assert len(transport.requests) == 1


async def test_a_failed_nomenclature_is_not_cached() -> None:
    replies = iter([reply({"Success": False, "Message": "Eroare"}), reply(COUNTIES)])
    fgo, transport = client(lambda request: next(replies), retry_policy=ONE_ATTEMPT)
    async with fgo:
        with pytest.raises(Exception, match="Eroare"):
            await fgo.nomenclature("judet")
        counties = await fgo.nomenclature("judet")
    assert len(counties) == 2
    assert len(transport.requests) == 2


async def test_concurrent_callers_all_get_the_error() -> None:
    release = asyncio.Event()

    async def failing(request: Request) -> RawResponse:
        await release.wait()
        return reply({"Success": False, "Message": "Eroare"})

    fgo, transport = client(failing, retry_policy=ONE_ATTEMPT)
    async with fgo:
        calls = [asyncio.ensure_future(fgo.nomenclature("judet")) for _ in range(2)]
        await asyncio.sleep(0)
        release.set()
        results = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(r, Exception) and "Eroare" in str(r) for r in results)
    assert len(transport.requests) == 1


async def test_localities_need_a_county() -> None:
    fgo, transport = client(answer(COUNTIES))
    async with fgo:
        with pytest.raises(FgoValidationError) as caught:
            await fgo.nomenclature("localitati")
        assert caught.value.problems[0].wire_name == "judet"
        await fgo.nomenclature("localitati", county="Brașov")
        await fgo.nomenclature("localitati", county="Cluj")
        await fgo.nomenclature("localitati", county="Brașov")
    assert [r.url for r in transport.requests] == [
        f"{BASE_URL}/nomenclator/localitati?judet=Bra%C8%99ov",
        f"{BASE_URL}/nomenclator/localitati?judet=Cluj",
    ]


async def test_a_county_is_ignored_for_other_nomenclators() -> None:
    fgo, transport = client(answer(COUNTIES))
    async with fgo:
        await fgo.nomenclature("tva", county="Cluj")
        await fgo.nomenclature("tva")
    assert [r.url for r in transport.requests] == [f"{BASE_URL}/nomenclator/tva"]


async def test_an_unknown_nomenclature_is_a_validation_error() -> None:
    fgo, transport = client(answer(COUNTIES))
    async with fgo:
        with pytest.raises(FgoValidationError, match="orase"):
            await fgo.nomenclature("orase")
    assert transport.requests == []


# -- validation before sending ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("issue_invoice", (invoice(series="", lines=[line(quantity=0)]),)),
        ("print_invoice", (InvoiceRef(series="BV", number=""),)),
        ("delete_invoice", (InvoiceRef(series="", number="1"),)),
        ("cancel_invoice", (InvoiceRef(series="", number="1"),)),
        ("invoice_status", (InvoiceRef(series="", number="1"),)),
        (
            "add_payment",
            (
                Payment(
                    invoice=REF,
                    payment_type="Card",
                    amount=0,
                    paid_at=datetime.datetime(2025, 8, 1),
                ),
            ),
        ),
        ("delete_payment", (REF, ReceiptRef(series="CH", number=""))),
        ("reverse_invoice", (InvoiceRef(series="BV", number=""),)),
        ("set_awb", (REF, "")),
        ("associated_invoices", (InvoiceRef(series="", number=""),)),
        ("article", ("",)),
        ("articles_by_code", ([],)),
        ("changed_articles", (200,)),
    ],
)
async def test_invalid_input_is_refused_before_anything_is_sent(
    method: str, args: tuple[Any, ...]
) -> None:
    fgo, transport = client(answer({"Success": True}))
    async with fgo:
        with pytest.raises(FgoValidationError):
            await getattr(fgo, method)(*args)
    assert transport.requests == []


async def test_all_problems_of_an_invoice_come_together() -> None:
    fgo, transport = client(answer({"Success": True}))
    bad = invoice(
        series="",
        customer=customer(county=None),
        lines=[line(), line(), line(unit_price=None)],
    )
    async with fgo:
        with pytest.raises(FgoValidationError) as caught:
            await fgo.issue_invoice(bad)
    assert caught.value.fields == ("series", "customer.county", "lines[2].unit_price")
    assert caught.value.problems[2].wire_name == "Continut[2][PretUnitar]"
    assert transport.requests == []


async def test_a_warning_is_raised_at_the_callers_line_and_the_call_goes_out() -> None:
    fgo, transport = client(answer({"Success": True, "Factura": {"Numar": "1", "Serie": "BV"}}))
    async with fgo:
        with pytest.warns(FgoValidationWarning, match="CNP") as record:
            await fgo.issue_invoice(invoice(customer=customer(tax_id="1980101420015")))
    assert len(transport.requests) == 1
    assert record[0].filename == __file__


# -- failures --------------------------------------------------------------------------------------


async def test_a_lost_issue_reply_is_an_unknown_outcome() -> None:
    def lost(request: Request) -> RawResponse:
        raise FgoConnectionLostError("reset", identity=request.identity)

    fgo, transport = client(lost)
    async with fgo:
        with pytest.raises(FgoOutcomeUnknownError) as caught:
            await fgo.issue_invoice(invoice(external_id="1042"))
    error = caught.value
    assert error.identity is not None
    assert (error.identity.series, error.identity.external_id) == ("BV", "1042")
    assert error.identity.customer_name == "Ionescu Popescu"
    assert isinstance(error.cause, FgoConnectionLostError)
    assert len(transport.requests) == 1  # not repeated: the vendor could not deduplicate it


async def test_a_lost_issue_reply_is_repeated_when_the_vendor_deduplicates() -> None:
    replies: list[Any] = [
        FgoConnectionLostError("reset"),
        reply({"Success": True, "Factura": {"Numar": "001", "Serie": "BV"}}),
    ]

    def flaky(request: Request) -> RawResponse:
        item = replies.pop(0)
        if isinstance(item, Exception):
            raise item
        return item  # type: ignore[no-any-return]

    fgo, transport = client(flaky, retry_policy=RetryPolicy(max_attempts=2, backoff_base=0.0))
    async with fgo:
        issued = await fgo.issue_invoice(invoice(external_id="1042", check_duplicate=True))
    assert issued.ref == REF
    assert len(transport.requests) == 2
    assert transport.requests[0].body == transport.requests[1].body


async def test_a_lost_payment_reply_is_an_unknown_outcome() -> None:
    def lost(request: Request) -> RawResponse:
        raise FgoConnectionLostError("reset", identity=request.identity)

    fgo, transport = client(lost, retry_policy=RetryPolicy(max_attempts=3, backoff_base=0.0))
    payment = Payment(
        invoice=REF, payment_type="Card", amount=10, paid_at=datetime.datetime(2025, 8, 1)
    )
    async with fgo:
        with pytest.raises(FgoOutcomeUnknownError):
            await fgo.add_payment(payment)
    assert len(transport.requests) == 1


async def test_a_duplicate_is_reported_with_the_invoice_that_stands() -> None:
    fgo, _ = client(
        lambda request: reply(
            {"Success": False, "Message": "Factura a fost deja emisa: seria BV numarul 001"},
            status=409,
        )
    )
    async with fgo:
        with pytest.raises(FgoDuplicateError) as caught:
            await fgo.issue_invoice(invoice(external_id="1042", check_duplicate=True))
    assert caught.value.existing == REF
    assert caught.value.outcome_known


async def test_a_refused_connection_is_reported_as_such() -> None:
    def refused(request: Request) -> RawResponse:
        raise FgoConnectError("refused", identity=request.identity)

    fgo, _ = client(refused, retry_policy=ONE_ATTEMPT)
    async with fgo:
        with pytest.raises(FgoConnectError) as caught:
            await fgo.issue_invoice(invoice())
    assert caught.value.outcome_known


# -- configuration ---------------------------------------------------------------------------------


def make(**overrides: Any) -> FgoClient:
    settings: dict[str, Any] = {
        "cod_unic": COD_UNIC,
        "private_key": SECRET_KEY,
        "platform_url": PLATFORM_URL,
        "environment": Environment.TEST,
    }
    settings.update(overrides)
    return FgoClient(**settings)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"environment": None}, "environment='production' or 'test'"),
        ({"base_url": "https://api.fgo.ro/v1"}, "not both"),
        ({"environment": None, "base_url": "http://api.fgo.ro/v1"}, "plain http"),
        ({"environment": None, "base_url": "ftp://api.fgo.ro/v1"}, "not an http"),
        ({"platform_url": "www.example.ro"}, "platform_url"),
        ({"platform_url": ""}, "platform_url"),
        ({"cod_unic": " "}, "cod_unic"),
        ({"private_key": ""}, "private_key"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": -5}, "timeout"),
        ({"wire_format": "xml"}, "wire_format"),
        ({"environment": "prod"}, "Environment.PRODUCTION or Environment.TEST"),
        ({"environment": None, "base_url": "https://api.fgo.ro/"}, "ends in /v1"),
        ({"environment": None, "base_url": "http://127.0.0.1:8089"}, "ends in /v1"),
        (
            {"transport": MockTransport(answer({})), "session": object()},
            "session= or transport=",
        ),
    ],
)
def test_configuration_errors(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(FgoConfigurationError, match=message):
        make(**overrides)


@pytest.mark.parametrize(
    ("overrides", "base_url"),
    [
        ({}, "https://api-testuat.fgo.ro/v1"),
        ({"environment": Environment.PRODUCTION}, "https://api.fgo.ro/v1"),
        ({"environment": "https://api.fgo.ro/v1"}, "https://api.fgo.ro/v1"),
        (
            {"environment": None, "base_url": "http://127.0.0.1:8089/v1/"},
            "http://127.0.0.1:8089/v1",
        ),
        (
            {
                "environment": None,
                "base_url": "http://fgo-sim:8089/v1",
                "allow_insecure_http": True,
            },
            "http://fgo-sim:8089/v1",
        ),
    ],
)
async def test_where_calls_go(overrides: dict[str, Any], base_url: str) -> None:
    fgo = make(transport=MockTransport(answer({})), **overrides)
    async with fgo:
        assert fgo.base_url == base_url
        assert fgo.cod_unic == COD_UNIC


def test_environments() -> None:
    assert Environment.PRODUCTION.base_url == "https://api.fgo.ro/v1"
    assert Environment.TEST.base_url == "https://api-testuat.fgo.ro/v1"


async def test_repr_hides_the_key() -> None:
    fgo = make(transport=MockTransport(answer({})))
    async with fgo:
        assert SECRET_KEY not in repr(fgo)
        assert COD_UNIC in repr(fgo)


async def test_the_user_agent_names_the_library_version() -> None:
    import fgo_async

    fgo, transport = client(answer({"Success": True}))
    async with fgo:
        await fgo.set_awb(REF, "A")
    assert only(transport).headers["User-Agent"] == f"fgo_async/{fgo_async.__version__}"


# -- views, scheduler, closing ---------------------------------------------------------------------


class RecordingScheduler:
    """A scheduler that runs every call at once and keeps it, to see what the client hands over."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.closed = False

    async def submit(self, call: Call) -> Any:
        self.calls.append(call)
        return await call.attempt()

    async def aclose(self) -> None:
        self.closed = True


async def test_calls_go_through_the_given_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "time", lambda: 500.0)
    scheduler = RecordingScheduler()
    policy = RetryPolicy(max_attempts=2)
    fgo, _ = client(
        answer({"Success": True, "Factura": {"Numar": "1", "Serie": "BV"}, "List": []}),
        scheduler=scheduler,
        retry_policy=policy,
    )
    async with fgo:
        assert fgo.scheduler is scheduler
        await fgo.issue_invoice(invoice(external_id="9", check_duplicate=True))
        await fgo.with_options(interactive=True, queue_timeout=5).print_invoice(REF)
        await fgo.nomenclature("tva")
    issue, printed, nomenclature = scheduler.calls
    assert issue.endpoint.name == "factura/emitere"
    assert issue.company == COD_UNIC
    assert issue.can_deduplicate
    assert not issue.interactive
    assert issue.deadline is None
    assert issue.retry_policy is policy
    assert issue.identity.external_id == "9"
    assert printed.interactive
    assert printed.deadline == 505.0
    assert not printed.can_deduplicate
    assert nomenclature.company is None  # nomenclators belong to no company
    assert not scheduler.closed  # a scheduler given to the client is not closed by it


async def test_views_share_the_transport_and_the_cache() -> None:
    fgo, transport = client(answer(COUNTIES))
    async with fgo:
        view = fgo.with_options(interactive=True)
        assert view is not fgo
        await fgo.nomenclature("judet")
        await view.nomenclature("judet")
        await view.aclose()  # closing a view closes nothing
        await fgo.nomenclature("tara")
    assert len(transport.requests) == 2
    assert not transport.closed


async def test_a_view_of_a_closed_client_refuses_calls() -> None:
    fgo, transport = client(answer({"Success": True}))
    view = fgo.with_options(queue_timeout=1)
    await fgo.aclose()
    with pytest.raises(FgoClosedError):
        await view.set_awb(REF, "A")
    with pytest.raises(FgoClosedError):
        await view.nomenclature("tva")
    assert transport.requests == []


async def test_a_closed_client_refuses_calls() -> None:
    fgo, transport = client(answer(COUNTIES))
    async with fgo:
        pass
    with pytest.raises(FgoClosedError):
        await fgo.issue_invoice(invoice())
    with pytest.raises(FgoClosedError):
        await fgo.nomenclature("judet")
    with pytest.raises(FgoClosedError):
        [page async for page in fgo.customers()]
    assert transport.requests == []


async def test_a_given_transport_is_not_closed() -> None:
    fgo, transport = client(answer({}))
    await fgo.aclose()
    await fgo.aclose()  # twice is fine
    assert not transport.closed


@pytest.fixture
def transport_closes(monkeypatch: pytest.MonkeyPatch) -> list[AiohttpTransport]:
    """The AiohttpTransports closed during the test."""
    closed: list[AiohttpTransport] = []
    original = AiohttpTransport.aclose

    async def recording(self: AiohttpTransport) -> None:
        closed.append(self)
        await original(self)

    monkeypatch.setattr(AiohttpTransport, "aclose", recording)
    return closed


async def test_an_owned_transport_is_closed(transport_closes: list[AiohttpTransport]) -> None:
    async with make():
        pass
    assert len(transport_closes) == 1


async def test_the_apps_session_stays_open(transport_closes: list[AiohttpTransport]) -> None:
    async with aiohttp.ClientSession() as session:
        async with make(session=session):
            pass
        assert len(transport_closes) == 1  # the client's own transport over the session
        assert not session.closed


async def test_end_to_end_over_aiohttp(mocked: aioresponses) -> None:
    mocked.post(
        f"{BASE_URL}/factura/emitere",
        status=200,
        body=json.dumps({"Success": True, "Factura": {"Numar": "001", "Serie": "BV"}}),
    )
    async with aiohttp.ClientSession() as session, make(session=session) as fgo:
        issued = await fgo.issue_invoice(invoice())
    assert issued.ref == REF
    (sent,) = next(iter(mocked.requests.values()))
    assert json.loads(sent.kwargs["data"])["Client"]["Denumire"] == "Ionescu Popescu"


def test_no_warnings_leak_from_a_valid_invoice() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        invoice()
