"""The examples under examples/ run against the simulator and do what they say."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import sys
from pathlib import Path
from types import ModuleType

import pytest
from aiohttp.test_utils import TestClient, TestServer

from fgo_async import EventKind, FgoClient
from fgo_async.scheduling import default_scheduler
from fgo_async.simulator import IN_PROCESS_BASE_URL, FgoSimulator
from fgo_async.virtual_time import VirtualClock

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str) -> ModuleType:
    """Import examples/<name>.py (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.realtime
async def test_the_shop_issues_one_invoice_per_paid_order() -> None:
    shop = load("shop_webhook")
    order = json.loads((EXAMPLES / "order.json").read_text(encoding="utf-8"))
    simulator = FgoSimulator(companies={"12345678": "example-key"})
    async with TestClient(TestServer(shop.build_app(simulator.client))) as http:
        url = "/webhooks/order-paid"
        second = {**order, "id": "1043"}
        first, other = await asyncio.gather(http.post(url, json=order), http.post(url, json=second))
        assert (first.status, other.status) == (200, 200)
        issued = await first.json()
        assert issued["deduplicated"] is False
        numbers = sorted([issued["number"], (await other.json())["number"]])
        assert numbers == ["001", "002"]
        # The provider delivers the webhook again: FGO refuses the repeat as a duplicate at the
        # first attempt, and the shop answers with the invoice that stands.
        again = await http.post(url, json=order)
        assert again.status == 200
        body = await again.json()
        assert body["duplicate"] is True
        assert body["number"] == issued["number"]
        assert body["link"] == issued["link"]
        bad = await http.post(url, json={"id": "x", "customer": {}, "items": []})
        assert bad.status == 400
        zero = {**order, "id": "1044", "items": [{"name": "A", "quantity": 0, "unit_price": "1"}]}
        refused = await http.post(url, json=zero)
        assert refused.status == 400
        assert (await refused.json())["fields"] == ["lines[0].quantity"]

        status = await http.get(f"/invoices/WEB/{issued['number']}")
        assert status.status == 200
        assert await status.json() == {"total": "56.39", "paid": "0.00"}
        missing = await http.get("/invoices/WEB/404")
        assert missing.status == 404
        assert "nu a fost gasit" in (await missing.json())["error"]
    assert len(simulator.calls_to("factura/emitere")) == 3
    assert not simulator.violations()  # concurrent requests, one call at a time


@pytest.mark.realtime
async def test_a_lost_reply_is_found_or_left_to_reconcile() -> None:
    shop = load("shop_webhook")
    order = json.loads((EXAMPLES / "order.json").read_text(encoding="utf-8"))
    simulator = FgoSimulator(companies={"12345678": "example-key"})
    app = shop.build_app(simulator.client)
    async with TestClient(TestServer(app)) as http:
        url = "/webhooks/order-paid"
        # The reply is lost once: the retry's duplicate check finds the invoice it had issued.
        simulator.faults.script("drop-after", method="factura/emitere", times=1)
        found = await http.post(url, json=order)
        assert found.status == 200
        body = await found.json()
        assert (body["number"], body["deduplicated"]) == ("001", True)
        assert body["link"] == simulator.calls_to("factura/emitere")[0].reply["Factura"]["Link"]
        # Every reply is lost: once the retry budget is spent, the order waits to be reconciled.
        simulator.faults.script("drop-after", method="factura/emitere", times=None)
        lost = await http.post(url, json={**order, "id": "1045"})
        assert lost.status == 202
        identity = app[shop.TO_RECONCILE]["1045"]
        assert (identity.external_id, identity.series) == ("1045", "WEB")
        assert identity.customer_name == order["customer"]["name"]
    assert app[shop.TO_RECONCILE].keys() == {"1045"}
    assert simulator.document("12345678", "WEB", "002") is not None  # it was issued, in fact
    assert not simulator.violations()


@pytest.mark.realtime
async def test_the_shop_answers_fgos_failures(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    shop = load("shop_webhook")
    monkeypatch.setattr(shop, "QUEUE_TIMEOUT", 0.3)
    order = json.loads((EXAMPLES / "order.json").read_text(encoding="utf-8"))
    simulator = FgoSimulator(companies={"12345678": "example-key", "87654321": "other-key"})
    url = "/webhooks/order-paid"
    async with TestClient(TestServer(shop.build_app(simulator.client))) as http:
        # One slow invoice holds the company's lane: a status read cannot start in time.
        simulator.faults.script("slow-reply", method="factura/emitere", delay=1.0)
        started = asyncio.Event()
        default_scheduler().event_hook = lambda event: (
            started.set() if event.kind is EventKind.STARTED else None
        )
        slow = asyncio.ensure_future(http.post(url, json=order))
        await started.wait()  # the invoice call holds the lane
        busy = await http.get("/invoices/WEB/001")
        assert busy.status == 503
        assert busy.headers["Retry-After"] == "30"
        assert (await slow).status == 200
        # A rate of VAT that Romania does not have: the vendor refuses, the shop says why.
        bad_vat = {
            **order,
            "id": "1050",
            "items": [{"name": "A", "quantity": 1, "unit_price": "1", "vat_rate": 7}],
        }
        refused = await http.post(url, json=bad_vat)
        assert refused.status == 502
        assert (await refused.json())["error"] == simulator.calls_to("factura/emitere")[-1].message
    assert not simulator.calls_to("factura/getstatus")  # the 503 was never sent

    def wrong_key() -> FgoClient:
        return FgoClient(
            cod_unic="87654321",
            private_key="not-the-key",
            platform_url="https://shop.example.ro",
            base_url=IN_PROCESS_BASE_URL,
            transport=simulator.transport(),
        )

    async with TestClient(TestServer(shop.build_app(wrong_key))) as http:
        with caplog.at_level(logging.ERROR, logger="shop"):
            misconfigured = await http.post(url, json=order)
        assert misconfigured.status == 500
    assert [r.getMessage() for r in caplog.records if r.name == "shop"] == [
        "FGO refused the shop's credentials"
    ]
    assert "not-the-key" not in caplog.text


def test_the_shop_reads_its_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    shop = load("shop_webhook")
    monkeypatch.setenv("FGO_COD_UNIC", "12345678")
    monkeypatch.setenv("FGO_PRIVATE_KEY", "k")
    monkeypatch.setenv("FGO_ENV", "production")
    monkeypatch.delenv("FGO_BASE_URL", raising=False)
    assert shop.client_from_environment().base_url == "https://api.fgo.ro/v1"


async def test_the_batch_script(
    virtual_clock: VirtualClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = load("batch_script")
    assert await script.main([]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["issued"]["number"] for line in lines] == [
        "001", "002", "003", "004", "005"
    ]  # fmt: skip
    from fgo_async import plain

    orders = tmp_path / "orders.jsonl"
    invoices = script.sample_orders(2)
    orders.write_text("\n".join(plain.dumps(i) for i in invoices) + "\n", encoding="utf-8")
    assert script.read_orders(orders.read_text().splitlines()) == invoices
    simulator = FgoSimulator(companies={"12345678": "k"})
    simulator.faults.script("503", method="factura/emitere", times=None)
    async with simulator.client() as fgo:
        assert await script.issue_orders(fgo, invoices) == 2
    failure = json.loads(capsys.readouterr().out.splitlines()[0])
    # A 503 after sending: the script cannot know whether it was issued, and says so.
    assert failure["error"] == "FgoOutcomeUnknownError"
    assert failure["may_be_issued"] is True


async def test_the_pipeline_serves_many_companies_side_by_side(
    virtual_clock: VirtualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = load("many_companies")
    started = virtual_clock.time()
    simulator = await pipeline.main(companies=20, per_company=5)
    elapsed = virtual_clock.time() - started
    assert "100 invoices for 20 companies" in capsys.readouterr().out
    assert len(simulator.calls_to("factura/emitere")) == 100
    assert not simulator.violations()
    assert elapsed < 6  # 5 invoices per company at 1.1 s, the 20 companies at once
