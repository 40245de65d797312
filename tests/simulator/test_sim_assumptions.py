"""The simulator's own rules (no vendor document states them): each in force by default, each
switchable, and each listed where a user reads about the simulator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from fgo_async.endpoints import Bucket
from fgo_async.simulator import FgoSimulator, assumptions
from fgo_async.simulator.assumptions import ASSUMPTION_NAMES, Assumptions
from fgo_async.simulator.cli import build_parser, main, simulator_from_args
from fgo_async.testing import TEST_COMPANY, TEST_PRIVATE_KEY
from tests.simulator.sim_helpers import invoice_payload, send

pytestmark = pytest.mark.usefixtures("virtual_clock")

README = Path(__file__).resolve().parents[2] / "README.md"
REF = {"Numar": "001", "Serie": "BV"}


def pay(amount: str, series: str = "BV") -> dict[str, Any]:
    return {
        "NumarFactura": "001",
        "SerieFactura": series,
        "TipIncasare": "Card",
        "SumaIncasata": amount,
        "DataIncasare": "2025-09-01 10:00:00",
    }


Scenario = Callable[[FgoSimulator], Awaitable[dict[str, Any]]]


async def _ok(sim: FgoSimulator, method: str, payload: dict[str, Any]) -> None:
    assert (await send(sim, method, payload))[2]["Success"] is True, method


async def delete_not_the_last(sim: FgoSimulator) -> dict[str, Any]:
    await _ok(sim, "factura/emitere", invoice_payload())
    await _ok(sim, "factura/emitere", invoice_payload(IdExtern="2"))
    return (await send(sim, "factura/stergere", REF))[2]


async def overpay(sim: FgoSimulator) -> dict[str, Any]:
    await _ok(sim, "factura/emitere", invoice_payload())  # 48.38
    return (await send(sim, "factura/incasare", pay("50")))[2]


async def cancel_paid(sim: FgoSimulator) -> dict[str, Any]:
    await _ok(sim, "factura/emitere", invoice_payload())
    await _ok(sim, "factura/incasare", pay("10"))
    return (await send(sim, "factura/anulare", REF))[2]


async def delete_paid(sim: FgoSimulator) -> dict[str, Any]:
    await _ok(sim, "factura/emitere", invoice_payload())
    await _ok(sim, "factura/incasare", pay("10"))
    return (await send(sim, "factura/stergere", REF))[2]


async def reverse_twice(sim: FgoSimulator) -> dict[str, Any]:
    await _ok(sim, "factura/emitere", invoice_payload())
    await _ok(sim, "factura/stornare", REF)
    return (await send(sim, "factura/stornare", REF))[2]


async def pay_an_estimate(sim: FgoSimulator) -> dict[str, Any]:
    await _ok(sim, "factura/emitere", invoice_payload(Serie="DV", TipFactura="Deviz"))
    return (await send(sim, "factura/incasare", pay("10", series="DV")))[2]


async def due_before_issue(sim: FgoSimulator) -> dict[str, Any]:
    payload = invoice_payload(DataEmitere="2025-09-10", DataScadenta="2025-09-01")
    return (await send(sim, "factura/emitere", payload))[2]


SCENARIOS: dict[str, tuple[Scenario, str]] = {
    "delete_last_only": (delete_not_the_last, "Se poate sterge doar ultimul document"),
    "no_overpayment": (overpay, "depaseste restul de plata"),
    "no_cancel_when_paid": (cancel_paid, "are incasari asociate si nu poate fi anulat"),
    "no_delete_when_paid": (delete_paid, "Stergeti mai intai incasarile"),
    "reversal_is_final": (reverse_twice, "a fost deja stornata"),
    "no_payment_on_estimate": (pay_an_estimate, "pe un deviz"),
    "due_after_issue": (due_before_issue, "DataScadenta nu poate fi anterioara"),
}


def simulator(rules: Assumptions | None = None) -> FgoSimulator:
    return FgoSimulator(
        {TEST_COMPANY: TEST_PRIVATE_KEY},
        limits=dict.fromkeys(Bucket, 0.0),
        identical_window=0,
        assumptions=rules,
    )


def test_every_assumption_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(ASSUMPTION_NAMES)


@pytest.mark.parametrize("name", ASSUMPTION_NAMES)
async def test_each_assumption_refuses_by_default_and_can_be_switched_off(name: str) -> None:
    scenario, refusal = SCENARIOS[name]
    refused = await scenario(simulator())
    assert refused["Success"] is False
    assert refusal in refused["Message"]
    relaxed = Assumptions().without([name.replace("_", "-")])
    assert getattr(relaxed, name) is False
    assert sum(not getattr(relaxed, other) for other in ASSUMPTION_NAMES) == 1
    assert (await scenario(simulator(relaxed)))["Success"] is True


async def test_with_no_assumptions_the_books_stay_consistent() -> None:
    sim = simulator(Assumptions.none())
    await delete_not_the_last(sim)
    company = sim.company(TEST_COMPANY)
    assert [d.number for d in company.documents.values()] == ["002"]
    # The freed number is given again.
    await _ok(sim, "factura/emitere", invoice_payload(IdExtern="3"))
    assert sorted(n for _, _, n in company.documents) == ["001", "002"]
    await _ok(sim, "factura/incasare", pay("100"))
    document = sim.document(TEST_COMPANY, "BV", "001")
    assert document is not None
    assert document.paid == 100
    await _ok(sim, "factura/anulare", REF)


async def test_assumptions_can_be_changed_on_a_running_simulator() -> None:
    sim = simulator()
    sim.assumptions = Assumptions.none()
    assert (await overpay(sim))["Success"] is True


def test_unknown_assumptions_are_refused() -> None:
    with pytest.raises(ValueError, match="delete-last-only"):
        Assumptions().without(["paid-twice"])
    assert Assumptions().without(["all"]) == Assumptions.none()


def test_the_command_line_relaxes_assumptions() -> None:
    args = build_parser().parse_args(
        ["--company", "1:k", "--relax", "delete-last-only", "--relax", "no-overpayment"]
    )
    rules = simulator_from_args(args).assumptions
    assert (rules.delete_last_only, rules.no_overpayment, rules.no_cancel_when_paid) == (
        False,
        False,
        True,
    )
    args = build_parser().parse_args(["--company", "1:k", "--relax", "all"])
    assert simulator_from_args(args).assumptions == Assumptions.none()
    assert simulator_from_args(build_parser().parse_args(["--company", "1:k"])).assumptions == (
        Assumptions()
    )


def test_a_bad_assumption_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--company", "1:k", "--relax", "paid-twice"])
    assert raised.value.code == 2
    assert "delete-last-only" in capsys.readouterr().err


def test_every_assumption_is_listed_in_the_docs() -> None:
    readme = README.read_text(encoding="utf-8")
    section = readme.split("## The simulator: a local FGO", 1)[1].split("\n## ", 1)[0]
    docstring = assumptions.__doc__ or ""
    for name in ASSUMPTION_NAMES:
        assert f"``{name}``" in docstring, name
        assert f"`{name.replace('_', '-')}`" in section, name
