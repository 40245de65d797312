"""Helpers of the journal's tests: keyed orders, rows left by a process that ended, counts of
what reached the simulator."""

from __future__ import annotations

import contextlib
import datetime
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from fgo_async import Invoice, InvoiceLine, InvoiceRef, Payment, Scheduler, plain
from fgo_async import endpoints as ep
from fgo_async.client import FgoClient
from fgo_async.endpoints import Endpoint
from fgo_async.journal import JournalEntry, SqliteJournal, digest_of
from fgo_async.protocol import identify
from fgo_async.simulator import FgoSimulator
from fgo_async.testing import TEST_COMPANY
from tests.simulator.sim_helpers import make_invoice

EMITERE = "factura/emitere"
INCASARE = "factura/incasare"
STORNARE = "factura/stornare"
GETSTATUS = "factura/getstatus"


def order(external_id: str, *, price: str | Decimal = "19.99", **overrides: Any) -> Invoice:
    """An invoice the vendor can deduplicate: ``external_id`` with the duplicate check."""
    return make_invoice(
        external_id=external_id,
        check_duplicate=True,
        lines=[InvoiceLine(name="Carte", quantity=1, unit="buc", vat_rate=21, unit_price=price)],
        **overrides,
    )


def unkeyed(price: str = "19.99") -> Invoice:
    """An invoice the vendor cannot deduplicate (no ``external_id``): journaled under a key the
    caller gives, never sent again blindly."""
    return attrs.evolve(order("-", price=price), external_id=None, check_duplicate=None)


def payment(ref: InvoiceRef, amount: str = "10") -> Payment:
    """A card payment of ``amount`` on ``ref``."""
    return Payment(
        invoice=ref,
        payment_type="Card",
        amount=amount,
        paid_at=datetime.datetime(2026, 3, 2, 10, 30),
    )


def sql(path: Path, statement: str, *parameters: Any) -> list[Any]:
    """Run one statement on the file as another program would (its own connection, committed
    at once); returns the rows."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as connection:
        return connection.execute(statement, parameters).fetchall()


def calls(simulator: FgoSimulator, method: str = EMITERE) -> int:
    """How many calls of ``method`` reached the simulator."""
    return len(simulator.calls_to(method))


def documents(simulator: FgoSimulator, company: str = TEST_COMPANY) -> list[Any]:
    """The documents the company issued, in order."""
    return list(simulator.company(company).documents.values())


def ref_of(document: Any) -> InvoiceRef:
    """The reference of a simulator document."""
    return InvoiceRef(series=document.series, number=document.number)


def client(simulator: FgoSimulator, journal: Any, **options: Any) -> FgoClient:
    """A client of the simulator's test company with ``journal`` and a scheduler of its own
    (nothing carries over from another test through the default one)."""
    options.setdefault("scheduler", Scheduler(seed=1))
    return simulator.client(TEST_COMPANY, journal=journal, **options)


async def leave_sending(
    path: Path,
    payload: Any,
    *,
    key: str,
    endpoint: Endpoint[Any, Any] = ep.ISSUE_INVOICE,
    company: str = TEST_COMPANY,
    can_deduplicate: bool | None = None,
    sent: bool = True,
) -> JournalEntry:
    """The row a process leaves when it ends while its request is out: planned and committed
    as sending (only planned unless ``sent``) by a journal instance that then goes away
    without settling it (its owner's lock released, as the kernel releases it when a process
    dies)."""
    if can_deduplicate is None:
        can_deduplicate = isinstance(payload, Invoice) and payload.can_deduplicate
    dead = SqliteJournal(path)
    begun = await dead.begin(
        company,
        key,
        method=endpoint.name,
        digest=digest_of(payload),
        payload=plain.dumps(payload),
        identity=identify(endpoint, payload, company),
        can_deduplicate=can_deduplicate,
    )
    assert begun.kind == "new"
    entry = begun.entry
    if sent:
        entry = await dead.mark_sending(entry, endpoint.bucket.value)
    await dead.aclose()
    return entry
