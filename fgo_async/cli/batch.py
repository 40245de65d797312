"""The resumable batch: issue the orders of a file that are not issued yet, record each outcome.

:func:`plan_batch` compares the orders with the results file: an order already ``issued`` is
skipped; an order whose outcome is ``unknown`` is left alone (it may exist: reconcile it), unless
``retry_unknown`` is set and the vendor can recognise a repeat of it (``check_duplicate`` with an
``external_id``), in which case sending it again is safe; the rest are sent.

:func:`record_of` turns an outcome into a record, and only an outcome that proves nothing was
issued is ``failed`` (a rerun sends it again). A refused duplicate proves the invoice exists:
``issued`` under the invoice the vendor named (found, not made), or ``unknown`` when it named
none, or named the invoice another order of the file is recorded with (two orders alike, without
an IdExtern). An exception that is not the library's verdict (a bug) may have come after the
call was sent: ``unknown``.

:class:`BatchRun` sends them, one :meth:`~fgo_async.FgoClient.issue_many` per company, every
company's client on one shared :class:`~fgo_async.Scheduler`, and appends each outcome to the
results file as it arrives. :meth:`BatchRun.stop` (the first Ctrl-C or SIGTERM) closes the
scheduler without draining it: the calls in flight finish and are recorded, the queued ones fail
with FgoClosedError before being sent and are not recorded, so a rerun sends them. A second
:meth:`BatchRun.stop` abandons the calls in flight, which are then recorded as ``unknown``.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from ..client import BatchProgress, FgoClient
from ..errors import FgoClosedError, FgoDuplicateError, FgoError
from ..models import InvoiceRef, IssuedInvoice
from ..scheduling import Scheduler
from .exits import ExitStatus, exit_status_of
from .journal import Journal, Record, Status
from .orders import OrderLine

__all__ = ["BatchPlan", "BatchResult", "BatchRun", "InvoiceKey", "plan_batch", "record_of"]

logger = logging.getLogger("fgo_async.cli")

# Loop turns a stop waits for the queued calls to fail before abandoning the rest.
_SETTLE_STEPS = 20


#: What identifies an invoice in the results file: its company, series and number.
InvoiceKey = tuple[str, str, str]


@attrs.frozen(kw_only=True)
class BatchPlan:
    """What a run of the batch will do."""

    to_send: Sequence[OrderLine]
    #: Orders already issued by an earlier run.
    skipped: int
    #: Orders whose outcome is unknown and that this run leaves alone: reconcile them.
    unknown: Sequence[Record]
    #: The invoices recorded as issued by earlier runs, each with its order's key.
    owners: Mapping[InvoiceKey, str] = attrs.field(factory=dict)

    @property
    def companies(self) -> list[str]:
        """The companies with orders to send, in order of first appearance."""
        return list(dict.fromkeys(order.cod_unic for order in self.to_send))


def plan_batch(
    orders: Sequence[OrderLine],
    previous: Mapping[tuple[str, str], Record],
    *,
    retry_unknown: bool = False,
) -> BatchPlan:
    """Which orders to send, given the results of earlier runs."""
    to_send: list[OrderLine] = []
    unknown: list[Record] = []
    skipped = 0
    for order in orders:
        record = previous.get(order.identity)
        if record is None or record.status is Status.FAILED:
            to_send.append(order)
        elif record.status is Status.ISSUED:
            skipped += 1
        elif retry_unknown and order.invoice.can_deduplicate:
            to_send.append(order)  # the vendor refuses a second invoice for its IdExtern
        else:
            unknown.append(record)
    owners = {
        (r.cod_unic, r.series, r.number): r.key
        for r in previous.values()
        if r.status is Status.ISSUED and r.series is not None and r.number is not None
    }
    return BatchPlan(to_send=to_send, skipped=skipped, unknown=unknown, owners=owners)


def _record(order: OrderLine, **fields: Any) -> Record:
    return Record(line=order.line, key=order.key, cod_unic=order.cod_unic, **fields)


def _unknown(order: OrderLine, error: str, message: str, note: str) -> Record:
    return _record(
        order,
        status=Status.UNKNOWN,
        error=error,
        message=message,
        note=note,
        outcome_known=False,
        exit_status=int(ExitStatus.UNKNOWN),
    )


def _found(
    order: OrderLine,
    ref: InvoiceRef,
    owners: Mapping[InvoiceKey, str],
    *,
    error: str,
    said: str,
    note: str,
    link: str | None = None,
) -> Record:
    """An invoice found rather than made: this order's, unless another order recorded it."""
    owner = owners.get((order.cod_unic, ref.series, ref.number))
    if owner is not None and owner != order.key:
        # Two orders alike (same customer, lines and day) without an IdExtern: the vendor's
        # identical-invoice check named the other order's invoice, not one made for this one.
        return _unknown(
            order,
            error,
            said,
            f"the vendor named {ref.series}-{ref.number}, which is the invoice of order "
            f"{owner}: this order may not be issued; look for it in FGO",
        )
    return _record(
        order, status=Status.ISSUED, series=ref.series, number=ref.number, link=link, note=note
    )


def record_of(
    order: OrderLine,
    outcome: IssuedInvoice | BaseException,
    owners: Mapping[InvoiceKey, str] | None = None,
) -> Record | None:
    """The record of an order's outcome; None for a call that was never sent (closed).

    ``owners`` maps the invoices already recorded as issued to their order's key: an invoice
    the vendor found (not made) that belongs to another order is not this order's.
    """
    owners = owners or {}
    if isinstance(outcome, FgoClosedError):
        return None
    if isinstance(outcome, IssuedInvoice):
        if not outcome.deduplicated:
            return _record(
                order,
                status=Status.ISSUED,
                series=outcome.series,
                number=outcome.number,
                link=outcome.link,
            )
        found = "found, not made: an earlier attempt issued it and lost the reply"
        return _found(
            order,
            outcome.ref,
            owners,
            error="IssuedInvoice",
            said=found,
            note=f"{found}; the vendor's duplicate check named it",
            link=outcome.link,
        )
    if isinstance(outcome, FgoDuplicateError):
        return _duplicate(order, outcome, owners)
    if not isinstance(outcome, FgoError):
        # Not the library's verdict: the call may have been sent when it happened.
        logger.debug("order %s: unexpected error", order.key, exc_info=outcome)
        return _unknown(
            order,
            type(outcome).__name__,
            str(outcome),
            "an unexpected error, perhaps after the call was sent: the vendor may have issued "
            "it; reconcile it (and please report the error)",
        )
    known = outcome.outcome_known
    return _record(
        order,
        status=Status.FAILED if known else Status.UNKNOWN,
        error=type(outcome).__name__,
        message=outcome.message,
        outcome_known=known,
        exit_status=int(exit_status_of(outcome) if known else ExitStatus.UNKNOWN),
    )


def _duplicate(
    order: OrderLine, refusal: FgoDuplicateError, owners: Mapping[InvoiceKey, str]
) -> Record:
    # A refused duplicate means the invoice exists (an earlier run issued it and its record
    # was lost, or its reply was): never "failed", which a rerun would issue again.
    external_id = order.invoice.external_id
    repeat = f"a repeat of IdExtern {external_id}" if external_id else "an identical invoice"
    said = f"the vendor refused {repeat}: {refusal.message}"
    if refusal.existing is None:
        return _unknown(
            order,
            type(refusal).__name__,
            refusal.message,
            f"{said}; it did not say which invoice: find it in FGO",
        )
    return _found(
        order,
        refusal.existing,
        owners,
        error=type(refusal).__name__,
        said=refusal.message,
        note=f"already issued by an earlier attempt; {said}",
    )


@attrs.define(kw_only=True)
class BatchResult:
    """What a run did."""

    plan: BatchPlan
    records: list[Record] = attrs.field(factory=list)
    #: Orders not sent because the run was stopped: a rerun sends them.
    not_sent: int = 0
    interrupted: bool = False
    #: The signal that stopped the run first (SIGINT, SIGTERM), if one did.
    stop_signal: signal.Signals | None = None

    def count(self, status: Status) -> int:
        """Records of this run with ``status``."""
        return sum(1 for r in self.records if r.status is status)

    @property
    def unknown(self) -> list[Record]:
        """Every order whose outcome is unknown: this run's and the earlier ones left alone."""
        return [*self.plan.unknown, *(r for r in self.records if r.status is Status.UNKNOWN)]

    @property
    def exit_status(self) -> ExitStatus:
        """130 when interrupted (143 by SIGTERM); else the orders' highest, 0 when all issued."""
        if self.interrupted:
            return ExitStatus.stopped_by(self.stop_signal or signal.SIGINT)
        worst = ExitStatus.UNKNOWN if self.unknown else ExitStatus.OK
        for record in self.records:
            if record.exit_status is not None:
                worst = max(worst, ExitStatus(record.exit_status))
        return worst


class BatchRun:
    """Sends a plan's orders and records their outcomes; see the module's documentation.

    ``clients`` maps each company of the plan to its client, all on ``scheduler``;
    ``on_record`` is called after each record is written, ``on_not_sent`` for each order the
    stop left unsent (both for a progress display).
    """

    def __init__(
        self,
        plan: BatchPlan,
        journal: Journal,
        clients: Mapping[str, FgoClient],
        scheduler: Scheduler,
        *,
        on_record: Callable[[Record], None] | None = None,
        on_not_sent: Callable[[OrderLine], None] | None = None,
    ) -> None:
        self.plan = plan
        self.journal = journal
        self.clients = clients
        self.scheduler = scheduler
        self.on_record = on_record
        self.on_not_sent = on_not_sent
        self.result = BatchResult(plan=plan)
        self._owners: dict[InvoiceKey, str] = dict(plan.owners)
        self._pending: dict[int, OrderLine] = {id(o): o for o in plan.to_send}
        self._task: asyncio.Future[list[None]] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._abandoning: asyncio.Future[None] | None = None
        self._abandoned = False
        self._write_error: OSError | None = None
        #: Records that could not be written (the disk is full...): shown to the user.
        self.unrecorded: list[Record] = []

    @property
    def in_flight(self) -> int:
        """Orders sent or waiting whose outcome has not arrived."""
        return len(self._pending)

    async def run(self) -> BatchResult:
        """Send the orders; returns when every outcome is recorded or the run was stopped."""
        by_company: dict[str, list[OrderLine]] = {}
        for order in self.plan.to_send:
            by_company.setdefault(order.cod_unic, []).append(order)
        task = self._task = asyncio.gather(
            *(self._issue(self.clients[c], orders) for c, orders in by_company.items())
        )
        try:
            await task
        except asyncio.CancelledError:
            if not self._abandoned:
                raise
            self._record_abandoned()
        if self._closing is not None:
            await self._closing
        if self._write_error is not None:
            raise self._write_error
        return self.result

    async def _issue(self, client: FgoClient, orders: list[OrderLine]) -> None:
        def arrived(progress: BatchProgress) -> None:
            self._arrived(orders[progress.index], progress.outcome)

        await client.issue_many([order.invoice for order in orders], on_progress=arrived)

    def _arrived(self, order: OrderLine, outcome: IssuedInvoice | BaseException) -> None:
        self._pending.pop(id(order), None)
        record = record_of(order, outcome, self._owners)
        if record is None:
            self.result.not_sent += 1
            if self.on_not_sent is not None:
                self.on_not_sent(order)
            return
        self._write(record)

    def _write(self, record: Record) -> None:
        try:
            self.journal.append(record)
        except OSError as error:
            # Never carry on issuing what cannot be recorded: a rerun would issue it again.
            logger.error("could not record %s: %s", record.to_json(), error)
            self.unrecorded.append(record)
            self._write_error = self._write_error or error
            self.stop()
            return
        self.result.records.append(record)
        if record.status is Status.ISSUED and record.series and record.number:
            self._owners[record.cod_unic, record.series, record.number] = record.key
        if self.on_record is not None:
            self.on_record(record)

    def stop(self, signum: signal.Signals | None = None) -> bool:
        """Stop: first let the calls in flight finish (True), then abandon them (False).

        ``signum`` is the signal that asks it (Ctrl-C's SIGINT, SIGTERM), if one does: the first
        one decides the exit status.
        """
        self.result.interrupted = True
        self.result.stop_signal = self.result.stop_signal or signum
        if self._closing is None:
            self._closing = asyncio.ensure_future(self.scheduler.aclose(drain=False))
            return True
        if self._abandoning is None:
            self._abandoning = asyncio.ensure_future(self._abandon())
        return False

    async def _abandon(self) -> None:
        # Let the closing scheduler fail the queued calls first: they were never sent, and only
        # the calls really in flight may be recorded as unknown.
        for _ in range(_SETTLE_STEPS):
            if len(self._pending) <= self.scheduler.stats().in_flight:
                break
            await asyncio.sleep(0)
        if self._task is not None and not self._task.done():
            self._abandoned = True
            self._task.cancel()

    def _record_abandoned(self) -> None:
        for order in list(self._pending.values()):
            self._pending.pop(id(order))
            self._write(
                _record(
                    order,
                    status=Status.UNKNOWN,
                    error="Interrupted",
                    message="abandoned while in flight; the vendor may have issued it",
                    outcome_known=False,
                    exit_status=int(ExitStatus.UNKNOWN),
                )
            )
