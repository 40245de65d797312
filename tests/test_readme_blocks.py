"""The README's web app runs as printed, and answers each outcome the way its text says.

The block is taken from README.md as it stands and run as a module. What it leaves to the shop
is given here: ``invoice_for`` (an order's invoice) and ``to_reconcile`` (a dict). Its
``FgoClient(...)`` gets the README's settings, read from the environment as printed, and
reaches a simulator in-process instead of FGO.
"""

from __future__ import annotations

import builtins
import logging
import symtable
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from fgo_async import Customer, FgoClient, Invoice, InvoiceLine
from fgo_async.errors import CallIdentity
from fgo_async.simulator import IN_PROCESS_BASE_URL, FgoSimulator
from fgo_async.simulator.records import Outcome

README = Path(__file__).resolve().parent.parent / "README.md"
HEADING = "Issuing from an aiohttp web app"
COMPANY = "12345678"
KEY = "shop-private-key"
ORDER = {"id": "1042", "customer": "Ionescu Maria"}
DROPPED_AFTER, REFUSED = Outcome.DROPPED_AFTER, Outcome.REFUSED


def python_block(heading: str) -> str:
    """The first Python block of the README section under ``## heading``."""
    readme = README.read_text(encoding="utf-8")
    section = readme.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def invoice_for(order: dict[str, Any]) -> Invoice:
    """The shop's own part: the invoice of an order (test orders are a few keys)."""
    return Invoice(
        series="WEB",
        external_id=order["id"],
        check_duplicate=order.get("check_duplicate"),
        customer=Customer(name=order["customer"], type="PF", country="Romania", county="Brasov"),
        lines=[
            InvoiceLine(
                name="Carte",
                quantity=order.get("quantity", 1),
                unit="buc",
                vat_rate=order.get("vat_rate", 21),
                unit_price="19.99",
            )
        ],
    )


@pytest.fixture
def simulator(monkeypatch: pytest.MonkeyPatch) -> FgoSimulator:
    """A simulator of the shop's company, whose settings the environment holds."""
    monkeypatch.setenv("FGO_COD_UNIC", COMPANY)
    monkeypatch.setenv("FGO_PRIVATE_KEY", KEY)
    return FgoSimulator(companies={COMPANY: KEY})


@asynccontextmanager
async def web_app(
    simulator: FgoSimulator,
) -> AsyncIterator[tuple[TestClient[web.Request, web.Application], dict[str, CallIdentity]]]:
    """The README's app served on 127.0.0.1, with an HTTP client, and its ``to_reconcile``."""
    to_reconcile: dict[str, CallIdentity] = {}
    module: dict[str, Any] = {
        "__name__": "readme_web_app",  # not __main__: the block does not run the server itself
        "invoice_for": invoice_for,
        "to_reconcile": to_reconcile,
    }
    exec(compile(python_block(HEADING), str(README), "exec"), module)

    def in_process(*, environment: str, **settings: Any) -> FgoClient:
        # The README's own settings, sent to the simulator rather than to FGO's production.
        assert environment == "production"
        transport = simulator.transport()
        return FgoClient(**settings, base_url=IN_PROCESS_BASE_URL, transport=transport)

    module["FgoClient"] = in_process
    async with TestClient(TestServer(module["app"])) as http:
        yield http, to_reconcile


@pytest.mark.realtime
async def test_an_order_is_issued_bad_input_is_400_and_an_unknown_invoice_404(
    simulator: FgoSimulator,
) -> None:
    async with web_app(simulator) as (http, _):
        issued = await http.post("/invoices", json=ORDER)
        assert issued.status == 200
        body = await issued.json()
        assert simulator.document(COMPANY, body["series"], body["number"]) is not None
        assert body["link"].endswith(".pdf")

        bad = await http.post("/invoices", json={**ORDER, "id": "1043", "quantity": 0})
        assert bad.status == 400
        assert (await bad.json())["fields"] == ["lines[0].quantity"]

        missing = await http.get("/invoices/WEB/404")
        assert missing.status == 404
        assert "nu a fost gasit" in (await missing.json())["error"]

        status = await http.get(f"/invoices/{body['series']}/{body['number']}")
        assert status.status == 200
        assert (await status.json()) == {"total": "24.19", "paid": "0.00"}
    assert len(simulator.calls_to("factura/emitere")) == 1  # the bad order was never sent
    assert not simulator.violations()


@pytest.mark.realtime
async def test_a_lost_reply_is_kept_to_reconcile_or_found_by_the_duplicate_check(
    simulator: FgoSimulator,
) -> None:
    async with web_app(simulator) as (http, to_reconcile):
        simulator.faults.script("drop-after", method="factura/emitere", times=1)
        lost = await http.post("/invoices", json={**ORDER, "id": "2001"})
        assert lost.status == 202
        identity = to_reconcile["2001"]
        assert (identity.method, identity.series, identity.external_id) == (
            "factura/emitere",
            "WEB",
            "2001",
        )
        assert identity.customer_name == "Ionescu Maria"
        # The invoice exists: issuing the order again blindly would bill the customer twice.
        assert simulator.document(COMPANY, "WEB", "001") is not None

        simulator.faults.script("drop-after", method="factura/emitere", times=1)
        keyed = {**ORDER, "id": "2002", "check_duplicate": True}
        found = await http.post("/invoices", json=keyed)
        assert found.status == 200
        assert (await found.json())["number"] == "002"  # the lost attempt's invoice, found
    assert simulator.document(COMPANY, "WEB", "003") is None  # and not issued twice
    calls = simulator.calls_to("factura/emitere")
    assert [c.outcome for c in calls] == [DROPPED_AFTER, DROPPED_AFTER, REFUSED]
    assert to_reconcile.keys() == {"2001"}
    assert not simulator.violations()


@pytest.mark.realtime
async def test_a_refusal_is_502_with_the_vendors_message_and_bad_credentials_500(
    simulator: FgoSimulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async with web_app(simulator) as (http, _):
        refused = await http.post("/invoices", json={**ORDER, "vat_rate": 7})
        assert refused.status == 502
        vendor_said = simulator.calls_to("factura/emitere")[-1].message
        assert vendor_said
        assert (await refused.json())["error"] == vendor_said

    monkeypatch.setenv("FGO_PRIVATE_KEY", "a-key-that-is-not-the-company-s")
    async with web_app(simulator) as (http, _):
        with caplog.at_level(logging.ERROR):
            misconfigured = await http.post("/invoices", json=ORDER)
        assert misconfigured.status == 500
        assert (await misconfigured.json()) == {"error": "invoicing is not configured"}
    alerts = [r for r in caplog.records if r.getMessage() == "FGO refused the credentials"]
    assert len(alerts) == 1
    assert "a-key-that-is-not" not in caplog.text
    assert simulator.document(COMPANY, "WEB", "001") is None


def test_the_block_leaves_to_the_shop_only_what_its_text_names() -> None:
    block = symtable.symtable(python_block(HEADING), str(README), "exec")
    defined = {s.get_name() for s in block.get_symbols() if s.is_assigned() or s.is_imported()}
    used: set[str] = set()
    for function in block.get_children():
        used |= {s.get_name() for s in function.get_symbols() if s.is_global()}
    assert used - defined - set(dir(builtins)) == {"invoice_for", "to_reconcile"}
    readme = README.read_text(encoding="utf-8")
    text = readme.split(f"\n## {HEADING}\n", 1)[1].split("\n## ", 1)[0].split("```\n", 1)[1]
    assert "`invoice_for(order)`" in text
    assert "`to_reconcile`" in text
