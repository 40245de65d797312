"""The call discipline on virtual time: rate limits per company and bucket, overlaps, records."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fgo_async.endpoints import Bucket
from fgo_async.protocol import DEFAULT_PATTERNS
from fgo_async.simulator import CallRecord, FgoSimulator, FixedLatency, Outcome, ViolationKind
from fgo_async.simulator.discipline import CallDiscipline
from fgo_async.testing import TEST_COMPANY, TEST_PRIVATE_KEY, VirtualClock
from tests.simulator.sim_helpers import invoice_payload

pytestmark = pytest.mark.usefixtures("virtual_clock")

# One method of each bucket, with a payload it accepts.
BUCKET_CALLS = [
    (Bucket.FACTURA, 1.0, "factura/getstatus", {"Numar": "001", "Serie": "BV"}),
    (Bucket.ARTICOL, 5.0, "articol/get", {"CodArticol": "C1"}),
    (Bucket.ARTICOL_LIST, 30.0, "articol/list", {"NrPagina": 1, "NrArticole": 10}),
    (Bucket.ARTICOL_MODIFICATE, 1800.0, "articol/articolemodificate", {"NumarOre": 24}),
    (Bucket.CLIENT, 5.0, "client/list", {"NrPagina": 1, "NrArticole": 10}),
]


@pytest.mark.parametrize(("bucket", "limit", "method", "payload"), BUCKET_CALLS)
async def test_each_bucket_is_limited(
    call: Any, fgo_simulator: FgoSimulator, bucket: Bucket, limit: float, method: str,
    payload: dict[str, Any],
) -> None:  # fmt: skip
    assert (await call(method, payload))[0] == 200
    await asyncio.sleep(limit - 0.01)
    status, headers, data = await call(method, payload)
    assert status == 429
    assert data["Success"] is False
    assert DEFAULT_PATTERNS.throttle.search(data["Message"])
    assert headers["Retry-After"] == "1"
    await asyncio.sleep(0.01)
    assert (await call(method, payload))[0] == 200
    violations = fgo_simulator.violations()
    assert [(v.kind, v.call.bucket) for v in violations] == [(ViolationKind.RATE, bucket)]


async def test_retry_after_says_how_long_is_left(call: Any) -> None:
    await call("articol/list", {"NrPagina": 1})
    await asyncio.sleep(10)
    status, headers, data = await call("articol/list", {"NrPagina": 1})
    assert (status, headers["Retry-After"]) == (429, "20")
    assert "1 apel la 30 secunde" in data["Message"]


async def test_a_throttled_call_does_not_take_the_slot(call: Any) -> None:
    await call("articol/gestiune", {})
    await asyncio.sleep(4)
    assert (await call("articol/gestiune", {}))[0] == 429
    await asyncio.sleep(1)
    # 5 s after the accepted call, though only 1 s after the throttled one.
    assert (await call("articol/gestiune", {}))[0] == 200


async def test_buckets_and_companies_are_independent(
    call: Any, fgo_simulator: FgoSimulator
) -> None:
    fgo_simulator.add_company("87654321", "other-key")
    assert (await call("articol/gestiune", {}))[0] == 200
    assert (await call("client/list", {"NrPagina": 1}))[0] == 200
    assert (await call("factura/emitere", invoice_payload()))[0] == 200
    assert (await call("articol/gestiune", {}, company="87654321", key="other-key"))[0] == 200
    assert fgo_simulator.violations() == []


async def test_nomenclators_share_one_global_bucket(fgo_simulator: FgoSimulator) -> None:
    assert (await fgo_simulator.handle("GET", "/v1/nomenclator/judet")).status == 200
    assert (await fgo_simulator.handle("GET", "/v1/nomenclator/tva")).status == 429
    await asyncio.sleep(1)
    assert (await fgo_simulator.handle("GET", "/v1/nomenclator/tva")).status == 200


async def test_limits_can_be_overridden(call: Any, fgo_simulator: FgoSimulator) -> None:
    fgo_simulator.discipline.limits[Bucket.ARTICOL_MODIFICATE] = 60.0
    await call("articol/articolemodificate", {})
    await asyncio.sleep(60)
    assert (await call("articol/articolemodificate", {}))[0] == 200


async def test_overlapping_calls_are_counted(
    call: Any, fgo_simulator: FgoSimulator, virtual_clock: VirtualClock
) -> None:
    fgo_simulator.latency = FixedLatency(2.0)
    first = asyncio.ensure_future(call("factura/emitere", invoice_payload()))
    await asyncio.sleep(1.5)
    # Another bucket, so the rate is fine; but the company already has a call in flight.
    second = await call("articol/gestiune", {})
    assert second[0] == 200
    assert (await first)[0] == 200
    violations = fgo_simulator.violations(ViolationKind.OVERLAP)
    assert len(violations) == 1
    assert violations[0].call.method == "articol/gestiune"
    assert fgo_simulator.summary().overlaps == 1
    # One after the other is no overlap.
    await asyncio.sleep(5)
    await call("articol/gestiune", {})
    assert fgo_simulator.summary().overlaps == 1


async def test_strict_mode_refuses_overlaps(call: Any, fgo_simulator: FgoSimulator) -> None:
    fgo_simulator.strict = True
    fgo_simulator.latency = FixedLatency(2.0)
    first = asyncio.ensure_future(call("factura/emitere", invoice_payload()))
    await asyncio.sleep(0.5)
    status, headers, data = await call("articol/gestiune", {})
    assert (status, headers["Retry-After"]) == (429, "1")
    assert "Prea multe apeluri simultane" in data["Message"]
    assert (await first)[0] == 200
    await asyncio.sleep(0.1)
    # The refused call did not take the articol slot.
    assert (await call("articol/gestiune", {}))[0] == 200


async def test_a_well_spaced_client_has_no_violations(
    call: Any, fgo_simulator: FgoSimulator
) -> None:
    fgo_simulator.latency = FixedLatency(0.3)
    for index in range(5):
        await call("factura/emitere", invoice_payload(IdExtern=str(index)))
        await asyncio.sleep(0.7)
    summary = fgo_simulator.summary()
    assert (summary.calls, summary.violations, summary.outcomes) == (
        5,
        0,
        {Outcome.SUCCESS: 5},
    )


async def test_records_times_and_outcome(
    call: Any, fgo_simulator: FgoSimulator, virtual_clock: VirtualClock
) -> None:
    fgo_simulator.latency = FixedLatency(0.25)
    start = virtual_clock.time()
    await call("factura/emitere", invoice_payload())
    record = fgo_simulator.calls[0]
    assert record.arrival == start
    assert record.latency == pytest.approx(0.25)
    assert (record.method, record.company, record.bucket) == (
        "factura/emitere",
        TEST_COMPANY,
        Bucket.FACTURA,
    )
    assert (record.status, record.outcome, record.counted) == (200, Outcome.SUCCESS, True)
    assert record.reply is not None
    assert record.reply["Factura"]["Numar"] == "001"


async def test_records_never_hold_the_hash_or_the_key(
    call: Any, fgo_simulator: FgoSimulator
) -> None:
    payload = invoice_payload(Text=f"oops: {TEST_PRIVATE_KEY}")
    await call("factura/emitere", payload)
    record = fgo_simulator.calls[0]
    assert record.body["Hash"] == "***"
    assert record.body["Text"] == "***"
    shown = repr(fgo_simulator.calls) + repr(record.body) + repr(fgo_simulator)
    shown += repr(fgo_simulator.company(TEST_COMPANY))
    assert TEST_PRIVATE_KEY not in shown
    sent_hash = fgo_simulator.calls[0].body["Hash"]
    assert sent_hash == "***"


async def test_reset_records_keeps_the_books(call: Any, fgo_simulator: FgoSimulator) -> None:
    await call("factura/emitere", invoice_payload())
    await call("factura/emitere", invoice_payload(IdExtern="x"))
    assert len(fgo_simulator.violations()) == 1
    fgo_simulator.reset_records()
    assert (fgo_simulator.calls, fgo_simulator.violations()) == ([], [])
    assert fgo_simulator.document(TEST_COMPANY, "BV", "001") is not None


def test_retry_after_is_not_a_second_too_long_from_float_sums() -> None:
    # On this loop time, 10 s later is 9.999999999996362 s later in floats: 30 s minus that is
    # 20.000000000003638, which a plain ceil turns into 21.
    start = 32759.91834930728
    discipline = CallDiscipline()
    first = CallRecord(index=0, method="articol/list", http_method="POST", arrival=start)
    later = CallRecord(index=1, method="articol/list", http_method="POST", arrival=start + 10.0)
    for record in (first, later):
        record.company, record.bucket = TEST_COMPANY, Bucket.ARTICOL_LIST
    assert discipline.arrive(first) is None
    discipline.leave(first)
    throttle = discipline.arrive(later)
    assert throttle is not None
    assert throttle.retry_after == 20
    assert "Reincercati peste 20 secunde" in throttle.message
