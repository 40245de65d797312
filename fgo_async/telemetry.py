"""OpenTelemetry traces and metrics, when the application has them (extra ``fgo_async[otel]``).

Nothing here costs anything when OpenTelemetry is not installed or the application set no
tracer or meter provider: :func:`default_telemetry` is then disabled, and the client and the
scheduler skip every step. With a provider set (``trace.set_tracer_provider(...)``, before the
clients and schedulers are made), the library records, following the stable HTTP client
semantic conventions:

* a span per logical call, named after the vendor method (``factura/emitere``), with the
  company and the call's identity (series, number, external id) as attributes, never the key
  or a Hash; under it, a ``CLIENT`` span per attempt (``POST``), with ``http.request.method``,
  ``url.full``, ``server.address``, ``server.port``, ``http.response.status_code``,
  ``http.request.resend_count`` on retries and ``error.type``. While an attempt's span is open,
  ``opentelemetry-instrumentation-aiohttp-client`` is told to stand aside (the suppression key
  of the HTTP instrumentations), so the request is not traced twice.
* metrics: ``http.client.request.duration`` (histogram, s); ``fgo.lane.wait`` (histogram of
  the time a call waited for its lane, s, by bucket); ``fgo.calls.queued`` (calls waiting, by
  bucket); ``fgo.retries`` (by reason); ``fgo.throttles``; ``fgo.outcomes.unknown`` (alert
  above zero: each one is a call to reconcile); ``fgo.journal.unsettled`` (journal rows sent but
  not settled); ``fgo.ledger.leases_lost``. The company is a metric attribute only with
  ``company_attribute=True`` (a thousand companies make a thousand series).
"""

from __future__ import annotations

import contextlib
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .errors import CallIdentity, FgoError, FgoRateLimitedError

if TYPE_CHECKING:
    from .protocol import Request
    from .scheduling.events import SchedulerEvent
    from .scheduling.scheduler import Scheduler

__all__ = ["AttemptRecord", "Telemetry", "default_telemetry"]

try:
    from opentelemetry import context as otel_context
    from opentelemetry import metrics as otel_metrics
    from opentelemetry import propagate, trace
    from opentelemetry.trace import SpanKind, Status, StatusCode

    OTEL_AVAILABLE = True
except ImportError:  # the extra is not installed: telemetry stays off
    OTEL_AVAILABLE = False

_INSTRUMENTATION = "fgo_async"
# The context key by which HTTP client instrumentations (aiohttp-client among them) are told
# that a library traces its own requests.
_SUPPRESS_HTTP: Any = (
    getattr(otel_context, "_SUPPRESS_HTTP_INSTRUMENTATION_KEY", None) if OTEL_AVAILABLE else None
)


class AttemptRecord:
    """What an attempt's span learns while the request is in flight."""

    __slots__ = ("error", "status")

    def __init__(self) -> None:
        self.status: int | None = None
        self.error: BaseException | None = None


class Telemetry:
    """Traces and metrics through OpenTelemetry's providers (the global ones by default).

    ``enabled`` is False when OpenTelemetry is missing or no provider was given or set: every
    method then returns at once. ``company_attribute`` adds the company to metric attributes.
    """

    def __init__(
        self,
        *,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        company_attribute: bool = False,
    ) -> None:
        self.company_attribute = company_attribute
        self.tracing = False
        self.measuring = False
        self._schedulers: weakref.WeakSet[Scheduler] = weakref.WeakSet()
        if not OTEL_AVAILABLE:
            return
        tracer_provider = tracer_provider or trace.get_tracer_provider()
        meter_provider = meter_provider or otel_metrics.get_meter_provider()
        # The API's proxies stand in until an application sets a provider: nothing to record.
        self.tracing = not isinstance(tracer_provider, trace.ProxyTracerProvider)
        self.measuring = type(meter_provider).__name__ != "_ProxyMeterProvider"
        if self.tracing:
            self._tracer = tracer_provider.get_tracer(_INSTRUMENTATION)
        if self.measuring:
            self._meter(meter_provider.get_meter(_INSTRUMENTATION))

    @property
    def enabled(self) -> bool:
        """True when anything is recorded."""
        return self.tracing or self.measuring

    def _meter(self, meter: Any) -> None:
        self._duration = meter.create_histogram(
            "http.client.request.duration", unit="s", description="Duration of HTTP requests"
        )
        self._lane_wait = meter.create_histogram(
            "fgo.lane.wait", unit="s", description="Time a call waited for its company's lane"
        )
        self._retries = meter.create_counter("fgo.retries", description="Calls tried again")
        self._throttles = meter.create_counter(
            "fgo.throttles", description="Calls the vendor throttled"
        )
        self._unknown = meter.create_counter(
            "fgo.outcomes.unknown",
            description="Calls that may have been processed, whose outcome nobody knows",
        )
        self._unsettled = meter.create_up_down_counter(
            "fgo.journal.unsettled", description="Journal rows sent but not settled"
        )
        self._leases_lost = meter.create_counter(
            "fgo.ledger.leases_lost", description="Leases that expired before their call ended"
        )
        meter.create_observable_up_down_counter(
            "fgo.calls.queued",
            callbacks=[self._observe_queued],
            description="Calls waiting for their company's lane",
        )

    # -- traces ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def call_span(self, identity: CallIdentity) -> Iterator[None]:
        """The span of one logical call (its waiting, attempts and retries)."""
        if not self.tracing:
            yield
            return
        with self._tracer.start_as_current_span(
            identity.method, attributes=_identity_attributes(identity)
        ) as span:
            try:
                yield
            except FgoError as error:
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
                span.set_attribute("error.type", type(error).__name__)
                span.set_attribute("fgo.outcome_known", error.outcome_known)
                raise

    @contextlib.contextmanager
    def attempt_span(self, request: Request, attempt: int) -> Iterator[AttemptRecord]:
        """The client span of one attempt, and its ``http.client.request.duration``."""
        record = AttemptRecord()
        if not self.enabled:
            yield record
            return
        parts = urlsplit(request.url)
        attributes: dict[str, Any] = {
            "http.request.method": request.method,
            "server.address": parts.hostname or "",
            "server.port": parts.port or (443 if parts.scheme == "https" else 80),
        }
        started = time.perf_counter()
        span_manager: Any = contextlib.nullcontext()
        if self.tracing:
            span_attributes = {**attributes, "url.full": _url_without_secrets(request.url)}
            if attempt > 1:
                span_attributes["http.request.resend_count"] = attempt - 1
            span_manager = self._tracer.start_as_current_span(
                request.method, kind=SpanKind.CLIENT, attributes=span_attributes
            )
        token = None
        with span_manager as span:
            if _SUPPRESS_HTTP is not None:
                token = otel_context.attach(otel_context.set_value(_SUPPRESS_HTTP, True))
            try:
                yield record
            finally:
                if token is not None:
                    otel_context.detach(token)
                self._end_attempt(span, record, attributes, time.perf_counter() - started)

    def _end_attempt(
        self, span: Any, record: AttemptRecord, attributes: dict[str, Any], seconds: float
    ) -> None:
        if record.status is not None:
            attributes["http.response.status_code"] = record.status
        error_type = None
        if record.error is not None:
            error_type = type(record.error).__name__
        elif record.status is not None and record.status >= 400:
            error_type = str(record.status)
        if error_type is not None:
            attributes["error.type"] = error_type
        if span is not None:
            if record.status is not None:
                span.set_attribute("http.response.status_code", record.status)
            if error_type is not None:
                span.set_attribute("error.type", error_type)
                span.set_status(Status(StatusCode.ERROR, error_type))
        if self.measuring:
            self._duration.record(seconds, attributes)

    def inject(self, headers: dict[str, str]) -> None:
        """Add the trace context to a request's headers (``traceparent``)."""
        if self.tracing:
            propagate.inject(headers)

    # -- metrics -----------------------------------------------------------------------------

    def watch(self, scheduler: Scheduler) -> None:
        """Measure a scheduler: its events feed the histograms and counters."""
        if self.measuring:
            self._schedulers.add(scheduler)
            scheduler.add_event_hook(self.on_event)

    def on_event(self, event: SchedulerEvent) -> None:
        """A scheduler event, as metrics."""
        from .scheduling.events import EventKind

        attributes = self._attributes(event.identity, bucket=event.bucket.value)
        if event.kind is EventKind.STARTED and event.wait is not None:
            self._lane_wait.record(event.wait, attributes)
        elif event.kind is EventKind.RETRYING:
            self._retries.add(1, {**attributes, "fgo.retry.reason": event.reason or ""})
        elif event.kind is EventKind.FINISHED and isinstance(event.error, FgoRateLimitedError):
            self._throttles.add(1, attributes)
        elif event.kind is EventKind.ABANDONED:
            self._unknown.add(1, attributes)

    def outcome_unknown(self, identity: CallIdentity | None) -> None:
        """Count a call that ended with its outcome unknown."""
        if self.measuring:
            self._unknown.add(1, self._attributes(identity))

    def journal_unsettled(self, change: int) -> None:
        """Journal rows sent (+1) or settled (-1)."""
        if self.measuring:
            self._unsettled.add(change)

    def lease_lost(self, company: str | None) -> None:
        """A ledger lease that expired before its call ended."""
        if self.measuring:
            self._leases_lost.add(1, self._company(company))

    def _observe_queued(self, options: Any) -> Iterable[Any]:
        totals: dict[str, int] = {}
        for scheduler in list(self._schedulers):
            for per_bucket in scheduler.stats().queued.values():
                for bucket, count in per_bucket.items():
                    totals[bucket.value] = totals.get(bucket.value, 0) + count
        return [
            otel_metrics.Observation(count, {"fgo.bucket": bucket})
            for bucket, count in totals.items()
        ]

    def _attributes(self, identity: CallIdentity | None, **extra: str) -> dict[str, str]:
        attributes = {f"fgo.{key}": value for key, value in extra.items()}
        if identity is not None:
            attributes["fgo.method"] = identity.method
            if self.company_attribute and identity.company:
                attributes["fgo.company"] = identity.company
        return attributes

    def _company(self, company: str | None) -> Mapping[str, str]:
        return {"fgo.company": company} if self.company_attribute and company else {}


def _identity_attributes(identity: CallIdentity) -> dict[str, str]:
    attributes = {"fgo.method": identity.method}
    for name in ("company", "series", "number", "external_id"):
        value = getattr(identity, name)
        if value:
            attributes[f"fgo.{name}"] = value
    return attributes


def _url_without_secrets(url: str) -> str:
    # The API's URLs carry no secret (the Hash travels in the body); user info, if someone
    # put it in a base URL, is dropped as the conventions ask.
    parts = urlsplit(url)
    if parts.username or parts.password:
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        parts = parts._replace(netloc=netloc)
    return parts.geturl()


_DEFAULT: list[tuple[Any, Any, Telemetry]] = []


def default_telemetry() -> Telemetry:
    """The telemetry of the global OpenTelemetry providers (disabled when none is set)."""
    if not OTEL_AVAILABLE:
        if not _DEFAULT:
            _DEFAULT.append((None, None, Telemetry()))
        return _DEFAULT[0][2]
    tracer_provider = trace.get_tracer_provider()
    meter_provider = otel_metrics.get_meter_provider()
    if _DEFAULT and _DEFAULT[0][0] is tracer_provider and _DEFAULT[0][1] is meter_provider:
        return _DEFAULT[0][2]
    telemetry = Telemetry(tracer_provider=tracer_provider, meter_provider=meter_provider)
    _DEFAULT[:] = [(tracer_provider, meter_provider, telemetry)]
    return telemetry
