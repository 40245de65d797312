"""Journaled calls in one process, on real SQLite files and the in-process simulator, on virtual
time: each state, the same key again, a key reused for another payload, concurrent calls of one
key, refused and cancelled calls, group commit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from pathlib import Path

import pytest

from fgo_async import (
    FgoDuplicateError,
    FgoIssueTimeoutError,
    FgoOutcomeUnknownError,
    FgoValidationError,
    IssuedInvoice,
    RetryPolicy,
    Scheduler,
    plain,
)
from fgo_async.journal import EntryState, SqliteJournal
from fgo_async.simulator import FgoSimulator, FixedLatency
from fgo_async.testing import TEST_COMPANY
from tests.journal.helpers import (
    EMITERE,
    INCASARE,
    STORNARE,
    calls,
    client,
    documents,
    order,
    payment,
    ref_of,
    unkeyed,
)

pytestmark = pytest.mark.usefixtures("virtual_clock")


async def test_an_issued_call_goes_planned_then_sending_then_issued(
    sim: FgoSimulator, path: Path
) -> None:
    journal = SqliteJournal(path)
    sim.latency = {EMITERE: FixedLatency(0.5)}
    async with journal, client(sim, journal) as fgo:
        pending = asyncio.ensure_future(fgo.issue_invoice(order("A-1")))
        await asyncio.sleep(0.25)  # the request is at the vendor
        assert calls(sim) == 1
        # What the file holds, read by another connection, while the request is out.
        with contextlib.closing(sqlite3.connect(path)) as other:
            seen = other.execute("SELECT state, attempts FROM calls WHERE key = 'A-1'").fetchall()
        issued = await pending
        entry = await journal.get(TEST_COMPANY, "A-1")
    assert seen == [("sending", 1)]  # committed before the request left
    assert entry is not None
    assert entry.state is EntryState.ISSUED
    assert entry.method == EMITERE
    assert entry.can_deduplicate
    assert entry.owner is None
    assert entry.sent_at is not None
    assert entry.settled_at is not None
    assert entry.identity.external_id == "A-1"
    assert entry.result is not None
    assert plain.structure(json.loads(entry.result), IssuedInvoice) == issued


async def test_a_call_waiting_for_its_lane_is_planned(sim: FgoSimulator, path: Path) -> None:
    async with SqliteJournal(path) as journal, client(sim, journal) as fgo:
        await fgo.issue_invoice(order("A-1"))
        second = asyncio.ensure_future(fgo.issue_invoice(order("A-2", price="5")))
        await asyncio.sleep(0.5)  # the second waits for the 1 s spacing
        waiting = await journal.get(TEST_COMPANY, "A-2")
        assert calls(sim) == 1
        assert waiting is not None
        assert waiting.state is EntryState.PLANNED
        assert waiting.attempts == 0
        assert waiting.sent_at is None
        assert waiting.owner == journal.owner
        await second
        assert [e.state for e in await journal.entries()] == [EntryState.ISSUED] * 2


async def test_the_same_key_again_returns_the_recorded_invoice_without_a_call(
    sim: FgoSimulator, path: Path
) -> None:
    async with client(sim, path) as fgo:
        first = await fgo.issue_invoice(order("A-1"))
    # Another client, another journal instance on the file: a process started later.
    async with client(sim, path) as fgo:
        again = await fgo.issue_invoice(order("A-1"))
    assert again == first
    assert calls(sim) == 1
    assert len(documents(sim)) == 1


async def test_an_explicit_key_is_the_key(sim: FgoSimulator, path: Path) -> None:
    async with SqliteJournal(path) as journal, client(sim, journal) as fgo:
        first = await fgo.issue_invoice(unkeyed(), key="cart-7")
        again = await fgo.issue_invoice(unkeyed(), key="cart-7")
        other = await fgo.issue_invoice(unkeyed(price="7"), key="cart-8")
        entries = await journal.entries()
    assert again == first
    assert other != first
    assert calls(sim) == 2
    assert [e.key for e in entries] == ["cart-7", "cart-8"]


async def test_the_same_key_with_another_payload_is_refused_and_nothing_is_sent(
    sim: FgoSimulator, path: Path
) -> None:
    async with client(sim, path) as fgo:
        await fgo.issue_invoice(order("A-1"))
        with pytest.raises(FgoValidationError) as raised:
            await fgo.issue_invoice(order("A-1", price="20.00"))
        # A payment under a key an invoice used is another payload too.
        with pytest.raises(FgoValidationError) as payment_raised:
            await fgo.add_payment(payment(ref_of(documents(sim)[0])), key="A-1")
    assert [p.rule for p in raised.value.problems] == ["key_reused"]
    assert raised.value.fields == ("key",)
    assert "'A-1'" in str(raised.value)
    assert EMITERE in str(raised.value)
    # The message names the call the key was used for.
    assert EMITERE in str(payment_raised.value)
    assert [p.rule for p in payment_raised.value.problems] == ["key_reused"]
    assert calls(sim) == 1
    assert calls(sim, INCASARE) == 0


async def test_two_calls_of_one_key_at_once_make_one_vendor_call(
    sim: FgoSimulator, path: Path
) -> None:
    sim.latency = {EMITERE: FixedLatency(2.0)}
    async with client(sim, path) as fgo:
        first, second = await asyncio.gather(
            fgo.issue_invoice(order("A-1")), fgo.issue_invoice(order("A-1"))
        )
    assert first == second
    assert calls(sim) == 1
    assert len(documents(sim)) == 1


async def test_two_payments_of_one_key_at_once_record_one_payment(
    sim: FgoSimulator, path: Path
) -> None:
    sim.latency = {INCASARE: FixedLatency(2.0)}
    async with client(sim, path) as fgo:
        issued = await fgo.issue_invoice(order("A-1"))
        first, second = await asyncio.gather(
            fgo.add_payment(payment(issued.ref), key="pay-1"),
            fgo.add_payment(payment(issued.ref), key="pay-1"),
        )
        status = await fgo.invoice_status(issued.ref)
    assert first == second
    assert calls(sim, INCASARE) == 1
    assert len(status.payments) == 1


async def test_a_refused_call_is_recorded_and_may_be_sent_again(
    sim: FgoSimulator, path: Path
) -> None:
    sim.faults.script("issue-timeout", method=EMITERE)
    async with SqliteJournal(path) as journal:
        async with client(sim, journal, retry_policy=RetryPolicy(max_attempts=1)) as fgo:
            with pytest.raises(FgoIssueTimeoutError):
                await fgo.issue_invoice(order("A-1"))
            refused = await journal.get(TEST_COMPANY, "A-1")
            issued = await fgo.issue_invoice(order("A-1"))
        entry = await journal.get(TEST_COMPANY, "A-1")
    assert refused is not None
    assert refused.state is EntryState.REFUSED
    assert refused.error_type == "FgoIssueTimeoutError"
    assert refused.result is None
    assert entry is not None
    assert entry.state is EntryState.ISSUED
    assert entry.attempts == 2
    assert not issued.deduplicated
    assert calls(sim) == 2
    assert len(documents(sim)) == 1


async def test_a_lost_reply_without_a_key_the_vendor_knows_is_unknown(
    sim: FgoSimulator, path: Path
) -> None:
    sim.faults.script("drop-after", method=EMITERE)
    async with SqliteJournal(path) as journal, client(sim, journal) as fgo:
        with pytest.raises(FgoOutcomeUnknownError):
            await fgo.issue_invoice(unkeyed(), key="cart-1")
        entry = await journal.get(TEST_COMPANY, "cart-1")
        # Asked again, the journal answers: it may exist; never sent blindly.
        with pytest.raises(FgoOutcomeUnknownError) as again:
            await fgo.issue_invoice(unkeyed(), key="cart-1")
    assert entry is not None
    assert entry.state is EntryState.UNKNOWN
    assert not entry.can_deduplicate
    assert entry.error_type == "FgoOutcomeUnknownError"
    assert "reconcile" in str(again.value)
    assert again.value.identity is not None
    assert again.value.identity.method == EMITERE
    assert calls(sim) == 1
    assert len(documents(sim)) == 1


async def test_an_unknown_call_with_a_key_the_vendor_knows_is_found_when_sent_again(
    sim: FgoSimulator, path: Path
) -> None:
    # A reply lost with the retries spent leaves the call unknown; the same key again is
    # sent with the duplicate check and finds the invoice the lost call made.
    sim.faults.script("drop-after", method=EMITERE)
    async with SqliteJournal(path) as journal:
        async with client(sim, journal, retry_policy=RetryPolicy(max_attempts=1)) as fgo:
            with pytest.raises(FgoOutcomeUnknownError):
                await fgo.issue_invoice(order("A-1"))
            unknown = await journal.get(TEST_COMPANY, "A-1")
            found = await fgo.issue_invoice(order("A-1"))
            again = await fgo.issue_invoice(order("A-1"))
        entry = await journal.get(TEST_COMPANY, "A-1")
    assert unknown is not None
    assert unknown.state is EntryState.UNKNOWN
    assert found.deduplicated
    assert found.ref == ref_of(documents(sim)[0])
    assert again == found
    assert entry is not None
    assert entry.state is EntryState.ISSUED
    assert calls(sim) == 2
    assert len(documents(sim)) == 1


async def test_a_duplicate_no_call_of_this_key_explains_is_recorded_as_that_invoice(
    sim: FgoSimulator, path: Path
) -> None:
    scheduler = Scheduler()
    async with sim.client(scheduler=scheduler) as unjournaled:
        earlier = await unjournaled.issue_invoice(order("A-1"))
    async with SqliteJournal(path) as journal, client(sim, journal, scheduler=scheduler) as fgo:
        with pytest.raises(FgoDuplicateError) as raised:
            await fgo.issue_invoice(order("A-1"))
        entry = await journal.get(TEST_COMPANY, "A-1")
        again = await fgo.issue_invoice(order("A-1"))
    assert raised.value.existing == earlier.ref
    assert entry is not None
    assert entry.state is EntryState.ISSUED
    assert again.ref == earlier.ref
    assert again.deduplicated
    assert calls(sim) == 2
    assert len(documents(sim)) == 1


async def test_payments_and_reversals_are_journaled_under_their_keys(
    sim: FgoSimulator, path: Path
) -> None:
    async with SqliteJournal(path) as journal, client(sim, journal) as fgo:
        issued = await fgo.issue_invoice(order("A-1"))
        receipt = await fgo.add_payment(payment(issued.ref), key="pay-1")
        same = await fgo.add_payment(payment(issued.ref), key="pay-1")
        reversal = await fgo.reverse_invoice(issued.ref, key="storno-1")
        same_reversal = await fgo.reverse_invoice(issued.ref, key="storno-1")
        auto_keyed = await fgo.add_payment(payment(issued.ref, "1"))
        entries = await journal.entries()
    assert same == receipt
    assert same_reversal == reversal
    assert calls(sim, INCASARE) == 2
    assert calls(sim, STORNARE) == 1
    assert auto_keyed.receipt != receipt.receipt
    methods = [(e.method, e.state) for e in entries]
    assert methods == [
        (EMITERE, EntryState.ISSUED),
        (INCASARE, EntryState.ISSUED),
        ("factura/stornare", EntryState.ISSUED),
        (INCASARE, EntryState.ISSUED),
    ]
    # A call given no key is recorded under a key of its own, never recognised again.
    assert entries[3].key.startswith("auto-")
    assert not any(e.can_deduplicate for e in entries[1:])


async def test_a_call_cancelled_before_it_was_sent_is_withdrawn(
    sim: FgoSimulator, path: Path
) -> None:
    sim.latency = {EMITERE: FixedLatency(0.5)}
    async with SqliteJournal(path) as journal, client(sim, journal) as fgo:
        first = asyncio.ensure_future(fgo.issue_invoice(order("A-1")))
        await asyncio.sleep(0.1)  # the first is at the vendor
        waiting = asyncio.ensure_future(fgo.issue_invoice(order("A-2", price="5")))
        await asyncio.sleep(0.2)  # the second waits for the lane
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await first
        withdrawn = await journal.get(TEST_COMPANY, "A-2")
        # Withdrawn: nothing was made, and the key may be sent again.
        issued = await fgo.issue_invoice(order("A-2", price="5"))
    assert calls(sim) == 2
    assert withdrawn is not None
    assert withdrawn.state is EntryState.REFUSED
    assert withdrawn.error_type == "CancelledError"
    assert withdrawn.error_message == "withdrawn before it was sent"
    assert withdrawn.attempts == 0
    assert not issued.deduplicated
    assert len(documents(sim)) == 2


async def test_a_call_cancelled_after_it_was_sent_is_unknown(sim: FgoSimulator, path: Path) -> None:
    sim.latency = {EMITERE: FixedLatency(5.0)}
    async with SqliteJournal(path) as journal, client(sim, journal) as fgo:
        out = asyncio.ensure_future(fgo.issue_invoice(order("A-1")))
        await asyncio.sleep(1.0)  # at the vendor
        out.cancel()
        with pytest.raises(asyncio.CancelledError):
            await out
        abandoned = await journal.get(TEST_COMPANY, "A-1")
        await asyncio.sleep(10)  # the vendor finished it meanwhile
        found = await fgo.issue_invoice(order("A-1"))
    assert abandoned is not None
    assert abandoned.state is EntryState.UNKNOWN
    assert abandoned.error_message == "abandoned after it was sent"
    # Sent again with the duplicate check: the vendor names the invoice the abandoned call made.
    assert found.deduplicated
    assert len(documents(sim)) == 1
    assert calls(sim) == 2


async def test_calls_leaving_together_share_commits(path: Path) -> None:
    companies = {f"2000{n:04d}": f"key-{n}" for n in range(40)}
    sim = FgoSimulator(companies, seed=1)
    scheduler = Scheduler(seed=1)
    async with SqliteJournal(path) as journal:
        clients = [sim.client(c, journal=journal, scheduler=scheduler) for c in companies]
        outcomes = await asyncio.gather(
            *(fgo.issue_invoice(order(f"{fgo.cod_unic}-1")) for fgo in clients)
        )
        for fgo in clients:
            await fgo.aclose()
        await scheduler.aclose()
        commits, jobs = journal.commits, journal.jobs
        entries = await journal.entries()
    assert all(isinstance(o, IssuedInvoice) for o in outcomes)
    assert [e.state for e in entries] == [EntryState.ISSUED] * 40
    # 40 calls: at least planned, sending and issued each, in far fewer transactions.
    assert jobs >= 120
    assert commits < jobs
    assert commits <= jobs / 2, (commits, jobs)
    assert journal.commit_seconds > 0
