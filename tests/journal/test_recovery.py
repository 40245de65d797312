"""What a process that ended leaves in the journal, and how recovery and later calls finish it:
never a second invoice, payment or reversal. A dead owner is a journal instance gone without
settling its rows (its owner's lock released, as when a process dies)."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from fgo_async import (
    FgoIssueTimeoutError,
    FgoOutcomeUnknownError,
    IssuedInvoice,
    RetryPolicy,
    Scheduler,
)
from fgo_async import endpoints as ep
from fgo_async.errors import CallIdentity
from fgo_async.journal import EntryState, SqliteJournal, recover
from fgo_async.journal.owners import owners_dir
from fgo_async.models import Reversal
from fgo_async.simulator import FgoSimulator, FixedLatency
from fgo_async.testing import TEST_COMPANY
from tests.journal.helpers import (
    EMITERE,
    GETSTATUS,
    INCASARE,
    STORNARE,
    calls,
    client,
    documents,
    leave_sending,
    order,
    payment,
    unkeyed,
)

pytestmark = pytest.mark.usefixtures("virtual_clock")


async def a_lost_send_that_made_it(sim: FgoSimulator, path: Path) -> IssuedInvoice:
    """Order A-1 left sending by a process that ended, its send having reached the vendor:
    the invoice exists (made here by a client without a journal)."""
    await leave_sending(path, order("A-1"), key="A-1")
    async with sim.client(scheduler=Scheduler()) as unjournaled:
        made = await unjournaled.issue_invoice(order("A-1"))
    await asyncio.sleep(2)  # the vendor's spacing, for the next client
    return made


async def test_a_row_left_sending_is_recovered_by_another_instance(
    sim: FgoSimulator, path: Path
) -> None:
    left = await leave_sending(path, order("A-1"), key="A-1")
    async with SqliteJournal(path) as journal:
        assert [e.key for e in await journal.unsettled()] == ["A-1"]
        assert left.owner is not None
        assert not (owners_dir(path) / f"{left.owner}.lock").exists()
        async with client(sim, journal) as fgo:
            report = await journal.recover(fgo)
        entry = await journal.get(TEST_COMPANY, "A-1")
        assert await journal.unsettled() == []
    # The lost send never reached the vendor: recovery issued it, once.
    assert [item.state for item in report.items] == [EntryState.ISSUED]
    assert report.items[0].detail == "issued on recovery"
    assert len(documents(sim)) == 1
    assert entry is not None
    assert entry.state is EntryState.ISSUED
    assert entry.attempts == 2


async def test_a_row_left_sending_that_reached_the_vendor_is_found_not_made_again(
    sim: FgoSimulator, path: Path
) -> None:
    made = await a_lost_send_that_made_it(sim, path)
    async with SqliteJournal(path) as journal, client(sim, journal) as fgo:
        report = await recover(journal, {TEST_COMPANY: fgo})
        again = await fgo.issue_invoice(order("A-1"))
    (item,) = report.items
    assert item.state is EntryState.ISSUED
    assert item.detail == "found: made by the lost send"
    assert item.result.ref == made.ref
    assert item.result.deduplicated
    assert again == item.result  # answered from the journal
    assert len(documents(sim)) == 1
    assert calls(sim) == 2  # the lost one's stand-in, and recovery's; none for `again`


async def test_a_row_left_sending_is_resumed_by_the_next_call_of_its_key(
    sim: FgoSimulator, path: Path
) -> None:
    made = await a_lost_send_that_made_it(sim, path)
    async with client(sim, path) as fgo:
        # No recovery run: the order is simply issued again, as a restarted shop would.
        issued = await fgo.issue_invoice(order("A-1"))
    assert issued.ref == made.ref
    assert issued.deduplicated
    assert len(documents(sim)) == 1


async def test_a_resumed_call_refused_before_processing_stays_unknown(
    sim: FgoSimulator, path: Path
) -> None:
    made = await a_lost_send_that_made_it(sim, path)
    # The next send is not issued: the vendor's own 15 s message says so.
    sim.faults.script("issue-timeout", method=EMITERE)
    journal = SqliteJournal(path)
    async with journal, client(sim, journal, retry_policy=RetryPolicy(max_attempts=1)) as fgo:
        with pytest.raises(FgoIssueTimeoutError):
            await fgo.issue_invoice(order("A-1"))
        after_timeout = await journal.get(TEST_COMPANY, "A-1")
        # Cancelled before it could leave: still the earlier send's outcome is not known.
        sim.latency = {EMITERE: FixedLatency(5.0)}
        other = asyncio.ensure_future(fgo.issue_invoice(order("Z-1", price="3")))
        await asyncio.sleep(1)  # the other order is at the vendor
        pending = asyncio.ensure_future(fgo.issue_invoice(order("A-1")))
        await asyncio.sleep(1)  # waiting for the lane
        pending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await pending
        await other
        after_cancel = await journal.get(TEST_COMPANY, "A-1")
        found = await fgo.issue_invoice(order("A-1"))
    # This send was refused, but the one before it made the invoice: never "refused".
    assert after_timeout is not None
    assert after_timeout.state is EntryState.UNKNOWN
    assert after_timeout.error_message is not None
    assert "an earlier send of this key may have reached the vendor" in after_timeout.error_message
    assert after_cancel is not None
    assert after_cancel.state is EntryState.UNKNOWN
    assert found.ref == made.ref
    assert found.deduplicated
    assert len(documents(sim)) == 2  # A-1 once, and the other order


async def test_a_row_without_a_key_the_vendor_knows_becomes_unknown_and_is_never_sent(
    sim: FgoSimulator, path: Path
) -> None:
    await leave_sending(path, unkeyed(), key="cart-1")
    async with SqliteJournal(path) as journal, client(sim, journal) as fgo:
        report = await recover(journal, fgo)
        second = await recover(journal, fgo)  # reported again, still not sent
        with pytest.raises(FgoOutcomeUnknownError) as raised:
            await fgo.issue_invoice(unkeyed(), key="cart-1")
        entry = await journal.get(TEST_COMPANY, "cart-1")
    assert calls(sim) == 0
    (item,) = report.items
    assert item.state is EntryState.UNKNOWN
    # Everything needed to look it up in FGO.
    line = item.describe()
    for needed in (EMITERE, TEST_COMPANY, "BV", "Ionescu Popescu SRL", "cart-1"):
        assert needed in line
    assert [i.state for i in second.unknown] == [EntryState.UNKNOWN]
    assert entry is not None
    assert entry.state is EntryState.UNKNOWN
    assert entry.error_type == "Interrupted"
    assert "reconcile" in str(raised.value)


async def test_the_next_call_of_a_key_left_sending_without_a_vendor_key_is_unknown(
    sim: FgoSimulator, path: Path
) -> None:
    await leave_sending(path, unkeyed(), key="cart-1")
    async with SqliteJournal(path) as journal, client(sim, journal) as fgo:
        with pytest.raises(FgoOutcomeUnknownError):
            await fgo.issue_invoice(unkeyed(), key="cart-1")
        entry = await journal.get(TEST_COMPANY, "cart-1")
    assert calls(sim) == 0
    assert entry is not None
    assert entry.state is EntryState.UNKNOWN


async def test_a_lock_file_left_behind_unlocked_is_a_dead_owner(
    sim: FgoSimulator, path: Path
) -> None:
    left = await leave_sending(path, order("A-1"), key="A-1")
    # A process killed with -9 leaves its lock file, unlocked.
    assert left.owner is not None
    lock = owners_dir(path) / f"{left.owner}.lock"
    lock.write_bytes(b"")
    async with SqliteJournal(path) as journal, client(sim, journal) as fgo:
        report = await recover(journal, fgo)
    assert [i.state for i in report.items] == [EntryState.ISSUED]
    assert not lock.exists()  # tidied up
    assert len(documents(sim)) == 1


async def test_a_row_of_a_live_owner_is_left_alone(sim: FgoSimulator, path: Path) -> None:
    async with SqliteJournal(path) as alive:
        begun = await alive.begin(
            TEST_COMPANY,
            "A-1",
            method=EMITERE,
            digest="d",
            payload="{}",
            identity=CallIdentity(method=EMITERE, company=TEST_COMPANY),
            can_deduplicate=True,
        )
        await alive.mark_sending(begun.entry, "factura")
        async with SqliteJournal(path) as other, client(sim, other) as fgo:
            assert await other.unsettled() == []
            report = await recover(other, fgo)
            entry = await other.get(TEST_COMPANY, "A-1")
        await alive.settle(begun.entry, EntryState.REFUSED)
    assert report.items == ()
    assert entry is not None
    assert entry.state is EntryState.SENDING
    assert calls(sim) == 0


async def test_a_row_of_another_machine_is_never_taken_over(sim: FgoSimulator, path: Path) -> None:
    await leave_sending(path, order("A-1"), key="A-1")
    other_host = f"not-{socket.gethostname()}-{os.getpid()}-00000000"
    async with SqliteJournal(path) as journal:
        await journal._submit(
            lambda connection: connection.execute("UPDATE calls SET owner = ?", (other_host,))
        )
        async with client(sim, journal) as fgo:
            report = await recover(journal, fgo)
    assert report.items == ()
    assert calls(sim) == 0


async def test_a_row_left_planned_was_never_sent_and_is_recorded_refused(
    sim: FgoSimulator, path: Path
) -> None:
    invoice = order("A-1")
    await leave_sending(path, invoice, key="A-1", sent=False)
    async with SqliteJournal(path) as journal, client(sim, journal) as fgo:
        report = await recover(journal, fgo)
        entry = await journal.get(TEST_COMPANY, "A-1")
        issued = await fgo.issue_invoice(invoice)  # the key may go again
    assert [(i.state, i.detail) for i in report.items] == [(EntryState.REFUSED, "never sent")]
    assert entry is not None
    assert entry.error_type == "NotSent"
    assert not issued.deduplicated
    assert calls(sim) == 1


async def test_a_payment_found_on_the_invoice_is_not_sent_again(
    sim: FgoSimulator, path: Path
) -> None:
    async with client(sim, path) as fgo:
        issued = await fgo.issue_invoice(order("A-1", price="100"))
        # The lost send reached the vendor: the payment is there.
        await fgo.add_payment(payment(issued.ref, "10"), key="pay-0")
    await leave_sending(path, payment(issued.ref, "25"), key="pay-1", endpoint=ep.PAYMENT)
    async with sim.client(scheduler=Scheduler()) as unjournaled:
        await unjournaled.add_payment(payment(issued.ref, "25"))
    await asyncio.sleep(2)
    sim.reset_records()
    async with SqliteJournal(path) as journal, client(sim, journal) as fgo:
        report = await recover(journal, fgo)
        again = await fgo.add_payment(payment(issued.ref, "25"), key="pay-1")
        status = await fgo.invoice_status(issued.ref)
    (item,) = report.items
    assert item.state is EntryState.ISSUED
    assert item.detail.startswith("found among the invoice's payments")
    assert again == item.result
    assert [c.method for c in sim.calls] == [GETSTATUS, GETSTATUS]  # read, never sent
    assert sorted(p.amount for p in status.payments) == [10, 25]


async def test_a_payment_missing_from_the_invoice_is_sent_again_after_reading_it(
    sim: FgoSimulator, path: Path
) -> None:
    async with client(sim, path) as fgo:
        issued = await fgo.issue_invoice(order("A-1", price="100"))
        # An earlier payment of the same amount and day, recorded: it does not count.
        await fgo.add_payment(payment(issued.ref, "25"), key="pay-0")
    await leave_sending(path, payment(issued.ref, "25"), key="pay-1", endpoint=ep.PAYMENT)
    sim.reset_records()
    async with SqliteJournal(path) as journal, client(sim, journal) as fgo:
        report = await recover(journal, fgo)
        status = await fgo.invoice_status(issued.ref)
        entry = await journal.get(TEST_COMPANY, "pay-1")
    (item,) = report.items
    assert item.state is EntryState.ISSUED
    assert item.detail == "missing from the invoice: sent again"
    assert [c.method for c in sim.calls][:2] == [GETSTATUS, INCASARE]  # status first
    assert [p.amount for p in status.payments] == [25, 25]
    assert entry is not None
    assert entry.state is EntryState.ISSUED


async def test_a_payment_left_sending_is_unknown_to_the_next_call_of_its_key(
    sim: FgoSimulator, path: Path
) -> None:
    async with client(sim, path) as fgo:
        issued = await fgo.issue_invoice(order("A-1"))
    await leave_sending(path, payment(issued.ref), key="pay-1", endpoint=ep.PAYMENT)
    sim.reset_records()
    async with client(sim, path) as fgo:
        with pytest.raises(FgoOutcomeUnknownError):
            await fgo.add_payment(payment(issued.ref), key="pay-1")
    assert calls(sim, INCASARE) == 0


async def test_a_reversal_left_sending_is_unknown(sim: FgoSimulator, path: Path) -> None:
    async with client(sim, path) as fgo:
        issued = await fgo.issue_invoice(order("A-1"))
    await leave_sending(
        path, Reversal(invoice=issued.ref), key="storno-1", endpoint=ep.REVERSE_INVOICE
    )
    async with SqliteJournal(path) as journal, client(sim, journal) as fgo:
        report = await recover(journal, fgo)
        with pytest.raises(FgoOutcomeUnknownError):
            await fgo.reverse_invoice(issued.ref, key="storno-1")
    (item,) = report.items
    assert item.state is EntryState.UNKNOWN
    assert STORNARE in item.describe()
    assert "BV-001" in item.describe()
    assert calls(sim, STORNARE) == 0


async def test_recovery_takes_clients_by_mapping_or_function_and_checks_their_journal(
    sim: FgoSimulator, path: Path
) -> None:
    await leave_sending(path, order("A-1"), key="A-1")
    async with SqliteJournal(path) as journal:
        async with client(sim, path) as stranger:  # a client of another journal
            with pytest.raises(ValueError, match="does not use this journal"):
                await recover(journal, stranger)
        nobody = await recover(journal, lambda company: None)
        async with client(sim, journal) as fgo:
            report = await recover(journal, lambda company: fgo)
    assert [i.detail for i in nobody.items] == ["no client for this company"]
    assert [i.state for i in nobody.items] == [EntryState.SENDING]
    assert [i.state for i in report.items] == [EntryState.ISSUED]
