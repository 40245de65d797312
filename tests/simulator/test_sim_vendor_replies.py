"""Replies as the live vendor words and shapes them: credentials, duplicates, documents not
found, VAT on collection, VAT rates by date, nomenclators, the unclassified server error."""

from __future__ import annotations

import asyncio
import datetime
import re
from typing import Any

import pytest

from fgo_async.codec import encode_form, loads_json
from fgo_async.endpoints import Bucket
from fgo_async.simulator import FgoSimulator, Outcome, parse_fault_rule
from fgo_async.simulator.messages import SERVER_ERROR
from fgo_async.testing import TEST_COMPANY, TEST_PRIVATE_KEY
from tests.simulator.sim_helpers import invoice_payload, send

pytestmark = pytest.mark.usefixtures("virtual_clock")

NOT_FOUND = re.compile("nu a fost gasit")
PRODUCTION_REFUSAL = (
    "Combinatia utilizator/companie nu este autorizata pentru utilizare API. Verificati "
    "starea acestuia in Setari -> Utilizatori [{}]."
)
TEST_REFUSAL = "Codul unic nu exista sau nu este asociat."


def simulator(**options: Any) -> FgoSimulator:
    """An in-process simulator with the test company and no limits in the way."""
    options.setdefault("limits", dict.fromkeys(Bucket, 0.0))
    options.setdefault("identical_window", 0)
    return FgoSimulator({TEST_COMPANY: TEST_PRIVATE_KEY}, **options)


def wrong_hash(payload: dict[str, Any]) -> dict[str, Any]:
    return {"CodUnic": TEST_COMPANY, "Hash": "0" * 40, **payload}


# -- credentials ------------------------------------------------------------------------------


async def test_bad_credentials_read_as_in_production_by_default() -> None:
    sim = simulator()
    _, _, unknown = await send(sim, "articol/gestiune", {}, company="99999999", key="k")
    status, _, bad_hash = await send(sim, "factura/emitere", signed=wrong_hash(invoice_payload()))
    assert unknown == {"Success": False, "Message": PRODUCTION_REFUSAL.format("99999999")}
    # A wrong Hash reads the same way as an unknown company: nothing names the hash.
    assert (status, bad_hash) == (
        200,
        {"Success": False, "Message": PRODUCTION_REFUSAL.format(TEST_COMPANY)},
    )
    assert [c.outcome for c in sim.calls] == [Outcome.REFUSED, Outcome.REFUSED]


async def test_bad_credentials_read_as_on_the_test_environment() -> None:
    sim = simulator(environment="test")
    _, _, unknown = await send(sim, "client/list", {"NrPagina": 1}, company="1", key="k")
    _, _, bad_hash = await send(sim, "factura/print", signed=wrong_hash({"Numar": "1"}))
    assert unknown == bad_hash == {"Success": False, "Message": TEST_REFUSAL}


async def test_bad_credentials_as_a_dotnet_exception_with_http_500() -> None:
    sim = simulator(environment="test", auth_failure="exception")
    status, headers, data = await send(sim, "articol/gestiune", {}, company="1", key="k")
    assert status == 500
    assert headers["Content-Type"].startswith("application/json")
    assert data["Success"] is False
    first, *trace = data["Message"].split("\r\n")
    assert first == f"System.Exception: {TEST_REFUSAL}"
    assert trace
    assert all(line.startswith("   at ") for line in trace)
    assert any(line.startswith("   at Fgo.PublicApi.") for line in trace)
    assert sim.calls[0].outcome is Outcome.REFUSED


def test_credential_options_are_checked() -> None:
    with pytest.raises(ValueError, match="environment"):
        simulator(environment="staging")
    with pytest.raises(ValueError, match="auth_failure"):
        simulator(auth_failure="teapot")
    with pytest.raises(ValueError, match="duplicate_reply"):
        simulator(duplicate_reply="both")
    with pytest.raises(ValueError, match="nomenclator_code"):
        simulator(nomenclator_code="Id")


# -- the unclassified server error ------------------------------------------------------------


async def test_the_unclassified_server_error_comes_after_processing() -> None:
    sim = simulator()
    sim.faults.add(parse_fault_rule("500,method=factura/emitere"))
    status, headers, data = await send(sim, "factura/emitere", invoice_payload())
    assert (status, data) == (500, {"Success": False, "Message": SERVER_ERROR})
    assert headers["Content-Type"].startswith("application/json")
    # The dangerous case: the invoice exists, and the reply that said so was lost.
    assert sim.document(TEST_COMPANY, "BV", "001") is not None
    record = sim.calls[0]
    assert (record.status, record.outcome, record.fault) == (500, Outcome.SERVER_ERROR, "500")
    assert record.reply is not None
    assert record.reply["Factura"]["Numar"] == "001"
    # Used up: the next call is answered normally.
    assert (await send(sim, "factura/emitere", invoice_payload(IdExtern="2")))[0] == 200


async def test_the_exception_fault_is_a_dotnet_trace_before_processing() -> None:
    sim = simulator()
    sim.faults.add(parse_fault_rule("exception,method=factura/emitere"))
    status, headers, data = await send(sim, "factura/emitere", invoice_payload())
    assert (status, data["Success"]) == (500, False)
    assert headers["Content-Type"].startswith("application/json")
    assert data["Message"].startswith(f"System.Exception: {TEST_REFUSAL}\r\n   at Fgo.PublicApi.")
    # Nothing was done, and the call did not take the invoice slot.
    assert sim.company(TEST_COMPANY).documents == {}
    record = sim.calls[0]
    assert (record.outcome, record.fault, record.counted) == (
        Outcome.SERVER_ERROR,
        "exception",
        False,
    )
    assert (await send(sim, "factura/emitere", invoice_payload()))[0] == 200


# -- duplicates -------------------------------------------------------------------------------


async def test_a_duplicate_names_the_invoice_in_a_factura_object_by_default() -> None:
    sim = simulator()
    payload = invoice_payload(IdExtern="A-7", VerificareDuplicat=True)
    _, _, first = await send(sim, "factura/emitere", payload)
    status, _, again = await send(sim, "factura/emitere", payload)
    issued = first["Factura"]
    assert (status, again) == (
        200,
        {
            "Success": False,
            "Message": "Factura seria BV numarul 001 exista deja salvata.",
            "Factura": {"Serie": "BV", "Numar": "001", "Link": issued["Link"]},
        },
    )
    assert len(sim.company(TEST_COMPANY).documents) == 1


async def test_a_duplicate_can_be_named_in_the_message_only() -> None:
    sim = simulator(duplicate_reply="message")
    payload = invoice_payload(Numar="042", VerificareDuplicat=True)
    await send(sim, "factura/emitere", payload)
    _, _, again = await send(sim, "factura/emitere", payload)
    assert again == {
        "Success": False,
        "Message": "Factura seria BV numarul 042 exista deja salvata.",
    }


async def test_an_identical_invoice_at_once_is_a_409_naming_the_invoice() -> None:
    sim = simulator(identical_window=10)
    await send(sim, "factura/emitere", invoice_payload())
    status, _, data = await send(sim, "factura/emitere", invoice_payload())
    assert status == 409
    assert data["Success"] is False
    assert data["Message"].endswith("a fost deja emisa: seria BV numarul 001")


# -- not found --------------------------------------------------------------------------------

MISSING = {"Numar": "404", "Serie": "BV"}
MISSING_PAYMENT = {"NumarFactura": "404", "SerieFactura": "BV"}


@pytest.mark.parametrize(
    ("method", "payload"),
    [
        ("factura/print", MISSING),
        ("factura/stergere", MISSING),
        ("factura/anulare", MISSING),
        ("factura/getstatus", MISSING),
        ("factura/stornare", MISSING),
        ("factura/awb", {**MISSING, "AWB": "X1"}),
        ("factura/listfacturiasociate", MISSING),
        (
            "factura/incasare",
            {
                **MISSING_PAYMENT,
                "TipIncasare": "Card",
                "SumaIncasata": "1",
                "DataIncasare": "2025-09-01 10:00:00",
            },
        ),
        (
            "factura/stergereincasare",
            {**MISSING_PAYMENT, "SerieIncasare": "CH", "NumarIncasare": "1"},
        ),
    ],
)
async def test_a_missing_document_is_not_found(method: str, payload: dict[str, Any]) -> None:
    _, _, data = await send(simulator(), method, payload)
    assert data == {
        "Success": False,
        "Message": "Documentul cu seria BV si numarul 404 nu a fost gasit.",
    }


async def test_a_missing_article_is_not_found() -> None:
    _, _, data = await send(simulator(), "articol/get", {"CodArticol": "NOPE"})
    assert data["Success"] is False
    assert NOT_FOUND.search(data["Message"])
    assert "NOPE" in data["Message"]


async def test_nothing_else_reads_as_not_found() -> None:
    sim = simulator()
    payload = invoice_payload(IdExtern="1", VerificareDuplicat=True)
    await send(sim, "factura/emitere", payload)
    await send(sim, "factura/emitere", invoice_payload(Serie="PF", TipFactura="Proforma"))
    refused = [
        # A payment that is not on an invoice that exists.
        ("factura/stergereincasare", {"NumarFactura": "001", "SerieFactura": "BV",
                                      "SerieIncasare": "CH", "NumarIncasare": "9"}),
        ("factura/emitere", payload),  # a duplicate
        ("factura/listfacturiasociate", {"Numar": "001", "Serie": "BV"}),  # not a proforma
        ("factura/stornare", {"Numar": "001", "Serie": "PF"}),  # not an invoice
        ("factura/getstatus", {"Serie": "BV"}),  # no number
        ("articol/getlist", {}),
    ]  # fmt: skip
    messages = [(await send(sim, method, body))[2]["Message"] for method, body in refused]
    messages.append((await send(sim, "articol/gestiune", {}, key="wrong"))[2]["Message"])
    nomenclator = await sim.handle("GET", "/v1/nomenclator/localitati", {"judet": "Atlantida"})
    messages.append(loads_json(nomenclator.body)["Message"])
    assert all(message for message in messages)
    assert [m for m in messages if NOT_FOUND.search(m)] == []


# -- VAT on collection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "value", "names"),
    [
        ({"TvaLaIncasare": True}, True, ("TvaLaIncasare",)),
        ({"TvaIncasare": True}, True, ("TvaIncasare",)),
        ({"TvaLaIncasare": False, "TvaIncasare": True}, False, ("TvaLaIncasare", "TvaIncasare")),
        ({}, None, ()),
    ],
)
async def test_vat_on_collection_is_read_under_either_name(
    sent: dict[str, Any], value: bool | None, names: tuple[str, ...]
) -> None:
    sim = simulator()
    _, _, data = await send(sim, "factura/emitere", invoice_payload(**sent))
    assert data["Success"] is True
    document = sim.document(TEST_COMPANY, "BV", "001")
    assert document is not None
    assert (document.vat_on_collection, document.vat_on_collection_names) == (value, names)


async def test_vat_on_collection_from_a_form_body() -> None:
    sim = simulator()
    await send(sim, "factura/emitere", invoice_payload(TvaIncasare=True), form=True)
    document = sim.document(TEST_COMPANY, "BV", "001")
    assert document is not None
    assert (document.vat_on_collection, document.vat_on_collection_names) == (
        True,
        ("TvaIncasare",),
    )


# -- VAT rates by date ------------------------------------------------------------------------


def with_rate(rate: Any, **changes: Any) -> dict[str, Any]:
    payload = invoice_payload(**changes)
    payload["Continut"][0]["CotaTVA"] = rate
    return payload


@pytest.mark.parametrize(
    ("issued", "rate", "accepted"),
    [
        ("2025-07-15", 19, True),
        ("2025-07-31", 5, True),
        ("2025-07-15", 21, False),
        ("2025-08-01", 19, False),
        ("2025-09-01", 19, False),
        ("2025-09-01", 21, True),
        ("2025-09-01", 11, True),
    ],
)
async def test_the_vat_rate_is_checked_on_the_issue_date(
    issued: str, rate: int, accepted: bool
) -> None:
    sim = simulator(start_time=datetime.datetime(2025, 10, 1, 9, 0))
    _, _, data = await send(sim, "factura/emitere", with_rate(rate, DataEmitere=issued))
    assert data["Success"] is accepted
    if not accepted:
        assert data["Message"] == (
            f"Continut[0][CotaTVA]: valoarea {rate} nu exista in nomenclator"
        )


async def test_without_an_issue_date_the_rates_of_today_apply() -> None:
    sim = simulator(start_time=datetime.datetime(2025, 7, 15, 9, 0))
    assert (await send(sim, "factura/emitere", with_rate(19)))[2]["Success"] is True
    assert (await send(sim, "factura/emitere", with_rate(21)))[2]["Success"] is False


async def test_the_tva_nomenclator_lists_the_rates_of_the_simulated_day() -> None:
    sim = simulator(start_time=datetime.datetime(2025, 7, 31, 23, 59, 50))

    async def rates() -> list[str]:
        reply = await sim.handle("GET", "/v1/nomenclator/tva")
        return [item["Cod"] for item in loads_json(reply.body)["List"]]

    assert await rates() == ["19", "9", "5", "0"]
    await asyncio.sleep(20)  # past midnight: 2025-08-01
    assert "21" in await rates()
    assert "19" not in await rates()


# -- nomenclators -----------------------------------------------------------------------------


async def test_nomenclator_items_are_nume_and_cod_by_default_or_valoare() -> None:
    live = simulator()
    documented = simulator(nomenclator_code="Valoare")
    for sim, key in ((live, "Cod"), (documented, "Valoare")):
        reply = await sim.handle("GET", "/v1/nomenclator/judet")
        items = loads_json(reply.body)["List"]
        assert len(items) == 42
        assert {"Nume": "Brasov", key: "BV"} in items
        assert all(set(item) == {"Nume", key} for item in items)


async def test_nomenclators_answer_post_with_parameters_anywhere() -> None:
    sim = simulator()
    json_body = await sim.handle(
        "POST", "/v1/nomenclator/localitati", {}, {"Content-Type": "application/json"},
        b'{"judet": "B"}',
    )  # fmt: skip
    form_body = await sim.handle(
        "POST", "/v1/nomenclator/localitati", {},
        {"Content-Type": "application/x-www-form-urlencoded"}, encode_form({"judet": "B"}).encode(),
    )  # fmt: skip
    in_query = await sim.handle("POST", "/v1/nomenclator/localitati", {"judet": "B"})
    sectors = [{"Nume": f"Sector-{n}", "Cod": f"Sector-{n}"} for n in range(1, 7)]
    for reply in (json_body, form_body, in_query):
        assert reply.status == 200
        assert loads_json(reply.body) == {"Success": True, "List": sectors}
    posted = await sim.handle("POST", "/v1/nomenclator/valuta", body=b"{}")
    assert loads_json(posted.body)["List"][0] == {"Nume": "Leu romanesc", "Cod": "RON"}
    # A GET with a body is still the CDN's 403 page.
    assert (await sim.handle("GET", "/v1/nomenclator/tva", body=b"{}")).status == 403


@pytest.mark.parametrize("verb", ["GET", "POST"])
async def test_localities_without_a_county_are_refused(verb: str) -> None:
    reply = await simulator().handle(verb, "/v1/nomenclator/localitati")
    data = loads_json(reply.body)
    assert (reply.status, data["Success"]) == (200, False)
    assert data["Message"].startswith("Este necesar sa transmiteti parametrul judet")
