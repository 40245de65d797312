"""The vendor's rules, checked with raw signed calls to FgoSimulator.handle (no client)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fgo_async.protocol import DEFAULT_PATTERNS
from fgo_async.simulator import DocumentStatus, FgoSimulator, Plan
from fgo_async.testing import TEST_COMPANY
from tests.simulator.sim_helpers import invoice_payload

pytestmark = pytest.mark.usefixtures("virtual_clock")


async def next_slot() -> None:
    """Wait (virtually) past the invoice bucket's 1 s and the 409 window."""
    await asyncio.sleep(11)


async def test_a_signed_invoice_is_numbered_from_001(
    call: Any, fgo_simulator: FgoSimulator
) -> None:
    status, _, data = await call("factura/emitere", invoice_payload())
    assert status == 200
    assert data["Success"] is True
    assert data["Factura"]["Serie"] == "BV"
    assert data["Factura"]["Numar"] == "001"
    await next_slot()
    _, _, data = await call("factura/emitere", invoice_payload(IdExtern="2"))
    assert data["Factura"]["Numar"] == "002"
    document = fgo_simulator.document(TEST_COMPANY, "BV", "001")
    assert document is not None
    assert str(document.total) == "48.38"  # 2 x 19.99 = 39.98, + 21 % VAT 8.40


async def test_the_hash_of_an_other_method_is_the_invoice_number(call: Any) -> None:
    await call("factura/emitere", invoice_payload())
    await next_slot()
    # Signed over the customer's name instead of the number: refused.
    signed = {"CodUnic": TEST_COMPANY, "Hash": "X", "Numar": "001", "Serie": "BV"}
    _, _, data = await call("factura/print", signed=signed)
    assert data["Success"] is False
    await next_slot()
    _, _, data = await call("factura/print", {"Numar": "001", "Serie": "BV"})
    assert data["Success"] is True
    assert data["Factura"]["Link"].endswith(".pdf")


@pytest.mark.parametrize(
    ("client_change", "expected"),
    [
        ({"Judet": None}, "Campul Client[Judet] este obligatoriu"),
        ({"Judet": "Atlantida"}, "Client[Judet]: valoarea Atlantida nu exista in nomenclator"),
        ({"Tara": None}, "Campul Client[Tara] este obligatoriu"),
        ({"Tip": None}, "Campul Client[Tip] este obligatoriu"),
        ({"Denumire": None}, "Campul Client[Denumire] este obligatoriu"),
        ({"CodUnic": "RO18547291"}, "codul unic RO18547291 nu este valid"),
        ({"Denumire": "x" * 256}, "Client[Denumire] depaseste lungimea maxima de 255"),
    ],
)
async def test_customer_rules(call: Any, client_change: dict[str, Any], expected: str) -> None:
    payload = invoice_payload()
    client = {k: v for k, v in {**payload["Client"], **client_change}.items() if v is not None}
    payload["Client"] = client
    if "Denumire" not in client:
        payload["Client"]["Denumire"] = ""
    _, _, data = await call("factura/emitere", payload)
    assert data["Success"] is False
    assert expected in data["Message"]


async def test_the_cui_check_can_be_turned_off(call: Any) -> None:
    payload = invoice_payload(ValideazaCodUnicRo=False)
    payload["Client"]["CodUnic"] = "RO18547291"
    _, _, data = await call("factura/emitere", payload)
    assert data["Success"] is True


async def test_county_accepted_by_code_and_with_diacritics(call: Any) -> None:
    payload = invoice_payload()
    payload["Client"]["Judet"] = "bv"
    assert (await call("factura/emitere", payload))[2]["Success"] is True
    await next_slot()
    payload = invoice_payload(IdExtern="2")
    payload["Client"]["Judet"] = "Brașov"
    assert (await call("factura/emitere", payload))[2]["Success"] is True


@pytest.mark.parametrize(
    ("line_change", "expected"),
    [
        ({"CotaTVA": 19}, "Continut[0][CotaTVA]: valoarea 19 nu exista in nomenclator"),
        ({"CotaTVA": "21.0"}, "valoarea 21,0 nu exista in nomenclator"),
        ({"NrProduse": 0}, "cantitatea trebuie sa fie diferita de 0"),
        ({"PretTotal": "10"}, "se transmite fie PretUnitar"),
        ({"PretUnitar": None}, "lipseste pretul"),
        ({"PretUnitar": "-5"}, "pretul unitar trebuie sa fie pozitiv"),
        ({"UM": None}, "Campul Continut[0][UM] este obligatoriu"),
        ({"CodGestiune": "NOPE"}, "Gestiunea cu codul NOPE nu exista"),
    ],
)
async def test_line_rules(call: Any, line_change: dict[str, Any], expected: str) -> None:
    payload = invoice_payload()
    line = {k: v for k, v in {**payload["Continut"][0], **line_change}.items() if v is not None}
    payload["Continut"] = [line]
    _, _, data = await call("factura/emitere", payload)
    assert data["Success"] is False
    assert expected in data["Message"]


async def test_a_foreign_customer_may_have_a_foreign_vat_rate(call: Any) -> None:
    payload = invoice_payload()
    payload["Client"] = {"Denumire": "Muller GmbH", "Tip": "PJ", "Tara": "Germania"}
    payload["Continut"][0]["CotaTVA"] = 19
    _, _, data = await call("factura/emitere", payload)
    assert data["Success"] is True


async def test_an_empty_invoice_is_refused(call: Any) -> None:
    _, _, data = await call("factura/emitere", invoice_payload(Continut=[]))
    assert "Campul Continut este obligatoriu" in data["Message"]


async def test_series_is_required(call: Any) -> None:
    payload = invoice_payload()
    del payload["Serie"]
    _, _, data = await call("factura/emitere", payload)
    assert data["Message"] == "Campul Serie este obligatoriu."


async def test_reverse_direction_keeps_the_total(call: Any, fgo_simulator: FgoSimulator) -> None:
    payload = invoice_payload()
    payload["Continut"] = [
        {"Denumire": "Abonament", "UM": "luna", "NrProduse": 3, "PretTotal": "121", "CotaTVA": 21}
    ]
    await call("factura/emitere", payload)
    document = fgo_simulator.document(TEST_COMPANY, "BV", "001")
    assert document is not None
    line = document.lines[0]
    assert (line.total, line.net, line.vat) == (121, 100, 21)
    assert str(line.unit_price) == "33.3333"


async def test_repeated_external_id_with_duplicate_check_is_refused(call: Any) -> None:
    payload = invoice_payload(IdExtern="1042", VerificareDuplicat=True)
    assert (await call("factura/emitere", payload))[2]["Success"] is True
    await next_slot()
    status, _, data = await call("factura/emitere", payload)
    assert status == 200
    assert data["Success"] is False
    assert data["Message"] == "Factura seria BV numarul 001 exista deja salvata."
    found = DEFAULT_PATTERNS.existing.search(data["Message"])
    assert found is not None
    assert (found["series"], found["number"]) == ("BV", "001")


async def test_without_duplicate_check_a_repeat_is_issued_again(call: Any) -> None:
    payload = invoice_payload(IdExtern="1042")
    await call("factura/emitere", payload)
    await next_slot()
    _, _, data = await call("factura/emitere", payload)
    assert data["Factura"]["Numar"] == "002"


async def test_series_and_number_with_duplicate_check(call: Any) -> None:
    payload = invoice_payload(Numar="100", VerificareDuplicat=True)
    assert (await call("factura/emitere", payload))[2]["Factura"]["Numar"] == "100"
    await next_slot()
    _, _, data = await call("factura/emitere", payload)
    assert data["Message"] == "Factura seria BV numarul 100 exista deja salvata."
    assert (data["Factura"]["Serie"], data["Factura"]["Numar"]) == ("BV", "100")
    await next_slot()
    # Without the check, the number in use is a plain refusal, not a duplicate.
    _, _, data = await call("factura/emitere", invoice_payload(Numar="100"))
    assert data["Message"] == "Numarul 100 din seria BV este deja folosit."


async def test_automatic_numbering_skips_explicit_numbers(call: Any) -> None:
    await call("factura/emitere", invoice_payload(Numar="001"))
    await next_slot()
    _, _, data = await call("factura/emitere", invoice_payload(IdExtern="x"))
    assert data["Factura"]["Numar"] == "002"


async def test_an_identical_invoice_at_once_gets_409(call: Any) -> None:
    assert (await call("factura/emitere", invoice_payload()))[0] == 200
    await asyncio.sleep(1)
    status, _, data = await call("factura/emitere", invoice_payload())
    assert status == 409
    assert data["Success"] is False
    assert "seria BV numarul 001" in data["Message"]
    # A different customer is not identical.
    await asyncio.sleep(1)
    other = invoice_payload()
    other["Client"] = {**other["Client"], "Denumire": "Altcineva SRL"}
    assert (await call("factura/emitere", other))[0] == 200
    # After the window the same invoice is issued again.
    await asyncio.sleep(10)
    status, _, data = await call("factura/emitere", invoice_payload())
    assert (status, data["Factura"]["Numar"]) == (200, "003")


async def test_the_409_window_can_be_disabled(call: Any, fgo_simulator: FgoSimulator) -> None:
    fgo_simulator.identical_window = 0
    await call("factura/emitere", invoice_payload())
    await asyncio.sleep(1)
    assert (await call("factura/emitere", invoice_payload()))[0] == 200


async def test_form_bodies_are_accepted(call: Any, fgo_simulator: FgoSimulator) -> None:
    payload = invoice_payload(VerificareDuplicat=True, IdExtern="7")
    status, _, data = await call("factura/emitere", payload, form=True)
    assert (status, data["Success"]) == (200, True)
    body = fgo_simulator.calls[-1].body
    assert body["Client"]["Denumire"] == "Ionescu Popescu SRL"
    assert body["Continut"][0]["PretUnitar"] == "19.99"
    await next_slot()
    _, _, data = await call("factura/emitere", payload, form=True)
    assert "exista deja salvata" in data["Message"]  # "true" in a form is a boolean


async def test_form_lists_of_codes(call: Any, fgo_simulator: FgoSimulator) -> None:
    fgo_simulator.add_article(TEST_COMPANY, name="Carte", code="C1", stock=5)
    fgo_simulator.add_article(TEST_COMPANY, name="Pix", code="C2", stock=1)
    _, _, data = await call("articol/getlist", {"Coduri": ["C1", "C2", "NONE"]}, form=True)
    assert [a["CodConta"] for a in data["Result"]] == ["C1", "C2"]


async def test_plan_limits_methods(call: Any, fgo_simulator: FgoSimulator) -> None:
    fgo_simulator.company(TEST_COMPANY).plan = Plan.PRO
    _, _, data = await call("factura/getstatus", {"Numar": "001", "Serie": "BV"})
    assert data["Success"] is False
    assert "abonamentul Premium" in data["Message"]


async def test_only_the_last_invoice_of_a_series_can_be_deleted(
    call: Any, fgo_simulator: FgoSimulator
) -> None:
    await call("factura/emitere", invoice_payload())
    await next_slot()
    await call("factura/emitere", invoice_payload(IdExtern="2"))
    await next_slot()
    _, _, data = await call("factura/stergere", {"Numar": "001", "Serie": "BV"})
    assert "Se poate sterge doar ultimul document" in data["Message"]
    await next_slot()
    _, _, data = await call("factura/stergere", {"Numar": "002", "Serie": "BV"})
    assert data == {"Success": True, "Message": "Factura a fost stearsa."}
    assert fgo_simulator.company(TEST_COMPANY).deleted[0].status is DocumentStatus.DELETED
    await next_slot()
    # The number is given again.
    _, _, data = await call("factura/emitere", invoice_payload(IdExtern="3"))
    assert data["Factura"]["Numar"] == "002"


async def test_cancelling_twice_is_refused(call: Any) -> None:
    await call("factura/emitere", invoice_payload())
    await next_slot()
    _, _, data = await call("factura/anulare", {"Numar": "001", "Serie": "BV"})
    assert data["Message"] == "Factura a fost anulata."
    await next_slot()
    _, _, data = await call("factura/anulare", {"Numar": "001", "Serie": "BV"})
    assert data["Message"] == "Documentul este deja anulat."


async def test_an_overpayment_is_refused(call: Any) -> None:
    await call("factura/emitere", invoice_payload())
    await next_slot()
    payment = {
        "NumarFactura": "001",
        "SerieFactura": "BV",
        "TipIncasare": "Card",
        "SumaIncasata": "50",
        "DataIncasare": "2025-09-01 10:00:00",
    }
    _, _, data = await call("factura/incasare", payment)
    assert "depaseste restul de plata (48.38)" in data["Message"]


async def test_an_unknown_document_is_refused(call: Any) -> None:
    _, _, data = await call("factura/getstatus", {"Numar": "404", "Serie": "BV"})
    assert data["Message"] == "Documentul cu seria BV si numarul 404 nu a fost gasit."
    assert not DEFAULT_PATTERNS.duplicate.search(data["Message"])


async def test_unknown_paths_verbs_and_bodies(fgo_simulator: FgoSimulator) -> None:
    reply = await fgo_simulator.handle("POST", "/v1/factura/nimic", body=b"{}")
    assert reply.status == 404
    reply = await fgo_simulator.handle("GET", "/v1/factura/emitere")
    assert reply.status == 405
    reply = await fgo_simulator.handle("GET", "/v1/nomenclator/judet", body=b"x=1")
    assert reply.status == 403
    assert reply.body.startswith(b"<html>")
    reply = await fgo_simulator.handle(
        "POST", "/v1/factura/emitere", headers={"Content-Type": "application/json"}, body=b"{x"
    )
    assert reply.status == 400


async def test_localities_need_a_known_county(fgo_simulator: FgoSimulator) -> None:
    reply = await fgo_simulator.handle("GET", "/v1/nomenclator/localitati", {"judet": "Atlantida"})
    assert b"nu exista in nomenclator" in reply.body
