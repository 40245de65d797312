"""The examples under examples/ run against the simulator and do what they say."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from aiohttp.test_utils import TestClient, TestServer

from fgo_async.simulator import FgoSimulator
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
        numbers = sorted([(await first.json())["number"], (await other.json())["number"]])
        assert numbers == ["001", "002"]
        # The provider delivers the webhook again: the first invoice comes back, no second one.
        again = await http.post(url, json=order)
        assert again.status == 200
        body = await again.json()
        assert body["duplicate"] is True
        assert body["number"] in numbers
        bad = await http.post(url, json={"id": "x", "customer": {}, "items": []})
        assert bad.status == 400
        zero = {**order, "id": "1044", "items": [{"name": "A", "quantity": 0, "unit_price": "1"}]}
        refused = await http.post(url, json=zero)
        assert refused.status == 422
    assert len(simulator.calls_to("factura/emitere")) == 3
    assert not simulator.violations()  # concurrent requests, one call at a time


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
