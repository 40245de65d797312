"""FgoClient: one coroutine method per vendor method, for one company.

A call flows one way: the request model is validated locally (nothing is queued when it is not
valid), the protocol core signs and encodes it, the scheduler decides when it is sent and whether
a failure is tried again, the transport sends it, and the protocol core turns the reply into a
typed result or a typed error.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import enum
import functools
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

import aiohttp
import attrs

from . import endpoints as ep
from ._log_fields import call_fields
from ._version import __version__ as _version
from .codec import WireFormat
from .endpoints import Endpoint, nomenclature_endpoint
from .errors import (
    FgoClosedError,
    FgoConfigurationError,
    FgoConnectionLostError,
    FgoDecodeError,
    FgoDuplicateError,
    FgoError,
    FgoOutcomeUnknownError,
    FgoValidationError,
    Problem,
)
from .journal.base import Journal
from .journal.calls import BeforeSend, automatic_key, journaled_call, restore_lanes
from .journal.sqlite import SqliteJournal
from .models import (
    Article,
    ArticleCodes,
    ArticlePage,
    ArticleQuery,
    Articles,
    AssociatedInvoices,
    AwbAssignment,
    ChangedArticles,
    ChangedArticlesQuery,
    Confirmation,
    CustomerPage,
    CustomerRecord,
    Invoice,
    InvoiceLink,
    InvoiceRef,
    InvoiceStatus,
    IssuedInvoice,
    Nomenclature,
    NoParameters,
    PageRequest,
    Payment,
    PaymentDeletion,
    PaymentReceipt,
    ReceiptRef,
    Reversal,
    Warehouses,
)
from .protocol import (
    DEFAULT_PATTERNS,
    FgoProtocol,
    ReplyPatterns,
    Request,
    identify,
    parse_response,
)
from .scheduling import Call, CallScheduler, RetryPolicy, default_scheduler
from .scheduling.retry import may_have_been_processed
from .signing import Credentials
from .telemetry import Telemetry, default_telemetry
from .transport import DEFAULT_TIMEOUT, AiohttpTransport, Transport, check_base_url
from .validation import check_argument, ensure_valid

__all__ = ["DEFAULT_NOMENCLATURE_TTL", "BatchProgress", "Environment", "FgoClient", "Pager"]

logger = logging.getLogger("fgo_async.client")

T = TypeVar("T")
RequestT = TypeVar("RequestT")
ResultT = TypeVar("ResultT")

# issue_many hands the loop back after queueing this many invoices, so that validating and
# encoding thousands of them never holds the loop for more than a few milliseconds.
_ISSUE_SLICE = 16

#: How long a nomenclator stays cached, in seconds: they change a few times a year.
DEFAULT_NOMENCLATURE_TTL = 6 * 3600.0

#: The page size of paged methods when the caller gives none (the vendor's own default is 10,
#: which makes walking 1,000 articles at one page per 30 s take 50 minutes).
DEFAULT_PAGE_SIZE = 100


@attrs.frozen(kw_only=True)
class BatchProgress:
    """One outcome of :meth:`FgoClient.issue_many`, as it arrives.

    ``index`` is the invoice's position in the input, ``outcome`` its IssuedInvoice or
    exception, ``done`` how many outcomes have arrived out of ``total``.
    """

    index: int
    outcome: IssuedInvoice | Exception
    done: int
    total: int

    @property
    def ok(self) -> bool:
        """True when the invoice was issued."""
        return isinstance(self.outcome, IssuedInvoice)


class Environment(str, enum.Enum):
    """The vendor's environments; they do not share data.

    ``FgoClient(environment=...)`` also takes their names, ``"production"`` and ``"test"``.
    """

    PRODUCTION = "https://api.fgo.ro/v1"
    TEST = "https://api-testuat.fgo.ro/v1"

    @property
    def base_url(self) -> str:
        """The root URL of the environment."""
        return self.value

    @classmethod
    def of(cls, value: Environment | str) -> Environment:
        """The environment named by ``value``: a member, its name or its root URL."""
        if isinstance(value, Environment):
            return value
        if isinstance(value, str):
            by_name = cls.__members__.get(value.strip().upper())
            if by_name is not None:
                return by_name
            try:
                return cls(value.strip().rstrip("/"))
            except ValueError:
                pass
        raise FgoConfigurationError(
            f"environment {value!r} is not 'production' or 'test' "
            "(Environment.PRODUCTION or Environment.TEST)"
        )


ItemT = TypeVar("ItemT", covariant=True)


class _Page(Protocol[ItemT]):
    """What the pager needs of a page: the vendor's total and the page's items."""

    @property
    def total(self) -> int | None: ...

    @property
    def items(self) -> tuple[ItemT, ...]: ...


PageT = TypeVar("PageT", bound=_Page[Any])
ItemOfPageT = TypeVar("ItemOfPageT")


class Pager(Generic[PageT, ItemOfPageT]):
    """The pages of a paged method, fetched one at a time, only when the caller asks for the next.

    ``async for page in pager`` yields pages; ``async for item in pager.items()`` yields what
    they hold. Paging stops after the page that reaches the vendor's ``Total`` or at an empty
    page; when a reply has no ``Total``, at a short page.
    """

    def __init__(
        self, fetch: Callable[[int], Awaitable[PageT]], *, page_size: int, start_page: int = 1
    ) -> None:
        self._fetch: Callable[[int], Awaitable[PageT]] = fetch
        self.page_size = page_size
        self.start_page = start_page

    def __aiter__(self) -> AsyncIterator[PageT]:
        return self._pages()

    async def _pages(self) -> AsyncIterator[PageT]:
        number = self.start_page
        # Items before the first page fetched, then every item fetched: compared with the
        # vendor's Total, this keeps paging right even if the vendor caps the page size.
        seen = (self.start_page - 1) * self.page_size
        while True:
            page = await self._fetch(number)
            yield page
            count = len(page.items)
            seen += count
            if count == 0:
                return
            if page.total is not None:
                if seen >= page.total:
                    return
            elif count < self.page_size:
                return  # no Total to go by: a short page is the last one
            number += 1

    async def items(self) -> AsyncIterator[ItemOfPageT]:
        """Every item of every page, in order."""
        async for page in self:
            for item in page.items:
                yield item


class FgoClient:
    """The client of one company (one ``CodUnic``) of the FGO API.

    Give ``environment`` (:attr:`Environment.PRODUCTION` or :attr:`Environment.TEST`) or
    ``base_url`` (for the simulator, ``http://127.0.0.1:8089/v1``). ``platform_url`` is the
    root URL of the shop or app making the calls; the vendor wants it on every call.

    ``session`` is the application's own ``aiohttp.ClientSession`` (never closed by the client);
    ``transport`` replaces the HTTP layer altogether (tests use
    :class:`~fgo_async.transport.MockTransport`). ``scheduler`` keeps the vendor's discipline
    for the calls of this client: by default the one scheduler of the event loop
    (:func:`~fgo_async.scheduling.default_scheduler`), which every client without one shares,
    so a web app that builds a client per request still keeps one discipline per company; give
    a :class:`~fgo_async.Scheduler` (or any :class:`~fgo_async.scheduling.CallScheduler`) to
    choose its settings. ``timeout`` is the client's own limit per call, longer than the
    vendor's 15 s issue budget on purpose.

    Use it as an async context manager, or call :meth:`aclose`, which waits for the client's
    calls to end.
    """

    def __init__(
        self,
        *,
        cod_unic: str,
        private_key: str,
        platform_url: str,
        environment: Environment | str | None = None,
        base_url: str | None = None,
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        scheduler: CallScheduler | None = None,
        wire_format: WireFormat = "json",
        timeout: float = DEFAULT_TIMEOUT,
        retry_policy: RetryPolicy | None = None,
        flatten_diacritics: bool = False,
        allow_insecure_http: bool = False,
        nomenclature_ttl: float = DEFAULT_NOMENCLATURE_TTL,
        reply_patterns: ReplyPatterns = DEFAULT_PATTERNS,
        journal: Journal | str | os.PathLike[str] | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        # The key goes into Credentials (whose repr hides it) before anything can raise, and
        # leaves this frame: error trackers record the locals of every frame of an error.
        credentials = Credentials(cod_unic=cod_unic, private_key=private_key)
        del private_key
        _check_settings(credentials, platform_url, timeout)
        self._protocol = FgoProtocol(
            credentials=credentials,
            platform_url=platform_url,
            base_url=_base_url(environment, base_url, allow_insecure_http),
            wire_format=_wire_format(wire_format),
            flatten_diacritics=flatten_diacritics,
            user_agent=f"fgo_async/{_version}",
        )
        if session is not None and transport is not None:
            raise FgoConfigurationError("give session= or transport=, not both")
        self._transport: Transport = transport or AiohttpTransport(session)
        self._owns_transport = transport is None
        self._scheduler = scheduler
        self._journal: Journal | None = (
            journal if journal is None or isinstance(journal, Journal) else SqliteJournal(journal)
        )
        self._owns_journal = journal is not None and not isinstance(journal, Journal)
        self._lanes_restored = False
        self._telemetry = telemetry
        self._timeout = timeout
        self._retry_policy = retry_policy
        self._patterns = reply_patterns
        self._nomenclature_ttl = nomenclature_ttl
        self._nomenclatures: dict[tuple[str, str | None], tuple[float, Nomenclature]] = {}
        self._nomenclature_fetches: dict[tuple[str, str | None], asyncio.Future[Nomenclature]] = {}
        self._interactive = False
        self._queue_timeout: float | None = None
        self._is_view = False
        self._closed = False
        self._pending = 0  # calls of this client (and its views) not yet ended
        self._drained: asyncio.Future[None] | None = None
        # Views are shallow copies: this stays the client that owns the resources, so that a
        # view sees when that client is closed.
        self._origin: FgoClient = self

    # -- configuration ------------------------------------------------------------------------

    @property
    def cod_unic(self) -> str:
        """The company this client calls for."""
        return self._protocol.credentials.cod_unic

    @property
    def base_url(self) -> str:
        """The root URL calls go to."""
        return self._protocol.base_url

    @property
    def scheduler(self) -> CallScheduler:
        """The scheduler this client's calls go through (the event loop's default one when the
        client was given none: then read it inside the loop)."""
        return self._scheduler if self._scheduler is not None else default_scheduler()

    def __repr__(self) -> str:
        protocol = getattr(self, "_protocol", None)  # an error tracker may show it half-made
        if protocol is None:
            return "<FgoClient (not configured)>"
        return f"<FgoClient cod_unic={self.cod_unic!r} base_url={self.base_url!r}>"

    def with_options(
        self, *, interactive: bool | None = None, queue_timeout: float | None = None
    ) -> FgoClient:
        """A view of this client whose calls use other options; it shares everything else.

        ``interactive=True`` lets the calls overtake batch calls of their bucket (a customer
        waiting for a PDF link); ``queue_timeout`` is how long, in seconds, a call may wait for
        its turn before failing with FgoQueueTimeoutError, unsent. Closing a view closes nothing.
        """
        view = copy.copy(self)
        view._is_view = True
        if interactive is not None:
            view._interactive = interactive
        if queue_timeout is not None:
            view._queue_timeout = queue_timeout
        return view

    # -- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> FgoClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Accept no more calls, wait for this client's queued and running calls to end, then
        close the transport if the client made it. A shared scheduler stays open."""
        if self._closed or self._is_view:
            return
        self._closed = True
        if self._pending:
            self._drained = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._drained)
        if self._owns_transport:
            await self._transport.aclose()
        if self._owns_journal and self._journal is not None:
            await self._journal.aclose()

    @property
    def journal(self) -> Journal | None:
        """The journal of the calls that create something, if the client was given one."""
        return self._journal

    # -- the call path ------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._origin._closed:
            raise FgoClosedError("the client is closed")

    def _make_call(
        self,
        endpoint: Endpoint[Any, ResultT],
        request: Request,
        *,
        can_deduplicate: bool,
        before_send: BeforeSend | None = None,
    ) -> Call[ResultT]:
        deadline = None
        if self._queue_timeout is not None:
            deadline = asyncio.get_running_loop().time() + self._queue_timeout
        call: Call[ResultT] = Call(
            endpoint=endpoint,
            company=self.cod_unic if endpoint.signed else None,
            attempt=lambda: self._exchange(endpoint, request, call),
            identity=request.identity,
            can_deduplicate=can_deduplicate,
            interactive=self._interactive,
            deadline=deadline,
            retry_policy=self._retry_policy,
            before_send=before_send,
        )
        return call

    async def _exchange(
        self, endpoint: Endpoint[Any, ResultT], request: Request, call: Call[ResultT]
    ) -> ResultT:
        """One attempt: send, then read the reply. Anything but an FgoError is mapped onto one
        (a transport of the application's, or a reply no rule foresaw), so that a caller never
        mistakes an outcome that may exist for a plain failure."""
        telemetry = self._telemetry or default_telemetry()
        if telemetry.enabled:
            with telemetry.attempt_span(request, call.attempt_number) as record:
                try:
                    return await self._attempt(endpoint, request, call, telemetry)
                except BaseException as error:
                    record.error = error
                    record.status = getattr(error, "status", None)
                    raise
                finally:
                    record.status = record.status or call.reply_status
        return await self._attempt(endpoint, request, call, None)

    async def _attempt(
        self,
        endpoint: Endpoint[Any, ResultT],
        request: Request,
        call: Call[ResultT],
        telemetry: Telemetry | None,
    ) -> ResultT:
        failure: FgoError | None = None
        call.reply_status = None
        if telemetry is not None and telemetry.tracing:
            headers = dict(request.headers)
            telemetry.inject(headers)
            request = attrs.evolve(request, headers=headers)
        try:
            raw = await self._transport.send(request, timeout=self._timeout)
        except FgoError:
            raise
        except Exception as error:
            failure = FgoConnectionLostError(
                f"the transport failed: {type(error).__name__}: {error}",
                identity=request.identity,
            )
        if failure is not None:
            raise failure  # outside the handler: the transport's frames stay behind
        call.sent_at = raw.sent_at  # the lane's spacing counts from this moment
        call.reply_status = raw.status
        try:
            result: ResultT = parse_response(
                request, raw.status, raw.headers, raw.body, patterns=self._patterns
            )
        except FgoError:
            raise
        except Exception as error:
            failure = FgoDecodeError(
                f"the reply could not be read: {type(error).__name__}: {error}",
                identity=request.identity,
                status=raw.status,
                body=raw.body,
            )
        if failure is not None:
            raise failure
        return result

    async def _submit(self, call: Call[ResultT]) -> ResultT:
        origin = self._origin
        origin._pending += 1
        try:
            scheduler = self._scheduler if self._scheduler is not None else default_scheduler()
            if self._journal is not None and not origin._lanes_restored:
                # Before this process's first call: a previous one may have called moments
                # ago, and its spacing (and a call it left in flight) still holds.
                origin._lanes_restored = True
                await restore_lanes(self._journal, scheduler)
            return await scheduler.submit(call)
        finally:
            origin._pending -= 1
            if not origin._pending and origin._drained is not None and not origin._drained.done():
                origin._drained.set_result(None)

    async def _call(
        self,
        endpoint: Endpoint[RequestT, ResultT],
        payload: RequestT,
        *,
        can_deduplicate: bool = False,
        before_send: BeforeSend | None = None,
        validated: bool = False,
    ) -> ResultT:
        self._check_open()
        if not validated:
            ensure_valid(payload)  # its warnings point at the application's line
        request = self._protocol.build_request(endpoint, payload)
        call = self._make_call(
            endpoint, request, can_deduplicate=can_deduplicate, before_send=before_send
        )
        telemetry = self._telemetry or default_telemetry()
        if not telemetry.enabled:
            return await self._submit(call)
        with telemetry.call_span(request.identity):
            try:
                return await self._submit(call)
            except FgoOutcomeUnknownError as error:
                telemetry.outcome_unknown(error.identity)
                raise

    async def _create(
        self,
        endpoint: Endpoint[RequestT, ResultT],
        payload: RequestT,
        *,
        key: str | None,
        can_deduplicate: bool,
        send: Callable[[BeforeSend | None, bool], Awaitable[ResultT]],
        retake: bool = False,
    ) -> ResultT:
        """A call that creates something: through the journal when the client has one.

        ``send(before_send, resumed)`` makes the call; ``before_send`` is None without a
        journal, and the payload was validated already when it is not.
        """
        journal = self._journal
        if journal is None:
            return await send(None, False)
        self._check_open()
        ensure_valid(payload)
        return await journaled_call(
            journal,
            endpoint,
            payload,
            company=self.cod_unic,
            key=key or automatic_key(),
            identity=identify(endpoint, payload, self.cod_unic),
            can_deduplicate=can_deduplicate,
            send=send,
            retake=retake,
        )

    # -- invoices -----------------------------------------------------------------------------

    async def issue_many(
        self,
        invoices: Iterable[Invoice],
        *,
        on_progress: Callable[[BatchProgress], None] | None = None,
    ) -> list[IssuedInvoice | Exception]:
        """Issue many invoices; return one outcome per invoice, in input order.

        An outcome is the :class:`IssuedInvoice` (``deduplicated`` when an earlier attempt had
        made it) or the exception that invoice ended with (a validation error, the vendor's
        refusal, FgoOutcomeUnknownError...): one failure never stops the rest. The invoices
        are queued in input order, a few at a time so the event loop is never held for long,
        and issued in that order as fast as the company's limits allow. ``on_progress`` is
        called with a :class:`BatchProgress` as each outcome arrives; an exception it raises is
        logged, not propagated, so that a broken progress display cannot lose an outcome.
        """
        check_argument("invoices", invoices, Iterable)
        batch = list(invoices)
        outcomes: list[IssuedInvoice | Exception | None] = [None] * len(batch)
        done = 0
        tasks: list[asyncio.Future[None]] = []

        async def issue(index: int, invoice: Invoice) -> None:
            nonlocal done
            outcome: IssuedInvoice | Exception
            try:
                outcome = await self.issue_invoice(invoice)
            except Exception as error:
                outcome = error
            outcomes[index] = outcome
            done += 1
            if on_progress is not None:
                try:
                    on_progress(
                        BatchProgress(index=index, outcome=outcome, done=done, total=len(batch))
                    )
                except Exception:
                    logger.exception(
                        "the on_progress callback of issue_many failed",
                        extra=call_fields(getattr(outcome, "identity", None)),
                    )

        try:
            for index, invoice in enumerate(batch):
                tasks.append(asyncio.ensure_future(issue(index, invoice)))
                if index % _ISSUE_SLICE == _ISSUE_SLICE - 1:
                    # Let those be validated, encoded and queued before making more: the loop
                    # is never held for long, and the first calls leave at once.
                    await asyncio.sleep(0)
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            raise
        return [outcome for outcome in outcomes if outcome is not None]

    async def issue_invoice(self, invoice: Invoice, *, key: str | None = None) -> IssuedInvoice:
        """Issue an invoice, proforma, order or estimate (``factura/emitere``).

        A lost reply is retried only when the vendor can deduplicate the repeat
        (``check_duplicate=True`` with ``external_id``, or with series and number); otherwise
        it raises FgoOutcomeUnknownError, carrying what identifies the invoice. When such a
        repeat is refused as a duplicate of the invoice the lost attempt had issued, that
        invoice is returned, with ``deduplicated=True`` (and its link, read with one
        ``print`` call if the refusal did not give it). A duplicate refusal that no lost
        attempt of this call explains raises FgoDuplicateError, whose ``existing`` names the
        invoice that stands.

        With a journal, the call is recorded under ``key`` (default: the invoice's
        ``external_id``): a key already issued returns the recorded invoice without calling
        the vendor, and one reused for another invoice is refused.
        """
        check_argument("invoice", invoice, Invoice)
        check_argument("key", key, str, optional=True)
        return await self._create(
            ep.ISSUE_INVOICE,
            invoice,
            key=key or invoice.external_id,
            can_deduplicate=invoice.can_deduplicate,
            send=lambda before_send, resumed: self._issue(invoice, before_send, resumed),
        )

    async def _issue(
        self, invoice: Invoice, before_send: BeforeSend | None, resumed: bool
    ) -> IssuedInvoice:
        """One issue call, and the invoice a lost attempt made when the duplicate check
        names it (an attempt of this call, or of a journaled call a process left ``resumed``)."""
        found: FgoDuplicateError | None = None
        try:
            return await self._call(
                ep.ISSUE_INVOICE,
                invoice,
                can_deduplicate=invoice.can_deduplicate,
                before_send=before_send,
                validated=before_send is not None,
            )
        except FgoDuplicateError as duplicate:
            lost = resumed or any(may_have_been_processed(e) for e in duplicate.retry_history)
            if not (invoice.can_deduplicate and lost and duplicate.existing is not None):
                raise
            found = duplicate
        return await self._found_invoice(found)

    async def _found_invoice(self, duplicate: FgoDuplicateError) -> IssuedInvoice:
        """The invoice an earlier, lost attempt issued, as the vendor's duplicate check named
        it; its link from the refusal, or from one print call."""
        existing = duplicate.existing
        assert existing is not None
        link = duplicate.existing_link
        if link is None:
            try:
                link = (await self.print_invoice(existing)).link
            except FgoError as error:
                logger.warning(
                    "invoice %s was issued by an earlier attempt; its link could not be read: %s",
                    existing,
                    error,
                    extra=call_fields(duplicate.identity, outcome="found"),
                )
        logger.info(
            "%s: the vendor already had invoice %s from an earlier attempt whose reply was lost",
            duplicate.identity.describe() if duplicate.identity else "factura/emitere",
            existing,
            extra=call_fields(duplicate.identity, outcome="found"),
        )
        return IssuedInvoice(
            series=existing.series,
            number=existing.number,
            link=link,
            deduplicated=True,
            raw=duplicate.raw or {},
        )

    async def print_invoice(self, ref: InvoiceRef) -> InvoiceLink:
        """The PDF link of a document (``factura/print``)."""
        check_argument("ref", ref, InvoiceRef)
        return await self._call(ep.PRINT_INVOICE, ref)

    async def delete_invoice(self, ref: InvoiceRef) -> Confirmation:
        """Delete a document (``factura/stergere``); the vendor allows it for the last one only."""
        check_argument("ref", ref, InvoiceRef)
        return await self._call(ep.DELETE_INVOICE, ref)

    async def cancel_invoice(self, ref: InvoiceRef) -> Confirmation:
        """Cancel an invoice (``factura/anulare``)."""
        check_argument("ref", ref, InvoiceRef)
        return await self._call(ep.CANCEL_INVOICE, ref)

    async def invoice_status(self, ref: InvoiceRef) -> InvoiceStatus:
        """The value of an invoice, the amount paid and the payments (``factura/getstatus``)."""
        check_argument("ref", ref, InvoiceRef)
        return await self._call(ep.INVOICE_STATUS, ref)

    async def add_payment(self, payment: Payment, *, key: str | None = None) -> PaymentReceipt:
        """Record a payment (``factura/incasare``). Never repeated after a lost reply.

        With a journal, give a ``key`` (the shop's payment id) so that the same payment asked
        for again is recognised: it is then answered from the journal, never recorded twice.
        """
        check_argument("payment", payment, Payment)
        check_argument("key", key, str, optional=True)
        return await self._create(
            ep.PAYMENT,
            payment,
            key=key,
            can_deduplicate=False,
            send=self._sender(ep.PAYMENT, payment),
        )

    def _sender(
        self, endpoint: Endpoint[RequestT, ResultT], payload: RequestT
    ) -> Callable[[BeforeSend | None, bool], Awaitable[ResultT]]:
        """How :meth:`_create` sends a call that has no duplicate check at the vendor."""

        def send(before_send: BeforeSend | None, resumed: bool) -> Awaitable[ResultT]:
            return self._call(
                endpoint, payload, before_send=before_send, validated=before_send is not None
            )

        return send

    async def delete_payment(
        self, invoice_ref: InvoiceRef, receipt_ref: ReceiptRef
    ) -> Confirmation:
        """Delete a recorded payment (``factura/stergereincasare``)."""
        check_argument("invoice_ref", invoice_ref, InvoiceRef)
        check_argument("receipt_ref", receipt_ref, ReceiptRef)
        deletion = PaymentDeletion(invoice=invoice_ref, receipt=receipt_ref)
        return await self._call(ep.DELETE_PAYMENT, deletion)

    async def reverse_invoice(
        self,
        ref: InvoiceRef,
        *,
        series: str | None = None,
        number: str | None = None,
        issue_date: datetime.date | None = None,
        key: str | None = None,
    ) -> InvoiceLink:
        """Reverse (storno) an invoice; returns the reversal invoice. Never repeated blindly.

        With a journal, give a ``key`` so that the same reversal asked for again is answered
        from the journal instead of reversing twice.
        """
        check_argument("ref", ref, InvoiceRef)
        check_argument("key", key, str, optional=True)
        reversal = Reversal(invoice=ref, series=series, number=number, issue_date=issue_date)
        return await self._create(
            ep.REVERSE_INVOICE,
            reversal,
            key=key,
            can_deduplicate=False,
            send=self._sender(ep.REVERSE_INVOICE, reversal),
        )

    async def set_awb(self, ref: InvoiceRef, awb: str) -> Confirmation:
        """Attach a courier AWB number to an invoice (``factura/awb``)."""
        check_argument("ref", ref, InvoiceRef)
        check_argument("awb", awb, str)
        return await self._call(ep.AWB, AwbAssignment(invoice=ref, awb=awb))

    async def associated_invoices(self, ref: InvoiceRef) -> AssociatedInvoices:
        """The invoices issued from a proforma (``factura/listfacturiasociate``)."""
        check_argument("ref", ref, InvoiceRef)
        return await self._call(ep.ASSOCIATED_INVOICES, ref)

    # -- articles and customers ---------------------------------------------------------------

    def articles(
        self, *, page_size: int = DEFAULT_PAGE_SIZE, start_page: int = 1
    ) -> Pager[ArticlePage, Article]:
        """Every page of articles (``articol/list``, one call per 30 s), fetched as needed."""
        check_argument("page_size", page_size, int, minimum=1)
        check_argument("start_page", start_page, int, minimum=1)

        async def fetch(page: int) -> ArticlePage:
            return await self._call(ep.ARTICLE_PAGE, PageRequest(page=page, page_size=page_size))

        return Pager(fetch, page_size=page_size, start_page=start_page)

    async def article(self, code: str) -> Article:
        """One article by its code (``articol/get``)."""
        check_argument("code", code, str)
        return await self._call(ep.ARTICLE, ArticleQuery(code=code))

    async def articles_by_code(self, codes: Iterable[str]) -> Articles:
        """Up to 30 articles by their codes (``articol/getlist``, kept for older accounts)."""
        check_argument("codes", codes, Iterable)
        return await self._call(ep.ARTICLES_BY_CODE, ArticleCodes(codes=tuple(codes)))

    async def changed_articles(
        self, hours: int = 24, until_hours: int | None = None
    ) -> ChangedArticles:
        """Articles changed from ``hours`` ago until ``until_hours`` ago (one call per 30 min)."""
        check_argument("hours", hours, int)
        check_argument("until_hours", until_hours, int, optional=True)
        query = ChangedArticlesQuery(hours=hours, until_hours=until_hours)
        return await self._call(ep.CHANGED_ARTICLES, query)

    async def warehouses(self) -> Warehouses:
        """The company's warehouses (``articol/gestiune``)."""
        return await self._call(ep.WAREHOUSES, NoParameters())

    def customers(
        self, *, page_size: int = DEFAULT_PAGE_SIZE, start_page: int = 1
    ) -> Pager[CustomerPage, CustomerRecord]:
        """Every page of saved customers (``client/list``), fetched as needed."""
        check_argument("page_size", page_size, int, minimum=1)
        check_argument("start_page", start_page, int, minimum=1)

        async def fetch(page: int) -> CustomerPage:
            return await self._call(ep.CUSTOMER_PAGE, PageRequest(page=page, page_size=page_size))

        return Pager(fetch, page_size=page_size, start_page=start_page)

    # -- nomenclators -------------------------------------------------------------------------

    async def nomenclature(self, name: str, county: str | None = None) -> Nomenclature:
        """A nomenclator (``judet``, ``tara``, ``tva``, ``localitati`` with ``county``...), cached.

        Concurrent requests for the same nomenclator share one call.
        """
        check_argument("name", name, str)
        check_argument("county", county, str, optional=True)
        self._check_open()
        endpoint = nomenclature_endpoint(name)
        if name == "localitati" and not county:
            raise FgoValidationError(
                [
                    Problem(
                        field="county",
                        rule="required",
                        wire_name="judet",
                        message="the localities nomenclator needs a county",
                    )
                ],
                model="nomenclature",
            )
        key = (name, county if name == "localitati" else None)
        loop = asyncio.get_running_loop()
        cached = self._nomenclatures.get(key)
        if cached is not None and cached[0] > loop.time():
            return cached[1]
        pending = self._nomenclature_fetches.get(key)
        if pending is None:
            # The fetch runs as a task of its own that every caller awaits through a shield:
            # a caller that is cancelled stops waiting, and the others still get the reply.
            pending = asyncio.ensure_future(self._fetch_nomenclature(endpoint, key))
            self._nomenclature_fetches[key] = pending
            pending.add_done_callback(functools.partial(self._nomenclature_fetched, key))
        return await asyncio.shield(pending)

    async def _fetch_nomenclature(
        self, endpoint: Endpoint[None, Nomenclature], key: tuple[str, str | None]
    ) -> Nomenclature:
        request = self._protocol.build_nomenclature_request(endpoint, key[1])
        result = await self._submit(self._make_call(endpoint, request, can_deduplicate=False))
        expires = asyncio.get_running_loop().time() + self._nomenclature_ttl
        self._nomenclatures[key] = (expires, result)
        return result

    def _nomenclature_fetched(
        self, key: tuple[str, str | None], task: asyncio.Future[Nomenclature]
    ) -> None:
        self._nomenclature_fetches.pop(key, None)
        if not task.cancelled():
            task.exception()  # marked as read: the callers, if any are left, raise it


def _base_url(
    environment: Environment | str | None, base_url: str | None, allow_insecure: bool
) -> str:
    if environment is not None and base_url is not None:
        raise FgoConfigurationError("give environment= or base_url=, not both")
    if base_url is None:
        if environment is None:
            raise FgoConfigurationError(
                "say where to send calls: environment='production' or 'test', "
                "or base_url= (the simulator's, for instance)"
            )
        return Environment.of(environment).base_url
    checked = check_base_url(base_url, allow_insecure_http=allow_insecure)
    if not urlsplit(checked).path.rstrip("/").endswith("/v1"):
        raise FgoConfigurationError(
            f"base_url {base_url!r} should be the API's root, whose path ends in /v1 (as "
            "https://api.fgo.ro/v1 or the simulator's http://127.0.0.1:8089/v1); every call "
            "would get a 404 from it"
        )
    return checked


def _wire_format(value: str) -> WireFormat:
    if value == "json":
        return "json"
    if value == "form":
        return "form"
    raise FgoConfigurationError(f"wire_format {value!r} is not 'json' or 'form'")


def _check_settings(credentials: Credentials, platform_url: str, timeout: float) -> None:
    if not credentials.cod_unic.strip():
        raise FgoConfigurationError("cod_unic (the company's CUI) is required")
    if not credentials.has_key:
        raise FgoConfigurationError("private_key is required (a non-empty string)")
    if not platform_url.startswith(("http://", "https://")):
        raise FgoConfigurationError(
            f"platform_url {platform_url!r} must be the root URL of the shop or app, "
            "such as https://www.example.ro"
        )
    if timeout <= 0:
        raise FgoConfigurationError("timeout must be positive")
