"""The simulator: FGO's books and rules, its call discipline, its latency and its failures.

:class:`FgoSimulator` answers one HTTP call at a time through :meth:`FgoSimulator.handle`, with no
socket: the aiohttp application (:mod:`.server`) and the in-process transport (:mod:`.transport`)
are thin adapters around it. All timing (arrival and reply times, rate limits, latency, the
identical-invoice window) reads ``asyncio.get_running_loop().time()`` and waits with
``asyncio.sleep``, so a test whose loop runs on virtual time drives the simulator too.

A call goes through these steps: decode the body (JSON or form) and record it with its secrets
redacted; admit it under the call discipline (or answer 429); draw its fault, if any; wait its
latency while it is in flight; run the vendor method on the books; deliver the reply, or fail
the way the fault says.

Every step costs the same whatever the number of companies (lookups by key, no scan over the
companies), so one simulator serves thousands of them; ``max_records`` bounds the calls kept.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import logging
import random
from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..endpoints import ENDPOINTS, Bucket, Endpoint
from ..transport import RawResponse
from . import messages
from .assumptions import Assumptions
from .clock import SimulatedClock
from .discipline import BUCKET_LABELS, CallDiscipline, Throttle
from .encoding import dumps_reply
from .faults import DEFAULT_SLOW_REPLY, Fault, FaultKind, FaultPlan
from .latency import LatencyModel, LatencyTable
from .messages import Refusal
from .methods import VendorMethods
from .nomenclators import ItemKey
from .records import CallRecord, DisciplineSummary, Outcome, Violation, ViolationKind
from .state import Company, Document, Plan, StockChange, StoredArticle, Warehouse
from .wire import BodyError, decode_body, redact, text

if TYPE_CHECKING:
    from ..client import FgoClient
    from .server import SimulatorServer
    from .transport import SimulatorTransport

__all__ = [
    "DEFAULT_IDENTICAL_WINDOW",
    "DEFAULT_ISSUE_BUDGET",
    "IN_PROCESS_BASE_URL",
    "MAX_BODY",
    "FgoSimulator",
    "SimulatedDisconnect",
    "method_name",
]

logger = logging.getLogger("fgo_async.simulator")

#: Seconds within which an identical invoice sent again is answered HTTP 409.
DEFAULT_IDENTICAL_WINDOW = 10.0
#: The vendor's time budget for issuing an invoice (v4.9).
DEFAULT_ISSUE_BUDGET = 15.0
#: The root URL in-process clients are given; nothing listens there, the transport never dials.
IN_PROCESS_BASE_URL = "http://127.0.0.1/v1"
#: The largest request body read, in bytes (an invoice of hundreds of lines is well under it).
MAX_BODY = 1024**2

_JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
_HTML_HEADERS = {"Content-Type": "text/html; charset=utf-8"}
_ISSUE = "factura/emitere"


class SimulatedDisconnect(Exception):
    """The simulator drops the connection instead of answering.

    ``processed`` is False when the call was dropped before it was carried out, True when it
    was carried out and only the reply is lost. The HTTP server closes the connection; the
    in-process transport raises FgoConnectError or FgoConnectionLostError.
    """

    def __init__(self, *, processed: bool) -> None:
        when = "after" if processed else "before"
        super().__init__(f"connection dropped {when} processing")
        self.processed = processed


def method_name(path: str) -> str:
    """The vendor method of a path: ``/v1/factura/emitere`` -> ``factura/emitere``."""
    parts = [part for part in path.split("?", 1)[0].split("/") if part]
    return "/".join(parts[-2:])


def _html_page(status: int, title: str) -> bytes:
    # What the vendor's CDN shows when the origin fails: an HTML page, not the API's JSON.
    return (
        f"<html><head><title>{status} {title}</title></head><body>"
        f"<center><h1>{status} {title}</h1></center><hr><center>nginx</center>"
        "</body></html>"
    ).encode()


class FgoSimulator:
    """A local FGO: every vendor method on in-memory books, with the vendor's rules and limits.

    ``companies`` maps each company's CUI to its API private key (or is a list of
    :class:`~fgo_async.simulator.state.Company`). ``strict`` refuses overlapping calls of a
    company (HTTP 429) instead of only counting them. ``limits`` overrides the seconds between
    calls of a bucket (:data:`~fgo_async.simulator.discipline.DEFAULT_LIMITS`). ``latency`` is
    seconds, a :class:`~fgo_async.simulator.latency.LatencyModel`, a mapping of vendor method
    to model (``"*"`` for the rest) or a :class:`~fgo_async.simulator.latency.LatencyTable`.
    ``seed`` makes latency draws and random faults repeatable. ``identical_window`` is how long
    an identical invoice is answered HTTP 409 (0 disables it); ``issue_budget`` the vendor's 15 s;
    ``start_time`` the calendar time at the first call (default: now).

    The vendor's observed behaviours to choose from: ``environment`` words bad credentials as
    the live ``"production"`` (the default) or ``"test"`` environment does, and
    ``auth_failure="exception"`` delivers them as HTTP 500 with a .NET stack trace in the
    message; ``duplicate_reply="factura"`` (the default) names the invoice found by
    ``VerificareDuplicat`` in a ``Factura`` object (series, number, link) besides the message,
    ``"message"`` in the message only; ``nomenclator_code`` names a nomenclator item's code
    (``"Cod"`` as live, ``"Valoare"`` as documented). ``assumptions`` are the simulator's own
    rules, which no vendor document states
    (:class:`~fgo_async.simulator.assumptions.Assumptions`, all in force by default).
    ``max_records`` keeps only the latest calls in :attr:`calls` (None: all of them).

    Used as ``async with FgoSimulator(...) as sim`` it also serves HTTP on ``host``:``port``
    (``127.0.0.1`` and a free port by default; see :attr:`base_url`). Without serving,
    :meth:`transport` and :meth:`client` reach it in-process.
    """

    def __init__(
        self,
        companies: Mapping[str, str] | Iterable[Company] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        allow_remote: bool = False,
        strict: bool = False,
        limits: Mapping[Bucket, float] | None = None,
        latency: LatencyTable | LatencyModel | float | Mapping[str, LatencyModel] | None = None,
        seed: int | None = None,
        identical_window: float = DEFAULT_IDENTICAL_WINDOW,
        issue_budget: float = DEFAULT_ISSUE_BUDGET,
        start_time: datetime.datetime | None = None,
        environment: str = "production",
        auth_failure: str = "refusal",
        duplicate_reply: str = "factura",
        nomenclator_code: ItemKey = "Cod",
        assumptions: Assumptions | None = None,
        max_records: int | None = None,
    ) -> None:
        if max_records is not None and max_records < 1:
            raise ValueError("max_records is at least 1 (or None: keep every call)")
        self.companies: dict[str, Company] = {}
        if isinstance(companies, Mapping):
            for cod_unic, key in companies.items():
                self.add_company(str(cod_unic), key)
        else:
            for company in companies or ():
                self.companies[company.cod_unic] = company
        self.host = host
        self.port = port
        self.allow_remote = allow_remote
        self.issue_budget = issue_budget
        self.discipline = CallDiscipline(limits, strict=strict)
        self._latency = LatencyTable.of(latency)
        self._latency_rng = random.Random(seed)
        self._fault_rng = random.Random(None if seed is None else seed + 1)
        self.faults = FaultPlan(self._fault_rng)
        self.clock = SimulatedClock(start_time)
        #: Every call, in order of arrival (the latest ``max_records`` of them).
        self.calls: list[CallRecord] = []
        self.max_records = max_records
        self._arrived = 0
        self._forgotten: list[CallRecord] = []
        self._forgotten_outcomes: dict[Outcome, int] = {}
        self.methods = VendorMethods(
            self.companies,
            now=self.clock.now,
            loop_time=self.clock.loop_time,
            make_link=self._make_link,
            identical_window=identical_window,
            environment=environment,
            auth_failure=auth_failure,
            duplicate_reply=duplicate_reply,
            nomenclator_code=nomenclator_code,
            assumptions=assumptions,
        )
        self._links: dict[str, Document] = {}
        self._server: SimulatorServer | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def __repr__(self) -> str:
        where = self._server.base_url if self._server is not None else "in-process"
        names = sorted(self.companies) if len(self.companies) <= 5 else len(self.companies)
        return f"<FgoSimulator {where} companies={names} calls={len(self.calls)}>"

    # -- configuration and state --------------------------------------------------------------

    @property
    def strict(self) -> bool:
        """True when overlapping calls are refused, not only counted."""
        return self.discipline.strict

    @strict.setter
    def strict(self, value: bool) -> None:
        self.discipline.strict = value

    @property
    def latency(self) -> LatencyTable:
        """The latency model of each vendor method."""
        return self._latency

    @latency.setter
    def latency(
        self, value: LatencyTable | LatencyModel | float | Mapping[str, LatencyModel] | None
    ) -> None:
        self._latency = LatencyTable.of(value)

    @property
    def assumptions(self) -> Assumptions:
        """The simulator's own rules in force (see :mod:`.assumptions`)."""
        return self.methods.assumptions

    @assumptions.setter
    def assumptions(self, value: Assumptions) -> None:
        self.methods.assumptions = value

    @property
    def identical_window(self) -> float:
        """Seconds within which an identical invoice is answered HTTP 409 (0: never)."""
        return self.methods.identical_window

    @identical_window.setter
    def identical_window(self, value: float) -> None:
        self.methods.identical_window = value

    def add_company(
        self,
        cod_unic: str,
        private_key: str,
        *,
        plan: Plan | str = Plan.ENTERPRISE,
        invoice_series: str = "FCT",
        receipt_series: str = "CH",
        warehouses: Iterable[tuple[str, str]] | None = None,
    ) -> Company:
        """Register a company and its API key; ``warehouses`` are ``(code, name)`` pairs."""
        company = Company(
            cod_unic=cod_unic,
            private_key=private_key,
            plan=Plan(plan),
            invoice_series=invoice_series,
            receipt_series=receipt_series,
        )
        if warehouses is not None:
            company.warehouses = [Warehouse(code=c, name=n) for c, n in warehouses]
        self.companies[cod_unic] = company
        return company

    def company(self, cod_unic: str) -> Company:
        """The books of a company."""
        return self.companies[cod_unic]

    def document(self, cod_unic: str, series: str, number: str) -> Document | None:
        """A live document of a company (invoices first), or None."""
        return self.companies[cod_unic].find(series, number)

    def add_article(
        self,
        cod_unic: str,
        *,
        name: str,
        code: str | None = None,
        unit: str = "BUC",
        unit_price: Decimal | int | str = 0,
        vat_rate: Decimal | int | str = 21,
        stock: Decimal | int | str = 0,
        barcode: str | None = None,
    ) -> StoredArticle:
        """Put an article in a company's books, as if created in FGO's interface."""
        article = StoredArticle(
            name=name,
            code=code,
            unit=unit,
            unit_price=Decimal(unit_price),
            vat_rate=Decimal(vat_rate),
            stock=Decimal(stock),
            barcode=barcode,
        )
        company = self.companies[cod_unic]
        company.articles.append(article)
        company.change_log.append(_change(self.clock, article))
        return article

    def document_for_link(self, token: str) -> Document | None:
        """The document whose PDF link ends in ``token``."""
        return self._links.get(token)

    def _make_link(self, company: Company, document: Document) -> str:
        seed = f"{company.cod_unic}/{document.kind.value}/{document.series}/{document.number}"
        token = hashlib.sha1(
            f"{seed}/{len(self._links)}".encode(), usedforsecurity=False
        ).hexdigest()[:24]
        self._links[token] = document
        root = self._server.base_url if self._server is not None else IN_PROCESS_BASE_URL
        return f"{root}/document/{token}.pdf"

    # -- what tests assert on -----------------------------------------------------------------

    def violations(self, kind: ViolationKind | str | None = None) -> list[Violation]:
        """The client's breaches of the call discipline (rate and overlap), in order."""
        found = self.discipline.violations
        if kind is None:
            return list(found)
        wanted = ViolationKind(kind)
        return [v for v in found if v.kind is wanted]

    def summary(self) -> DisciplineSummary:
        """Counts of calls, violations, throttles and outcomes (since the start or the last
        :meth:`reset_records`, the calls no longer kept under ``max_records`` included)."""
        self._settle_forgotten()
        return DisciplineSummary.of(
            self.calls, self.discipline.violations, earlier=self._forgotten_outcomes
        )

    def calls_to(self, method: str, company: str | None = None) -> list[CallRecord]:
        """The calls of one vendor method (and company)."""
        return [
            c
            for c in self.calls
            if c.method == method and (company is None or c.company == company)
        ]

    def reset_records(self) -> None:
        """Forget the calls and violations recorded so far (the books and limits stay)."""
        self.calls.clear()
        self._forgotten.clear()
        self._forgotten_outcomes.clear()
        self.discipline.violations.clear()

    def _remember(self, record: CallRecord) -> None:
        self.calls.append(record)
        limit = self.max_records
        if limit is not None and len(self.calls) > limit:
            # Forget the older half at once: amortised O(1) per call, not a shift per call.
            cut = len(self.calls) - limit // 2
            self._forgotten.extend(self.calls[:cut])
            del self.calls[:cut]
            self._settle_forgotten()

    def _settle_forgotten(self) -> None:
        # Forgotten calls still count in the summary once they have ended.
        pending = []
        for record in self._forgotten:
            if record.outcome is Outcome.PENDING and record.reply_time is None:
                pending.append(record)
            else:
                outcome = record.outcome
                self._forgotten_outcomes[outcome] = self._forgotten_outcomes.get(outcome, 0) + 1
        self._forgotten = pending

    # -- the entry point ----------------------------------------------------------------------

    async def handle(
        self,
        http_method: str,
        path: str,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> RawResponse:
        """Answer one HTTP call as FGO would. ``path`` is the URL path (``/v1/factura/emitere``).

        Raises :class:`SimulatedDisconnect` when a fault drops the connection.
        """
        loop = asyncio.get_running_loop()
        record = CallRecord(
            index=self._arrived,
            method=method_name(path),
            http_method=http_method.upper(),
            arrival=loop.time(),
        )
        self._arrived += 1
        self._remember(record)
        endpoint = ENDPOINTS.get(record.method)
        if endpoint is not None:
            record.bucket = endpoint.bucket
        try:
            reply = await self._serve(record, endpoint, query or {}, headers or {}, body)
        except SimulatedDisconnect as drop:
            record.reply_time = loop.time()
            record.outcome = Outcome.DROPPED_AFTER if drop.processed else Outcome.DROPPED_BEFORE
            self._log(record)
            raise
        except BaseException:
            # Cancelled with its server or its client: the outcome stays PENDING.
            record.reply_time = loop.time()
            raise
        self._log(record)
        return reply

    async def _serve(
        self,
        record: CallRecord,
        endpoint: Endpoint[Any, Any] | None,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> RawResponse:
        if endpoint is None:
            message = f"Metoda {record.method} nu exista."
            return self._json(
                record, 404, {"Success": False, "Message": message}, Outcome.NOT_FOUND
            )
        # Nomenclators answer POST too, as the live vendor does; the other methods POST only.
        verbs = ("GET", "POST") if endpoint.bucket is Bucket.NOMENCLATOR else ("POST",)
        if record.http_method not in verbs:
            message = f"Metoda {record.method} se apeleaza prin {' sau '.join(verbs)}."
            return self._json(
                record, 405, {"Success": False, "Message": message}, Outcome.NOT_FOUND
            )
        if len(body) > MAX_BODY:
            message = f"Cerere invalida: corpul cererii depaseste {MAX_BODY} octeti."
            return self._json(record, 413, {"Success": False, "Message": message}, Outcome.REFUSED)
        if record.http_method == "GET" and body.strip():
            # The vendor's CDN refuses a GET with a body before the API sees it.
            return self._page(record, 403, "Forbidden", Outcome.REFUSED)
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        try:
            payload: dict[str, Any] = dict(query) if endpoint.bucket is Bucket.NOMENCLATOR else {}
            if record.http_method == "POST":
                payload.update(decode_body(body, content_type))
        except BodyError as error:
            refusal = {"Success": False, "Message": f"Cerere invalida: {error}"}
            return self._json(record, 400, refusal, Outcome.REFUSED)
        if endpoint.signed:
            record.company = text(payload.get("CodUnic"))
        record.body = redact(payload, self._secrets_of(record.company))
        throttle = self.discipline.arrive(record)
        try:
            if throttle is not None:
                return self._throttled(record, throttle)
            return await self._process(record, endpoint, payload)
        finally:
            self.discipline.leave(record)

    def _secrets_of(self, cod_unic: str | None) -> list[str]:
        # The key a body may hold by mistake is its own company's: one lookup, not a scan of
        # every company's key (with 10,000 companies that scan was most of a call's time).
        company = self.companies.get(cod_unic) if cod_unic is not None else None
        return [company.private_key] if company is not None else []

    async def _process(
        self,
        record: CallRecord,
        endpoint: Endpoint[Any, Any],
        payload: Mapping[str, Any],
    ) -> RawResponse:
        fault = self.faults.draw(record)
        if fault is not None:
            record.fault = fault.kind.value
            early = self._fault_before_processing(record, fault)
            if early is not None:
                return early
        delay = self._latency.for_method(record.method).draw(self._latency_rng)
        if record.method == _ISSUE and delay > self.issue_budget and fault is None:
            # Past its budget the vendor gives up on the invoice and says so (v4.9).
            fault = Fault(kind=FaultKind.ISSUE_TIMEOUT)
            record.fault = fault.kind.value
        if fault is not None and fault.kind is FaultKind.ISSUE_TIMEOUT:
            await _sleep(self.issue_budget if fault.delay is None else fault.delay)
            code = fault.code or self._fault_rng.randint(1, 7)
            reply = {"Success": False, "Message": messages.issue_timeout(code)}
            return self._json(record, 200, reply, Outcome.ISSUE_TIMEOUT)
        await _sleep(delay)
        status, reply, outcome = self._run(endpoint, payload)
        record.reply = reply
        if fault is None:
            return self._json(record, status, reply, outcome)
        return await self._fault_after_processing(record, fault, status, reply, outcome)

    def _fault_before_processing(self, record: CallRecord, fault: Fault) -> RawResponse | None:
        kind = fault.kind
        if kind.processed or kind is FaultKind.ISSUE_TIMEOUT:
            return None
        # The vendor never counted this call: it does not take its bucket's slot.
        self.discipline.give_back_slot(record)
        if kind is FaultKind.DROP_BEFORE:
            raise SimulatedDisconnect(processed=False)
        if kind is FaultKind.EXCEPTION:
            trace = messages.dotnet_exception(messages.UNKNOWN_COMPANY_TEST, record.method)
            return self._json(
                record, 500, {"Success": False, "Message": trace}, Outcome.SERVER_ERROR
            )
        if kind is FaultKind.THROTTLE:
            bucket = record.bucket or Bucket.FACTURA
            limit = self.discipline.limits[bucket]
            throttle = Throttle(
                message=messages.throttled(BUCKET_LABELS[bucket], limit, fault.retry_after),
                retry_after=fault.retry_after,
            )
            return self._throttled(record, throttle)
        return self._page(record, 503, "Service Temporarily Unavailable", Outcome.SERVER_ERROR)

    async def _fault_after_processing(
        self,
        record: CallRecord,
        fault: Fault,
        status: int,
        reply: dict[str, Any],
        outcome: Outcome,
    ) -> RawResponse:
        kind = fault.kind
        if kind is FaultKind.DROP_AFTER:
            record.message = _message(reply)
            raise SimulatedDisconnect(processed=True)
        if kind is FaultKind.SERVER_ERROR:
            # The call's own reply stays in the record: that is what the client lost.
            self._finish(record, 500, Outcome.SERVER_ERROR, messages.SERVER_ERROR)
            error = {"Success": False, "Message": messages.SERVER_ERROR}
            return RawResponse(status=500, headers=dict(_JSON_HEADERS), body=dumps_reply(error))
        if kind is FaultKind.BAD_GATEWAY:
            record.message = _message(reply)
            return self._page(record, 502, "Bad Gateway", Outcome.SERVER_ERROR)
        if kind is FaultKind.BROKEN_JSON:
            whole = dumps_reply(reply)
            self._finish(record, status, Outcome.BROKEN_JSON, _message(reply))
            return RawResponse(
                status=status, headers=dict(_JSON_HEADERS), body=whole[: len(whole) // 2]
            )
        await _sleep(DEFAULT_SLOW_REPLY if fault.delay is None else fault.delay)
        return self._json(record, status, reply, outcome)

    def _run(
        self, endpoint: Endpoint[Any, Any], payload: Mapping[str, Any]
    ) -> tuple[int, dict[str, Any], Outcome]:
        try:
            if endpoint.signed:
                reply = self.methods.serve(endpoint.name, payload)
            else:
                reply = self.methods.nomenclator(endpoint.name.split("/", 1)[1], payload)
        except Refusal as refusal:
            outcome = Outcome.CONFLICT if refusal.status == 409 else Outcome.REFUSED
            refused = {"Success": False, "Message": refusal.message, **refusal.extra}
            return refusal.status, refused, outcome
        return 200, reply, Outcome.SUCCESS

    # -- replies ------------------------------------------------------------------------------

    def _finish(
        self, record: CallRecord, status: int, outcome: Outcome, message: str | None
    ) -> None:
        record.reply_time = asyncio.get_running_loop().time()
        record.status = status
        record.outcome = outcome
        record.message = message

    def _json(
        self,
        record: CallRecord,
        status: int,
        reply: dict[str, Any],
        outcome: Outcome,
        headers: Mapping[str, str] | None = None,
    ) -> RawResponse:
        record.reply = reply
        self._finish(record, status, outcome, _message(reply))
        return RawResponse(
            status=status,
            headers={**_JSON_HEADERS, **(headers or {})},
            body=dumps_reply(reply),
        )

    def _page(self, record: CallRecord, status: int, title: str, outcome: Outcome) -> RawResponse:
        self._finish(record, status, outcome, record.message or f"{status} {title}")
        return RawResponse(
            status=status, headers=dict(_HTML_HEADERS), body=_html_page(status, title)
        )

    def _throttled(self, record: CallRecord, throttle: Throttle) -> RawResponse:
        reply = {"Success": False, "Message": throttle.message}
        headers = {"Retry-After": str(throttle.retry_after)}
        return self._json(record, 429, reply, Outcome.THROTTLED, headers)

    @staticmethod
    def _log(record: CallRecord) -> None:
        # Method, company and outcome only: bodies hold customer data, never logged.
        logger.debug(
            "%s %s company=%s -> %s %s%s",
            record.http_method,
            record.method,
            record.company,
            record.status if record.status is not None else "-",
            record.outcome.value,
            f" (fault {record.fault})" if record.fault else "",
            extra={
                "fgo_method": record.method,
                "fgo_company": record.company,
                "fgo_outcome": record.outcome.value,
                "fgo_status": record.status,
            },
        )

    # -- reaching it --------------------------------------------------------------------------

    def transport(self) -> SimulatorTransport:
        """A transport that hands calls to this simulator in-process, with no socket."""
        from .transport import SimulatorTransport

        return SimulatorTransport(self)

    def client(
        self,
        cod_unic: str | None = None,
        *,
        http: bool = False,
        platform_url: str = "https://shop.example.ro",
        **options: Any,
    ) -> FgoClient:
        """An :class:`~fgo_async.FgoClient` for one of the companies (the first by default),
        in-process, or over HTTP with ``http=True`` (the simulator must be serving).

        ``options`` go to the client (``scheduler=``, ``wire_format=``, ``timeout=``...).
        """
        from ..client import FgoClient

        if cod_unic is None:
            if not self.companies:
                raise ValueError("the simulator has no company; add one first")
            cod_unic = next(iter(self.companies))
        company = self.companies[cod_unic]
        if http:
            return FgoClient(
                cod_unic=cod_unic,
                private_key=company.private_key,
                platform_url=platform_url,
                base_url=self.base_url,
                **options,
            )
        return FgoClient(
            cod_unic=cod_unic,
            private_key=company.private_key,
            platform_url=platform_url,
            base_url=IN_PROCESS_BASE_URL,
            transport=self.transport(),
            **options,
        )

    def track(self, task: asyncio.Task[Any]) -> None:
        """Keep a call running on its own until it ends (a client that gave up on a reply
        does not stop the server's work), and cancel it when the simulator closes."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def serving(self) -> bool:
        """True while the HTTP server runs."""
        return self._server is not None

    @property
    def base_url(self) -> str:
        """The root URL of the API over HTTP (``http://127.0.0.1:PORT/v1``) while serving."""
        if self._server is None:
            raise RuntimeError(
                "the simulator is not serving HTTP: use it with 'async with', or call start(); "
                "in-process clients come from sim.client() or sim.transport()"
            )
        return self._server.base_url

    async def start(self) -> str:
        """Serve the API over HTTP; returns the base URL."""
        if self._server is None:
            from .server import SimulatorServer

            server = SimulatorServer(
                self, host=self.host, port=self.port, allow_remote=self.allow_remote
            )
            await server.start()
            self._server = server
        return self._server.base_url

    async def aclose(self) -> None:
        """Stop serving and cancel the calls still being processed."""
        if self._server is not None:
            server, self._server = self._server, None
            await server.stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> FgoSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def _change(clock: SimulatedClock, article: StoredArticle) -> StockChange:
    try:
        at = clock.now()
    except RuntimeError:  # no running loop: an article added before the simulator runs
        at = datetime.datetime.now().replace(microsecond=0)
    return StockChange(at=at, article=article)


def _message(reply: Mapping[str, Any]) -> str | None:
    message = reply.get("Message")
    return None if message is None else str(message)


async def _sleep(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)
