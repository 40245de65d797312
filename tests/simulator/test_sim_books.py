"""What the vendor refuses on documents, payments and articles, and the change log windows."""

from __future__ import annotations

import asyncio
import datetime
from decimal import Decimal
from typing import Any

import pytest

from fgo_async.endpoints import Bucket
from fgo_async.simulator import Assumptions, DocumentStatus, FgoSimulator, StoredArticle
from fgo_async.simulator.cli import build_parser, serve, simulator_from_args
from fgo_async.testing import TEST_COMPANY, VirtualClock
from tests.simulator.sim_helpers import invoice_payload

pytestmark = pytest.mark.usefixtures("virtual_clock")

REF = {"Numar": "001", "Serie": "BV"}
PAY = {
    "NumarFactura": "001",
    "SerieFactura": "BV",
    "TipIncasare": "Card",
    "SumaIncasata": "10",
    "DataIncasare": "2025-09-01 10:00:00",
}


@pytest.fixture
def fgo_simulator_options() -> dict[str, Any]:
    # These tests are about the books, not about spacing calls.
    return {"limits": dict.fromkeys(Bucket, 0.0), "identical_window": 0}


async def message(call: Any, method: str, payload: dict[str, Any]) -> str:
    return str((await call(method, payload))[2].get("Message"))


async def test_paid_documents_cannot_be_cancelled_or_deleted(call: Any) -> None:
    await call("factura/emitere", invoice_payload())
    await call("factura/incasare", PAY)
    assert "are incasari asociate" in await message(call, "factura/anulare", REF)
    assert "Stergeti mai intai incasarile" in await message(call, "factura/stergere", REF)
    assert "Incasarea cu seria CH si numarul 9 nu exista pe documentul BV 001" in await message(
        call,
        "factura/stergereincasare",
        {"NumarFactura": "001", "SerieFactura": "BV", "SerieIncasare": "CH", "NumarIncasare": "9"},
    )
    assert "TipIncasare: valoarea Bitcoin" in await message(
        call, "factura/incasare", {**PAY, "TipIncasare": "Bitcoin"}
    )
    assert "nu are formatul" in await message(
        call, "factura/incasare", {**PAY, "DataIncasare": "ieri"}
    )


async def test_reversal_rules(call: Any, fgo_simulator: FgoSimulator) -> None:
    await call("factura/emitere", invoice_payload())
    _, _, data = await call("factura/stornare", {**REF, "SerieStorno": "ST", "NumarStorno": "9"})
    assert (data["Factura"]["Serie"], data["Factura"]["Numar"]) == ("ST", "9")
    assert "deja stornata" in await message(call, "factura/stornare", REF)
    assert "nu poate fi stornata" in await message(
        call, "factura/stornare", {"Numar": "9", "Serie": "ST"}
    )
    assert "a fost stornat" in await message(call, "factura/anulare", REF)
    # Deleting the reversal puts the original back.
    assert (await call("factura/stergere", {"Numar": "9", "Serie": "ST"}))[2]["Success"]
    original = fgo_simulator.document(TEST_COMPANY, "BV", "001")
    assert original is not None
    assert original.status is DocumentStatus.ISSUED
    await call("factura/anulare", REF)
    assert "anulata si nu poate fi stornata" in await message(call, "factura/stornare", REF)
    assert "pe un document anulat" in await message(call, "factura/incasare", PAY)


async def test_proformas_estimates_and_associations(call: Any) -> None:
    await call("factura/emitere", invoice_payload(Serie="PF", TipFactura="Proforma"))
    await call("factura/emitere", invoice_payload(Serie="DV", TipFactura="Deviz"))
    assert "Doar facturile" in await message(
        call, "factura/stornare", {"Numar": "001", "Serie": "PF"}
    )
    assert "pe un deviz" in await message(call, "factura/incasare", {**PAY, "SerieFactura": "DV"})
    pay = {**PAY, "SerieFactura": "PF", "TipFactura": "Proforma"}
    first = (await call("factura/incasare", pay))[2]
    second = (await call("factura/incasare", pay))[2]
    assert first["Factura"]["Serie"] == "FCT"
    assert "Factura" not in second  # later payments go to the same invoice
    listed = (await call("factura/listfacturiasociate", {"Numar": "001", "Serie": "PF"}))[2]
    assert [(f["Serie"], f["ValoareAchitata"]) for f in listed["Facturi"]] == [("FCT", "20.00")]
    assert "nu este o proforma" in await message(
        call, "factura/listfacturiasociate", {"Numar": "001", "Serie": "FCT"}
    )
    assert "nu a fost gasit" in await message(
        call, "factura/listfacturiasociate", {"Numar": "404", "Serie": "PF"}
    )


async def test_article_method_refusals(call: Any) -> None:
    await call("factura/emitere", invoice_payload())
    assert "Articolul cu codul X nu a fost gasit" in await message(
        call, "articol/get", {"CodArticol": "X"}
    )
    assert "cel mult 30" in await message(
        call, "articol/getlist", {"Coduri": [str(n) for n in range(31)]}
    )
    assert "Campul Coduri" in await message(call, "articol/getlist", {})
    assert "intre 1 si 170" in await message(call, "articol/articolemodificate", {"NumarOre": 171})
    assert "mai mic decat NumarOre" in await message(
        call, "articol/articolemodificate", {"NumarOre": 5, "NumarOrePanaLa": 5}
    )
    assert "Campul NrPagina" in await message(call, "articol/list", {})
    assert "mai mari decat 0" in await message(call, "client/list", {"NrPagina": 0})
    assert "lungimea maxima de 128" in await message(call, "factura/awb", {**REF, "AWB": "x" * 129})


async def test_changed_articles_windows(
    call: Any, fgo_simulator: FgoSimulator, virtual_clock: VirtualClock
) -> None:
    fgo_simulator.add_article(TEST_COMPANY, name="Vechi", code="OLD")
    await asyncio.sleep(10 * 3600)
    fgo_simulator.add_article(TEST_COMPANY, name="Nou", code="NEW")
    recent = (await call("articol/articolemodificate", {"NumarOre": 5}))[2]["Result"]
    assert [a["CodConta"] for a in recent] == ["NEW"]
    older = (await call("articol/articolemodificate", {"NumarOre": 11, "NumarOrePanaLa": 9}))[2]
    assert [a["CodConta"] for a in older["Result"]] == ["OLD"]
    stamp = datetime.datetime.strptime(recent[0]["UltimaUtilizare"], "%Y-%m-%d %H:%M:%S")
    assert stamp.year >= 2024


async def test_at_most_200_most_recent_changes(call: Any, fgo_simulator: FgoSimulator) -> None:
    for number in range(205):
        fgo_simulator.add_article(TEST_COMPANY, name=f"A{number}", code=f"A{number}")
        await asyncio.sleep(1)
    result = (await call("articol/articolemodificate", {}))[2]["Result"]
    assert len(result) == 200
    assert (result[0]["CodConta"], result[-1]["CodConta"]) == ("A5", "A204")


async def test_customers_are_found_again(call: Any, fgo_simulator: FgoSimulator) -> None:
    person = {"Denumire": "Ana Pop", "Tip": "PF", "Tara": "RO", "Judet": "Cluj"}
    await call("factura/emitere", invoice_payload(Client={**person, "Email": "a@x.ro"}))
    await call("factura/emitere", invoice_payload(Client={**person, "Telefon": "0722"}))
    await call("factura/emitere", invoice_payload(Client={**person, "Judet": "Iasi"}))
    await call("factura/emitere", invoice_payload(Client={**person, "IdExtern": 7}))
    await call(
        "factura/emitere", invoice_payload(Client={**person, "Denumire": "A.", "IdExtern": 7})
    )
    # An invalid CNP is ignored: neither searched for nor saved.
    await call("factura/emitere", invoice_payload(Client={**person, "Judet": "IS", "CodUnic": "1"}))
    customers = fgo_simulator.company(TEST_COMPANY).customers
    assert [(c.name, c.county, c.email, c.phone, c.external_id, c.tax_id) for c in customers] == [
        ("A.", "Cluj", "a@x.ro", "0722", 7, None),
        ("Ana Pop", "IS", None, None, None, None),
    ]


async def test_serve_prints_its_url_and_stops_when_cancelled(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = build_parser().parse_args(["--company", "1:k", "--port", "0"])
    ready = asyncio.Event()
    task = asyncio.ensure_future(serve(simulator_from_args(args), ready=ready))
    await ready.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "FGO simulator serving http://127.0.0.1:" in capsys.readouterr().out


async def test_order_ids_are_found_again_after_a_delete(
    call: Any, fgo_simulator: FgoSimulator
) -> None:
    fgo_simulator.assumptions = Assumptions.none()
    await call("factura/emitere", invoice_payload(IdExtern="A"))
    await call("factura/emitere", invoice_payload(IdExtern="A"))  # no duplicate check: issued
    await call("factura/stergere", REF)
    again = await call("factura/emitere", invoice_payload(IdExtern="A", VerificareDuplicat=True))
    assert "seria BV numarul 002" in again[2]["Message"]  # the one left is the duplicate
    await call("factura/stergere", {"Numar": "002", "Serie": "BV"})
    issued = await call("factura/emitere", invoice_payload(IdExtern="A", VerificareDuplicat=True))
    assert issued[2]["Success"] is True


async def test_articles_appended_to_the_list_are_found(
    call: Any, fgo_simulator: FgoSimulator
) -> None:
    fgo_simulator.add_article(TEST_COMPANY, name="Pix", code="PIX")
    assert (await call("articol/get", {"CodArticol": "PIX"}))[2]["Success"] is True
    articles = fgo_simulator.company(TEST_COMPANY).articles
    articles.append(StoredArticle(name="Caiet", code="CAIET", unit="buc",
                                  unit_price=Decimal(3), vat_rate=Decimal(21)))  # fmt: skip
    assert (await call("articol/get", {"CodArticol": "CAIET"}))[2]["Result"]["Nume"] == "Caiet"
    articles.clear()
    assert (await call("articol/get", {"CodArticol": "PIX"}))[2]["Success"] is False


async def test_a_renamed_customer_is_found_by_its_new_name(
    call: Any, fgo_simulator: FgoSimulator
) -> None:
    person = {"Denumire": "Ana Pop", "Tip": "PF", "Tara": "RO", "Judet": "Cluj", "IdExtern": 7}
    await call("factura/emitere", invoice_payload(Client=person))
    renamed = {**person, "Denumire": "Ana Pop-Ionescu"}
    await call("factura/emitere", invoice_payload(Client=renamed))  # found by IdExtern
    await call("factura/emitere", invoice_payload(Client={**renamed, "IdExtern": None}))
    customers = fgo_simulator.company(TEST_COMPANY).customers
    assert [(c.name, c.external_id) for c in customers] == [("Ana Pop-Ionescu", 7)]
