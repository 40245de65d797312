"""Latency and injected faults, seen by FgoClient through the in-process transport, on virtual
time."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from fgo_async import (
    Bucket,
    FgoConnectError,
    FgoConnectionLostError,
    FgoDecodeError,
    FgoIssueTimeoutError,
    FgoOutcomeUnknownError,
    FgoRateLimitedError,
    FgoServerError,
    FgoTimeoutError,
    InvoiceRef,
    RetryPolicy,
)
from fgo_async.client import FgoClient
from fgo_async.simulator import (
    FaultKind,
    FgoSimulator,
    FixedLatency,
    LatencyTable,
    LogNormalLatency,
    Outcome,
    parse_fault_rule,
    parse_latency,
)
from fgo_async.testing import TEST_COMPANY, VirtualClock
from tests.simulator.sim_helpers import invoice_payload, make_invoice

pytestmark = pytest.mark.usefixtures("virtual_clock")

NO_RETRIES = RetryPolicy(max_attempts=1)
EMITERE = "factura/emitere"


def one_shot(simulator: FgoSimulator, **options: Any) -> FgoClient:
    """A client that reports the first failure instead of retrying it."""
    return simulator.client(retry_policy=NO_RETRIES, **options)


def issued_count(simulator: FgoSimulator) -> int:
    return len(simulator.company(TEST_COMPANY).documents)


async def test_issue_timeout_message(
    fgo_simulator: FgoSimulator, virtual_clock: VirtualClock
) -> None:
    fgo_simulator.faults.script("issue-timeout", method=EMITERE, code=4)
    start = virtual_clock.time()
    async with one_shot(fgo_simulator) as fgo:
        with pytest.raises(FgoIssueTimeoutError) as raised:
            await fgo.issue_invoice(make_invoice())
    assert raised.value.code == 4
    assert virtual_clock.time() - start == pytest.approx(15.0)
    assert issued_count(fgo_simulator) == 0
    assert fgo_simulator.calls[0].outcome is Outcome.ISSUE_TIMEOUT


async def test_a_latency_past_the_budget_becomes_the_timeout_message(
    fgo_simulator: FgoSimulator,
) -> None:
    fgo_simulator.latency = {EMITERE: FixedLatency(20.0)}
    async with one_shot(fgo_simulator) as fgo:
        with pytest.raises(FgoIssueTimeoutError) as raised:
            await fgo.issue_invoice(make_invoice())
    assert raised.value.code in range(1, 8)
    assert issued_count(fgo_simulator) == 0


async def test_drop_before_processing(fgo_simulator: FgoSimulator) -> None:
    fgo_simulator.faults.script(FaultKind.DROP_BEFORE, method=EMITERE, company=TEST_COMPANY)
    async with one_shot(fgo_simulator) as fgo:
        with pytest.raises(FgoConnectError):
            await fgo.issue_invoice(make_invoice())
        # Nothing happened, and the slot is free: the retry may go at once.
        assert issued_count(fgo_simulator) == 0
        issued = await fgo.issue_invoice(make_invoice())
    assert issued.number == "001"
    assert [c.outcome for c in fgo_simulator.calls] == [Outcome.DROPPED_BEFORE, Outcome.SUCCESS]
    assert fgo_simulator.violations() == []


async def test_drop_after_processing(fgo_simulator: FgoSimulator) -> None:
    fgo_simulator.faults.script("drop-after", method=EMITERE, times=2)
    async with one_shot(fgo_simulator) as fgo:
        with pytest.raises(FgoOutcomeUnknownError) as raised:
            await fgo.issue_invoice(make_invoice())
    assert isinstance(raised.value.cause, FgoConnectionLostError)
    # The invoice exists; only its reply was lost.
    assert fgo_simulator.document(TEST_COMPANY, "BV", "001") is not None
    record = fgo_simulator.calls[0]
    assert (record.outcome, record.status, record.fault) == (
        Outcome.DROPPED_AFTER,
        None,
        "drop-after",
    )
    assert record.reply is not None
    assert record.reply["Factura"]["Numar"] == "001"


async def test_a_lost_reply_is_retried_safely_with_duplicate_check(
    fgo_simulator: FgoSimulator,
) -> None:
    fgo_simulator.faults.script("drop-after", method=EMITERE)
    invoice = make_invoice(external_id="1042", check_duplicate=True)
    async with fgo_simulator.client() as fgo:
        issued = await fgo.issue_invoice(invoice)
    # The retry found the first invoice instead of issuing a second one, and returned it.
    assert issued.ref == InvoiceRef(series="BV", number="001")
    assert issued.deduplicated
    assert issued_count(fgo_simulator) == 1


async def test_slow_reply(fgo_simulator: FgoSimulator, virtual_clock: VirtualClock) -> None:
    fgo_simulator.faults.script("slow-reply", method=EMITERE)
    async with one_shot(fgo_simulator, timeout=30.0) as fgo:
        with pytest.raises(FgoOutcomeUnknownError) as raised:
            await fgo.issue_invoice(make_invoice())
        assert isinstance(raised.value.cause, FgoTimeoutError)
        record = fgo_simulator.calls[0]
        assert record.outcome is Outcome.PENDING
        # The server goes on and answers 35 s after the call arrived.
        await asyncio.sleep(10)
    assert record.outcome is Outcome.SUCCESS
    assert record.latency == pytest.approx(35.0)
    assert issued_count(fgo_simulator) == 1


@pytest.mark.parametrize(("kind", "processed"), [("502", True), ("503", False)])
async def test_server_error_pages(fgo_simulator: FgoSimulator, kind: str, processed: bool) -> None:
    fgo_simulator.faults.script(kind)
    async with one_shot(fgo_simulator) as fgo:
        with pytest.raises(FgoOutcomeUnknownError) as raised:
            await fgo.issue_invoice(make_invoice())
    # The client cannot tell a 503 from a 502: both leave the outcome unknown to it.
    error = raised.value.cause
    assert isinstance(error, FgoServerError)
    assert error.status == int(kind)
    assert error.body_excerpt.startswith("<html>")
    assert issued_count(fgo_simulator) == int(processed)


async def test_broken_json(fgo_simulator: FgoSimulator) -> None:
    fgo_simulator.faults.script("broken-json", method=EMITERE)
    async with one_shot(fgo_simulator) as fgo:
        with pytest.raises(FgoOutcomeUnknownError) as raised:
            await fgo.issue_invoice(make_invoice())
    assert isinstance(raised.value.cause, FgoDecodeError)
    assert issued_count(fgo_simulator) == 1
    assert fgo_simulator.calls[0].outcome is Outcome.BROKEN_JSON


async def test_a_burst_of_429s_is_not_the_clients_fault(fgo_simulator: FgoSimulator) -> None:
    fgo_simulator.faults.script("throttle", times=3, retry_after=2)
    async with one_shot(fgo_simulator) as fgo:
        for _ in range(3):
            with pytest.raises(FgoRateLimitedError) as raised:
                await fgo.issue_invoice(make_invoice())
            assert raised.value.retry_after == 2
            await asyncio.sleep(2)
        assert (await fgo.issue_invoice(make_invoice())).number == "001"
    assert fgo_simulator.summary().throttled == 3
    assert fgo_simulator.violations() == []


async def test_rules_match_method_globs_and_companies(
    call: Any, fgo_simulator: FgoSimulator
) -> None:
    fgo_simulator.add_company("87654321", "other-key")
    fgo_simulator.faults.script("503", method="articol/*", company="87654321", times=None)
    assert (await call("articol/gestiune", {}))[0] == 200
    assert (await call("articol/gestiune", {}, company="87654321", key="other-key"))[0] == 503
    await asyncio.sleep(5)
    assert (await call("articol/gestiune", {}, company="87654321", key="other-key"))[0] == 503
    assert (await call("client/list", {"NrPagina": 1}, company="87654321", key="other-key"))[
        0
    ] == 200
    fgo_simulator.faults.clear()
    await asyncio.sleep(5)
    assert (await call("articol/gestiune", {}, company="87654321", key="other-key"))[0] == 200


async def _outcomes_with_seed(seed: int) -> list[int]:
    simulator = FgoSimulator({TEST_COMPANY: "k"}, seed=seed, limits=dict.fromkeys(_BUCKETS, 0.0))
    simulator.faults.random("503", probability=0.3)
    statuses = []
    for _ in range(40):
        reply = await simulator.handle("GET", "/v1/nomenclator/tva")
        statuses.append(reply.status)
    await simulator.aclose()
    return statuses


_BUCKETS = list(Bucket)


async def test_random_faults_are_seeded() -> None:
    first, again, other = (
        await _outcomes_with_seed(7),
        await _outcomes_with_seed(7),
        await _outcomes_with_seed(8),
    )
    assert first == again
    assert first != other
    assert 4 <= first.count(503) <= 20


def test_lognormal_latency_has_its_median_and_p99() -> None:
    model = LogNormalLatency(median=0.3, p99=5.0)
    rng = random.Random(1)
    draws = sorted(model.draw(rng) for _ in range(20000))
    assert draws[10000] == pytest.approx(0.3, rel=0.05)
    assert draws[19800] == pytest.approx(5.0, rel=0.15)


async def test_latency_per_method_is_applied(fgo_simulator: FgoSimulator, call: Any) -> None:
    fgo_simulator.latency = LatencyTable(
        default=FixedLatency(0.1), per_method={EMITERE: FixedLatency(0.7)}
    )
    await call(EMITERE, invoice_payload())
    await call("articol/gestiune", {})
    assert [c.latency for c in fgo_simulator.calls] == [pytest.approx(0.7), pytest.approx(0.1)]


def test_parse_latency_and_faults() -> None:
    assert parse_latency("0.2") == FixedLatency(0.2)
    assert parse_latency("lognormal:0.3:5") == LogNormalLatency(0.3, 5.0)
    with pytest.raises(ValueError, match="lognormal"):
        parse_latency("gamma:1:2")
    rule = parse_fault_rule("drop-after,method=factura/emitere,company=123,times=2")
    assert (rule.fault.kind, rule.method, rule.company, rule.times) == (
        FaultKind.DROP_AFTER,
        "factura/emitere",
        "123",
        2,
    )
    rule = parse_fault_rule("502,probability=0.05")
    assert (rule.times, rule.probability) == (None, 0.05)
    with pytest.raises(ValueError, match="unknown fault settings"):
        parse_fault_rule("502,colour=red")
    with pytest.raises(ValueError, match="meteor"):
        parse_fault_rule("meteor")
    with pytest.raises(ValueError, match="1 to 7"):
        parse_fault_rule("issue-timeout,code=9")
