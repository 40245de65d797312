"""Finishing what a dead process left in the journal, without ever creating anything twice.

:func:`recover` walks the entries a process left ``planned`` or ``sending`` when it ended, and
those whose outcome is ``unknown``:

* **planned**: never sent. Recorded as refused (nothing was made); the same key may be sent
  again later.
* **an invoice the vendor can deduplicate** (``external_id`` with ``check_duplicate``, or series
  and number): sent again with the duplicate check. The vendor issues it, or refuses it as a
  duplicate naming the invoice the lost send made: issued either way, found or made.
* **a payment**: the invoice's status is read first, and its payments compared with the ones
  the journal recorded. Found there: issued. Missing: sent again, which is safe now.
* **anything else** (an invoice without a key, a reversal): ``unknown``, reported with what is
  needed to look it up in FGO (company, series, external id, customer). Never sent blindly.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from .. import endpoints as ep
from .. import plain
from .._log_fields import call_fields
from ..errors import FgoError
from ..models import Invoice, Payment, PaymentReceipt
from .base import Journal
from .entry import EntryState, JournalEntry

if TYPE_CHECKING:
    from ..client import FgoClient

__all__ = ["Recovered", "RecoveryReport", "recover"]

logger = logging.getLogger("fgo_async.journal")


@attrs.frozen(kw_only=True)
class Recovered:
    """What recovery did with one entry: ``entry`` as it was found, ``state`` where it stands
    now, ``detail`` why, and ``result`` the call's result when it was issued."""

    entry: JournalEntry
    state: EntryState
    detail: str
    result: Any = None

    def describe(self) -> str:
        """One line for a report: the call, where it stands, why."""
        return f"{self.entry.identity.describe()} key {self.entry.key}: {self.state.value}, " + (
            self.detail
        )


@attrs.frozen(kw_only=True)
class RecoveryReport:
    """Every entry recovery looked at, and where each stands."""

    items: tuple[Recovered, ...] = ()

    def _in(self, state: EntryState) -> tuple[Recovered, ...]:
        return tuple(item for item in self.items if item.state is state)

    @property
    def issued(self) -> tuple[Recovered, ...]:
        """Entries now known to be issued (sent again, or found)."""
        return self._in(EntryState.ISSUED)

    @property
    def refused(self) -> tuple[Recovered, ...]:
        """Entries now known not to have made anything."""
        return self._in(EntryState.REFUSED)

    @property
    def unknown(self) -> tuple[Recovered, ...]:
        """Entries whose outcome stays unknown: look each up in FGO."""
        return self._in(EntryState.UNKNOWN)


async def recover(
    journal: Journal,
    clients: FgoClient | Mapping[str, FgoClient] | Callable[[str], FgoClient | None],
) -> RecoveryReport:
    """Finish the entries of ``journal`` that a process left unsettled (see the module).

    ``clients`` gives the client of each company: one client, a mapping by ``cod_unic``, or a
    function. Each must use ``journal``.
    """
    pick = _picker(clients)
    items: list[Recovered] = []
    for entry in await journal.unsettled():
        client = pick(entry.company)
        if client is None:
            items.append(
                Recovered(entry=entry, state=entry.state, detail="no client for this company")
            )
            continue
        if client.journal is not journal:
            raise ValueError(f"the client of company {entry.company} does not use this journal")
        items.append(await _recover_one(journal, client, entry))
    for item in items:
        log = logger.warning if item.state is EntryState.UNKNOWN else logger.info
        log(
            "recovery: %s",
            item.describe(),
            extra=call_fields(item.entry.identity, outcome=item.state.value),
        )
    return RecoveryReport(items=tuple(items))


async def _recover_one(journal: Journal, client: FgoClient, entry: JournalEntry) -> Recovered:
    if entry.state is EntryState.PLANNED:
        settled = await journal.settle(
            entry,
            EntryState.REFUSED,
            error_type="NotSent",
            error_message="never sent: its process ended before the request left",
        )
        return Recovered(entry=entry, state=settled.state, detail="never sent")
    try:
        if entry.method == ep.ISSUE_INVOICE.name and entry.can_deduplicate:
            invoice = plain.structure(json.loads(entry.payload), Invoice)
            issued = await client.issue_invoice(invoice, key=entry.key)
            how = "found: made by the lost send" if issued.deduplicated else "issued on recovery"
            return Recovered(entry=entry, state=EntryState.ISSUED, detail=how, result=issued)
        if entry.method == ep.PAYMENT.name:
            return await _recover_payment(journal, client, entry)
    except FgoError as error:
        now = await journal.get(entry.company, entry.key)
        state = now.state if now is not None else EntryState.UNKNOWN
        return Recovered(entry=entry, state=state, detail=f"{type(error).__name__}: {error}")
    return await _unknown(journal, entry, "the vendor cannot recognise a repeat: look it up")


async def _recover_payment(journal: Journal, client: FgoClient, entry: JournalEntry) -> Recovered:
    payment = plain.structure(json.loads(entry.payload), Payment)
    status = await client.invoice_status(payment.invoice)
    on_invoice = sum(1 for record in status.payments if _same(record.amount, record.date, payment))
    recorded = 0
    for other in await journal.entries([EntryState.ISSUED]):
        if other.method == entry.method and other.company == entry.company:
            earlier = plain.structure(json.loads(other.payload), Payment)
            if earlier.invoice == payment.invoice and _same(
                earlier.amount, earlier.paid_at.date(), payment
            ):
                recorded += 1
    if on_invoice > recorded:
        settled = await journal.settle(
            entry, EntryState.ISSUED, result=plain.dumps(PaymentReceipt())
        )  # fmt: skip
        return Recovered(
            entry=entry,
            state=settled.state,
            detail=f"found among the invoice's payments ({on_invoice} such, {recorded} known)",
            result=PaymentReceipt(),
        )
    # The vendor does not have it (its status is read after the lane's hold): send it again.
    receipt = await client._create(
        ep.PAYMENT,
        payment,
        key=entry.key,
        can_deduplicate=False,
        send=client._sender(ep.PAYMENT, payment),
        retake=True,
    )
    return Recovered(
        entry=entry, state=EntryState.ISSUED, detail="missing from the invoice: sent again",
        result=receipt,
    )  # fmt: skip


def _same(amount: Decimal | None, day: Any, payment: Payment) -> bool:
    return amount == payment.amount and day == payment.paid_at.date()


async def _unknown(journal: Journal, entry: JournalEntry, why: str) -> Recovered:
    if entry.state is not EntryState.UNKNOWN:
        entry_now = await journal.settle(
            entry,
            EntryState.UNKNOWN,
            error_type="Interrupted",
            error_message="left in sending by a process that ended; the vendor may have it",
        )
    else:
        entry_now = entry
    return Recovered(entry=entry, state=entry_now.state, detail=why)


def _picker(
    clients: FgoClient | Mapping[str, FgoClient] | Callable[[str], FgoClient | None],
) -> Callable[[str], FgoClient | None]:
    if isinstance(clients, Mapping):
        return clients.get
    if callable(clients) and not hasattr(clients, "cod_unic"):
        return clients

    single: Any = clients

    def one(company: str) -> FgoClient | None:
        return single if single.cod_unic == company else None

    return one
