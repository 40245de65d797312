"""OpenTelemetry: the spans and metrics of a batch with injected faults, read with the SDK's
in-memory exporter and reader, agree with what the simulator recorded."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from fgo_async import FgoOutcomeUnknownError, IssuedInvoice
from fgo_async.scheduling import Scheduler
from fgo_async.signing import compute_hash
from fgo_async.simulator import FgoSimulator
from fgo_async.telemetry import Telemetry, default_telemetry
from fgo_async.testing import TEST_COMPANY, TEST_PRIVATE_KEY
from fgo_async.virtual_time import run
from tests.simulator.sim_helpers import make_invoice


class Recorded:
    """An SDK tracer and meter provider that keep everything in memory."""

    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.telemetry = Telemetry(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider
        )

    def finished(self) -> tuple[ReadableSpan, ...]:
        return tuple(self.spans.get_finished_spans())

    def metrics(self) -> dict[str, list[Any]]:
        found: dict[str, list[Any]] = {}
        data = self.reader.get_metrics_data()
        assert data is not None
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found.setdefault(metric.name, []).extend(metric.data.data_points)
        return found

    def total(self, name: str) -> float:
        return sum(point.value for point in self.metrics().get(name, []))


def test_a_faulty_batch_gives_the_spans_retries_and_unknowns_the_simulator_saw() -> None:
    recorded = Recorded()

    async def main() -> tuple[list[Any], FgoSimulator]:
        sim = FgoSimulator({TEST_COMPANY: TEST_PRIVATE_KEY}, seed=3)
        sim.faults.script("drop-after", method="factura/emitere", times=3)
        sim.faults.script("throttle", method="factura/emitere", times=2)
        scheduler = Scheduler(telemetry=recorded.telemetry, seed=1)
        async with sim.client(scheduler=scheduler, telemetry=recorded.telemetry) as fgo:
            keyed = [make_invoice(external_id=f"o{i}", check_duplicate=True) for i in range(6)]
            keyless = [make_invoice(text=f"fara cheie {i}") for i in range(2)]
            outcomes = await fgo.issue_many([*keyless, *keyed])
        return outcomes, sim

    outcomes, sim = run(main())
    issue_calls = sim.calls_to("factura/emitere")
    # The simulator's books: the faults hit the first calls (the two keyless ones and one keyed
    # one were dropped after being processed); every keyed invoice ended issued.
    assert [type(o) for o in outcomes[:2]] == [FgoOutcomeUnknownError] * 2
    assert all(isinstance(o, IssuedInvoice) for o in outcomes[2:])

    spans = recorded.finished()
    calls = [s for s in spans if s.name == "factura/emitere"]
    attempts = [s for s in spans if s.kind is SpanKind.CLIENT]
    assert len(calls) == len(outcomes)  # one span per logical call
    assert len(attempts) == len(issue_calls)  # one client span per request the vendor saw
    for attempt in attempts:
        assert attempt.parent is not None
        parent = next(c for c in calls if c.context.span_id == attempt.parent.span_id)
        assert parent.name == "factura/emitere"
        assert attempt.attributes is not None
        assert attempt.attributes["http.request.method"] == "POST"
        assert str(attempt.attributes["url.full"]).endswith("/factura/emitere")
    resent = Counter(
        int((s.attributes or {}).get("http.request.resend_count", 0)) for s in attempts
    )
    retries = len(issue_calls) - len(outcomes)
    assert sum(count for resend, count in resent.items() if resend > 0) == retries
    throttled = [
        s for s in attempts if (s.attributes or {}).get("http.response.status_code") == 429
    ]
    assert len(throttled) == 2
    unknown_calls = [s for s in calls if (s.attributes or {}).get("fgo.outcome_known") is False]
    assert len(unknown_calls) == 2

    assert recorded.total("fgo.retries") == retries
    assert recorded.total("fgo.throttles") == 2
    assert recorded.total("fgo.outcomes.unknown") == 2
    durations = recorded.metrics()["http.client.request.duration"]
    assert sum(point.count for point in durations) == len(issue_calls)
    waits = recorded.metrics()["fgo.lane.wait"]
    assert sum(point.count for point in waits) == len(issue_calls)


def test_no_span_or_metric_holds_the_key_or_a_hash() -> None:
    recorded = Recorded()

    async def main() -> None:
        sim = FgoSimulator({TEST_COMPANY: TEST_PRIVATE_KEY})
        scheduler = Scheduler(telemetry=recorded.telemetry)
        async with sim.client(scheduler=scheduler, telemetry=recorded.telemetry) as fgo:
            await fgo.issue_invoice(make_invoice(external_id="x1", check_duplicate=True))

    run(main())
    digest = compute_hash(TEST_COMPANY, TEST_PRIVATE_KEY, make_invoice().customer.name)
    everything = repr([(s.name, dict(s.attributes or {})) for s in recorded.finished()])
    everything += repr(recorded.metrics())
    assert TEST_PRIVATE_KEY not in everything
    assert digest not in everything
    assert "fgo.company" not in repr(recorded.metrics())  # opt-in only


@pytest.mark.realtime
async def test_beside_the_aiohttp_instrumentation_a_request_is_traced_once() -> None:
    recorded = Recorded()
    instrumentor = AioHttpClientInstrumentor()
    instrumentor.instrument(tracer_provider=recorded.tracer_provider)
    try:
        async with FgoSimulator({TEST_COMPANY: TEST_PRIVATE_KEY}) as sim:
            scheduler = Scheduler(telemetry=recorded.telemetry)
            async with sim.client(
                http=True, scheduler=scheduler, telemetry=recorded.telemetry
            ) as fgo:
                await fgo.issue_invoice(make_invoice())
            # Without our span, the instrumentation traces the same kind of request itself.
            import aiohttp

            async with aiohttp.ClientSession() as session, session.get(sim.base_url + "/x"):
                pass
    finally:
        instrumentor.uninstrument()
    client_spans = [s for s in recorded.finished() if s.kind is SpanKind.CLIENT]
    ours = [s for s in client_spans if s.instrumentation_scope.name == "fgo_async"]
    theirs = [s for s in client_spans if s.instrumentation_scope.name != "fgo_async"]
    assert len(ours) == 1
    assert len(theirs) == 1  # only the request made outside fgo_async
    assert ours[0].attributes is not None
    assert ours[0].attributes["http.response.status_code"] == 200


def test_without_a_provider_nothing_is_recorded_and_no_span_is_made() -> None:
    telemetry = default_telemetry()
    assert not telemetry.enabled  # the tests set no global provider

    async def main() -> None:
        sim = FgoSimulator({TEST_COMPANY: TEST_PRIVATE_KEY})
        scheduler = Scheduler()
        assert scheduler.event_hook is None  # no metrics hook either
        async with sim.client(scheduler=scheduler) as fgo:
            await fgo.issue_invoice(make_invoice())

    run(main())


def test_the_company_is_a_metric_attribute_only_when_asked() -> None:
    recorded = Recorded()
    telemetry = Telemetry(
        tracer_provider=recorded.tracer_provider,
        meter_provider=recorded.meter_provider,
        company_attribute=True,
    )

    async def main() -> None:
        sim = FgoSimulator({TEST_COMPANY: TEST_PRIVATE_KEY})
        async with sim.client(scheduler=Scheduler(telemetry=telemetry), telemetry=telemetry) as fgo:
            await fgo.issue_invoice(make_invoice())
            await asyncio.sleep(0)

    run(main())
    waits = recorded.metrics()["fgo.lane.wait"]
    assert {dict(point.attributes).get("fgo.company") for point in waits} == {TEST_COMPANY}


def test_every_log_record_of_the_library_carries_its_fields_and_no_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        sim = FgoSimulator({TEST_COMPANY: TEST_PRIVATE_KEY}, seed=3)
        sim.faults.script("drop-after", method="factura/emitere", times=2)
        sim.faults.script("throttle", method="factura/emitere", times=1)
        async with sim.client(scheduler=Scheduler(seed=1)) as fgo:
            batch = [make_invoice(external_id=f"o{i}", check_duplicate=True) for i in range(4)]
            await fgo.issue_many([make_invoice(text="fara cheie"), *batch])

    with caplog.at_level("DEBUG", logger="fgo_async"):
        run(main())
    records = [r for r in caplog.records if r.name.startswith("fgo_async")]
    assert {r.levelname for r in records} >= {"DEBUG", "INFO", "WARNING"}
    for record in records:
        fields = {k: v for k, v in vars(record).items() if k.startswith("fgo_")}
        assert fields.get("fgo_method") or fields.get("fgo_company"), record.getMessage()
        assert TEST_PRIVATE_KEY not in record.getMessage() + repr(fields)
    retried = [r for r in records if getattr(r, "fgo_outcome", None) == "retrying"]
    assert retried
    assert all(isinstance(r.fgo_attempt, int) for r in retried)  # type: ignore[attr-defined]
    unknown = [r for r in records if getattr(r, "fgo_outcome", None) == "gave up"]
    assert unknown  # the keyless invoice's lost reply is not retried, and says so


def test_the_package_logger_has_a_null_handler() -> None:
    import logging

    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("fgo_async").handlers)
