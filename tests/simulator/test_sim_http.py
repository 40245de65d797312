"""The simulator driven with raw HTTP (aiohttp's client, no fgo_async client), on 127.0.0.1."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from fgo_async.codec import dumps_json, encode_form, loads_json
from fgo_async.simulator import FgoSimulator
from fgo_async.testing import TEST_COMPANY, TEST_PRIVATE_KEY
from tests.simulator.sim_helpers import invoice_payload, sign

pytestmark = pytest.mark.realtime


async def post(
    session: aiohttp.ClientSession,
    sim: FgoSimulator,
    method: str,
    payload: dict[str, Any],
    *,
    form: bool = False,
) -> tuple[int, dict[str, str], Any]:
    signed = sign(method, payload, company=TEST_COMPANY, key=TEST_PRIVATE_KEY)
    if form:
        body = encode_form(signed).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    else:
        body = dumps_json(signed).encode()
        headers = {"Content-Type": "application/json"}
    async with session.post(f"{sim.base_url}/{method}", data=body, headers=headers) as reply:
        return reply.status, dict(reply.headers), loads_json(await reply.read())


async def test_issue_status_and_payments_over_raw_http(fgo_simulator: FgoSimulator) -> None:
    async with aiohttp.ClientSession() as session:
        status, _, data = await post(session, fgo_simulator, "factura/emitere", invoice_payload())
        assert (status, data["Success"], data["Factura"]["Numar"]) == (200, True, "001")
        payment = {
            "NumarFactura": "001",
            "SerieFactura": "BV",
            "TipIncasare": "Card",
            "SumaIncasata": "20.38",
            "DataIncasare": "2025-09-01 10:00:00",
        }
        for amount in ("20.38", "28"):
            await asyncio.sleep(1.0)
            status, _, data = await post(
                session, fgo_simulator, "factura/incasare", {**payment, "SumaIncasata": amount}
            )
            assert (status, data["Success"]) == (200, True)
        await asyncio.sleep(1.0)
        status, _, data = await post(
            session, fgo_simulator, "factura/getstatus", {"Numar": "001", "Serie": "BV"}
        )
    assert data["Factura"]["Valoare"] == "48.38"  # 39.98 + 21 % VAT
    assert data["Factura"]["ValoareAchitata"] == "48.38"
    assert [p["SumaIncasata"] for p in data["Factura"]["Incasari"]] == [
        loads_json("20.38"),
        28,
    ]


async def test_a_wrong_hash_is_refused(fgo_simulator: FgoSimulator) -> None:
    signed = {"CodUnic": TEST_COMPANY, "Hash": "DEADBEEF", **invoice_payload()}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fgo_simulator.base_url}/factura/emitere", json=loads_json(dumps_json(signed))
        ) as reply,
    ):
        data = await reply.json()
    assert (reply.status, data["Success"]) == (200, False)
    assert data["Message"].startswith("Combinatia utilizator/companie nu este autorizata")


async def test_a_second_invoice_within_one_second_gets_429(fgo_simulator: FgoSimulator) -> None:
    async with aiohttp.ClientSession() as session:
        first = await post(session, fgo_simulator, "factura/emitere", invoice_payload())
        second = await post(
            session, fgo_simulator, "factura/emitere", invoice_payload(IdExtern="other")
        )
    assert first[0] == 200
    status, headers, data = second
    assert (status, data["Success"]) == (429, False)
    assert "Prea multe apeluri" in data["Message"]
    assert headers["Retry-After"] == "1"


async def test_a_second_article_get_within_five_seconds_gets_429(
    fgo_simulator: FgoSimulator,
) -> None:
    fgo_simulator.add_article(TEST_COMPANY, name="Pix", code="PIX")
    async with aiohttp.ClientSession() as session:
        first = await post(session, fgo_simulator, "articol/get", {"CodArticol": "PIX"})
        second = await post(session, fgo_simulator, "articol/get", {"CodArticol": "PIX"})
    assert first[0] == 200
    assert first[2]["Result"]["CotaTva"] == loads_json("0.21")  # a fraction, as the vendor
    assert (second[0], second[1]["Retry-After"]) == (429, "5")


async def test_a_romanian_customer_without_county_is_refused(fgo_simulator: FgoSimulator) -> None:
    payload = invoice_payload()
    del payload["Client"]["Judet"]
    async with aiohttp.ClientSession() as session:
        status, _, data = await post(session, fgo_simulator, "factura/emitere", payload, form=True)
    assert (status, data["Success"]) == (200, False)
    assert "Client[Judet] este obligatoriu" in data["Message"]


async def test_a_repeated_external_id_is_refused(fgo_simulator: FgoSimulator) -> None:
    payload = invoice_payload(IdExtern="1042", VerificareDuplicat=True)
    async with aiohttp.ClientSession() as session:
        first = await post(session, fgo_simulator, "factura/emitere", payload)
        await asyncio.sleep(1.0)
        second = await post(session, fgo_simulator, "factura/emitere", payload)
    assert first[2]["Success"] is True
    assert second[0] == 200
    assert second[2]["Success"] is False
    assert second[2]["Message"] == "Factura seria BV numarul 001 exista deja salvata."
    issued = first[2]["Factura"]
    assert second[2]["Factura"] == {k: issued[k] for k in ("Serie", "Numar", "Link")}


async def test_nomenclators_by_get_with_query(fgo_simulator: FgoSimulator) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{fgo_simulator.base_url}/nomenclator/localitati", params={"judet": "BV"}
        ) as reply,
    ):
        data = await reply.json()
    assert data["Success"] is True
    assert {"Nume": "Brasov", "Cod": "Brasov"} in data["List"]


async def test_a_dropped_connection_closes_it(fgo_simulator: FgoSimulator) -> None:
    fgo_simulator.faults.script("drop-after")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await post(session, fgo_simulator, "factura/emitere", invoice_payload())
    assert fgo_simulator.document(TEST_COMPANY, "BV", "001") is not None


async def test_pdf_links_and_control_routes(fgo_simulator: FgoSimulator) -> None:
    root = fgo_simulator.base_url.removesuffix("/v1")
    async with aiohttp.ClientSession() as session:
        _, _, data = await post(session, fgo_simulator, "factura/emitere", invoice_payload())
        async with session.get(data["Factura"]["Link"]) as pdf:
            assert (pdf.status, pdf.content_type) == (200, "application/pdf")
            assert (await pdf.read()).startswith(b"%PDF")
        async with session.post(
            f"{root}/_simulator/faults", json={"kind": "503", "method": "articol/*"}
        ) as created:
            assert created.status == 201
        async with session.post(f"{root}/_simulator/faults", json={"kind": "x"}) as bad:
            assert bad.status == 400
        status, _, _ = await _raw_post(session, f"{fgo_simulator.base_url}/articol/gestiune")
        assert status == 503
        async with session.get(f"{root}/_simulator/faults") as listed:
            assert await listed.json() == []  # used up
        async with session.get(f"{root}/_simulator/calls") as calls:
            listed_calls = await calls.json()
        async with session.get(f"{root}/_simulator/summary") as summary:
            counts = await summary.json()
        async with session.delete(f"{root}/_simulator/faults") as cleared:
            assert cleared.status == 200
    assert [c["method"] for c in listed_calls] == ["factura/emitere", "articol/gestiune"]
    assert TEST_PRIVATE_KEY not in str(listed_calls)
    assert counts["calls"] == 2
    assert counts["outcomes"] == {"success": 1, "server-error": 1}


async def _raw_post(session: aiohttp.ClientSession, url: str) -> tuple[int, bytes, str]:
    async with session.post(url, data=b"{}") as reply:
        return reply.status, await reply.read(), reply.content_type


async def test_the_server_binds_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        await FgoSimulator({TEST_COMPANY: "k"}, host="0.0.0.0").start()
