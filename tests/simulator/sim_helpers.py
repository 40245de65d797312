"""Helpers of the simulator's tests: wire payloads, signatures and invoice models."""

from __future__ import annotations

from typing import Any

from fgo_async import Customer, Invoice, InvoiceLine
from fgo_async.codec import dumps_json, encode_form, loads_json
from fgo_async.endpoints import ENDPOINTS
from fgo_async.signing import compute_hash
from fgo_async.simulator import FgoSimulator
from fgo_async.testing import TEST_COMPANY, TEST_PRIVATE_KEY


def invoice_payload(**overrides: Any) -> dict[str, Any]:
    """The wire payload of a valid invoice for a Romanian company customer."""
    payload: dict[str, Any] = {
        "Serie": "BV",
        "Valuta": "RON",
        "TipFactura": "Factura",
        "Client": {
            "Denumire": "Ionescu Popescu SRL",
            "Tip": "PJ",
            "CodUnic": "RO18547290",
            "Tara": "Romania",
            "Judet": "Brasov",
            "Localitate": "Brasov",
        },
        "Continut": [
            {
                "Denumire": "Carte",
                "CodArticol": "CARTE-1",
                "UM": "buc",
                "NrProduse": 2,
                "PretUnitar": "19.99",
                "CotaTVA": 21,
            }
        ],
    }
    payload.update(overrides)
    return payload


def sign(method: str, payload: dict[str, Any], *, company: str, key: str) -> dict[str, Any]:
    """``payload`` with CodUnic and the method's Hash, as a client sends it."""
    subject = ""
    path = ENDPOINTS[method].hash_input
    if path is not None:
        value: Any = payload
        for step in path:
            value = value.get(step) if isinstance(value, dict) else None
        subject = "" if value is None else str(value)
    return {
        "CodUnic": company,
        "Hash": compute_hash(company, key, subject),
        **payload,
        "PlatformaUrl": "https://shop.example.ro",
    }


def make_invoice(**overrides: Any) -> Invoice:
    """A valid Invoice model (Romanian company customer, one line)."""
    fields: dict[str, Any] = {
        "series": "BV",
        "customer": Customer(
            name="Ionescu Popescu SRL",
            type="PJ",
            country="Romania",
            county="Brasov",
            tax_id="RO18547290",
        ),
        "lines": [
            InvoiceLine(
                name="Carte",
                article_code="CARTE-1",
                quantity=2,
                unit="buc",
                vat_rate=21,
                unit_price="19.99",
            )
        ],
    }
    fields.update(overrides)
    return Invoice(**fields)


async def send(
    simulator: FgoSimulator,
    method: str,
    payload: dict[str, Any] | None = None,
    *,
    company: str = TEST_COMPANY,
    key: str = TEST_PRIVATE_KEY,
    form: bool = False,
    signed: dict[str, Any] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """One signed POST to ``simulator`` in-process; returns (status, headers, JSON or bytes)."""
    body_data = signed or sign(method, payload or {}, company=company, key=key)
    if form:
        body = encode_form(body_data).encode()
        content_type = "application/x-www-form-urlencoded"
    else:
        body = dumps_json(body_data).encode()
        content_type = "application/json"
    reply = await simulator.handle(
        "POST", f"/v1/{method}", {}, {"Content-Type": content_type}, body
    )
    data = loads_json(reply.body) if reply.body.startswith(b"{") else reply.body
    return reply.status, dict(reply.headers), data
