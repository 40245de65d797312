"""Thousands of companies: a call costs the same whatever their number, and the records kept
are bounded when asked."""

from __future__ import annotations

from typing import Any

import pytest

from fgo_async.endpoints import Bucket
from fgo_async.simulator import FgoSimulator, Outcome
from tests.simulator.sim_helpers import invoice_payload, send

pytestmark = pytest.mark.usefixtures("virtual_clock")

COMPANIES = {str(10_000_000 + n): f"key-{n}" for n in range(20_000)}


class CountingDict(dict[str, Any]):
    """A dict that counts the walks over it."""

    walks = 0

    def __iter__(self) -> Any:
        self.walks += 1
        return super().__iter__()

    def values(self) -> Any:
        self.walks += 1
        return super().values()

    def items(self) -> Any:
        self.walks += 1
        return super().items()


async def test_no_call_walks_over_the_companies() -> None:
    sim = FgoSimulator(COMPANIES, limits=dict.fromkeys(Bucket, 0.0))
    companies = CountingDict(sim.companies)
    sim.companies = sim.methods.companies = companies
    some = list(COMPANIES.items())[::4000]
    for cod_unic, key in some:
        assert (await send(sim, "factura/emitere", invoice_payload(), company=cod_unic, key=key))[
            2
        ]["Success"]
        await send(sim, "factura/getstatus", {"Numar": "001", "Serie": "BV"}, company=cod_unic,
                   key=key)  # fmt: skip
        await send(sim, "articol/gestiune", {}, company=cod_unic, key="wrong")
    await send(sim, "client/list", {"NrPagina": 1}, company="1", key="unknown")
    await sim.handle("GET", "/v1/nomenclator/judet")
    assert len(sim.calls) == 3 * len(some) + 2
    assert [c.outcome for c in sim.calls[:3]] == [Outcome.SUCCESS] * 2 + [Outcome.REFUSED]
    assert companies.walks == 0


async def test_records_can_be_bounded_and_still_counted() -> None:
    sim = FgoSimulator({"1": "k"}, limits=dict.fromkeys(Bucket, 0.0), max_records=100)
    for _ in range(250):
        await sim.handle("GET", "/v1/nomenclator/tva")
    await sim.handle("POST", "/v1/nimic/deloc")
    assert 50 <= len(sim.calls) <= 100
    assert [c.index for c in sim.calls] == list(range(251 - len(sim.calls), 251))
    summary = sim.summary()
    assert (summary.calls, summary.outcomes) == (
        251,
        {Outcome.SUCCESS: 250, Outcome.NOT_FOUND: 1},
    )
    sim.reset_records()
    assert (sim.summary().calls, sim.calls) == (0, [])
    with pytest.raises(ValueError, match="max_records"):
        FgoSimulator(max_records=0)
