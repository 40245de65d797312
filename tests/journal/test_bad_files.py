"""A journal file that cannot be used: a clear FgoJournalError naming the file, raised before
anything is sent, and nothing the file held is lost."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
from pathlib import Path

import attrs
import pytest

from fgo_async import FgoJournalError, InvoiceLine
from fgo_async.journal import SCHEMA_VERSION, EntryState, SqliteJournal, recover
from fgo_async.journal.owners import owners_dir
from fgo_async.simulator import FgoSimulator
from tests.journal.helpers import EMITERE, calls, client, documents, order, sql

pytestmark = pytest.mark.usefixtures("virtual_clock")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def refused_before_sending(sim: FgoSimulator, journal: SqliteJournal) -> str:
    """Issue an invoice through ``journal``, which must fail; returns the error's text."""
    try:
        async with client(sim, journal) as fgo:
            with pytest.raises(FgoJournalError) as raised:
                await fgo.issue_invoice(order("B-1"))
            # A second call fails the same way: the journal does not half-work.
            with pytest.raises(FgoJournalError):
                await fgo.issue_invoice(order("B-2"))
    finally:
        await journal.aclose()
    assert raised.value.path == str(journal.path)
    assert str(journal.path) in str(raised.value)
    assert calls(sim) == 0  # nothing was sent
    return str(raised.value)


async def recorded(path: Path, *, journal: SqliteJournal | None = None) -> list[tuple[str, str]]:
    """(key, state) of every entry, read by a journal opened on the file."""
    async with journal or SqliteJournal(path) as reader:
        return [(e.key, e.state.value) for e in await reader.entries()]


async def a_journal_with_one_call(sim: FgoSimulator, path: Path) -> None:
    async with client(sim, path) as fgo:
        await fgo.issue_invoice(order("A-1"))
    sim.reset_records()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


async def test_a_corrupt_file(sim: FgoSimulator, path: Path) -> None:
    write(path, os.urandom(16384))
    before = digest(path)
    message = await refused_before_sending(sim, SqliteJournal(path))
    assert "is not a journal" in message
    assert digest(path) == before  # left as it was
    assert not owners_dir(path).exists()


async def test_another_applications_database(sim: FgoSimulator, path: Path) -> None:
    sql(path, "CREATE TABLE orders (id INTEGER PRIMARY KEY, total TEXT)")
    sql(path, "INSERT INTO orders (total) VALUES ('12.50')")
    before = digest(path)
    message = await refused_before_sending(sim, SqliteJournal(path))
    assert "another application's data" in message
    # Not even switched to WAL mode: the other application's file is exactly as it was.
    assert digest(path) == before
    assert sql(path, "SELECT total FROM orders") == [("12.50",)]
    assert sql(path, "PRAGMA journal_mode") == [("delete",)]


async def test_a_journal_of_a_newer_schema(sim: FgoSimulator, path: Path) -> None:
    await a_journal_with_one_call(sim, path)
    sql(path, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    message = await refused_before_sending(sim, SqliteJournal(path))
    assert f"schema {SCHEMA_VERSION + 1}" in message
    assert "newer fgo_async" in message
    sql(path, f"PRAGMA user_version = {SCHEMA_VERSION}")
    assert await recorded(path) == [("A-1", "issued")]


async def test_a_file_locked_when_the_journal_opens(sim: FgoSimulator, path: Path) -> None:
    await a_journal_with_one_call(sim, path)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE lanes SET last_sent = last_sent")  # a write under way
        message = await refused_before_sending(sim, SqliteJournal(path, busy_timeout=0.2))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "locked by another process for more than 0.2 s" in message
    assert await recorded(path) == [("A-1", "issued")]


async def test_a_file_locked_while_the_journal_is_open(sim: FgoSimulator, path: Path) -> None:
    await a_journal_with_one_call(sim, path)
    journal = SqliteJournal(path, busy_timeout=0.2)
    async with journal, client(sim, journal) as fgo:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(FgoJournalError) as raised:
                await fgo.issue_invoice(order("B-1"))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert raised.value.path == str(path)
        assert "locked" in str(raised.value)
        assert calls(sim) == 0
        # Once the other process lets go, the journal works again.
        await fgo.issue_invoice(order("B-1"))
    assert await recorded(path) == [("A-1", "issued"), ("B-1", "issued")]


class FullDisk(SqliteJournal):
    """A journal whose file cannot grow by one page: SQLite reports SQLITE_FULL on a write
    that needs room, as on a full disk."""

    def _connect(self) -> sqlite3.Connection:
        connection = super()._connect()
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")
        return connection


async def test_a_full_disk(sim: FgoSimulator, path: Path) -> None:
    await a_journal_with_one_call(sim, path)
    long_line = InvoiceLine(
        name="Carte", quantity=1, unit="buc", vat_rate=21, unit_price="10", description="d" * 4000
    )
    big = attrs.evolve(order("B-1"), lines=[long_line] * 5)  # 20 kB: more than a page
    journal = FullDisk(path)
    async with journal, client(sim, journal) as fgo:
        with pytest.raises(FgoJournalError) as raised:
            await fgo.issue_invoice(big)
    assert raised.value.path == str(path)
    assert "the disk is full" in str(raised.value)
    assert calls(sim) == 0
    assert await recorded(path) == [("A-1", "issued")]


class LosesTheEnd(SqliteJournal):
    """A journal that cannot write how a call ended (the disk went read-only meanwhile)."""

    async def settle(self, entry, state, **kwargs):  # type: ignore[no-untyped-def]
        await self._submit(lambda connection: connection.execute("PRAGMA query_only = 1"))
        try:
            return await super().settle(entry, state, **kwargs)
        finally:
            await self._submit(lambda connection: connection.execute("PRAGMA query_only = 0"))


async def test_a_journal_that_cannot_record_the_end_still_returns_the_invoice(
    sim: FgoSimulator, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = LosesTheEnd(path)
    async with journal, client(sim, journal) as fgo:
        issued = await fgo.issue_invoice(order("A-1"))
    # The vendor made it: that is the answer, not a journal error that would say nothing left.
    assert issued.ref.number == "001"
    assert "could not record the end" in caplog.text
    assert await recorded(path) == [("A-1", "sending")]
    # The row left sending is finished later without a second invoice.
    async with SqliteJournal(path) as reader, client(sim, reader) as fgo:
        report = await recover(reader, fgo)
    assert [(i.state, i.result.ref) for i in report.items] == [(EntryState.ISSUED, issued.ref)]
    assert len(documents(sim)) == 1


async def test_a_failed_open_closes_without_waiting(path: Path) -> None:
    journal = SqliteJournal(write(path, b"not a database at all" * 100))
    for _ in range(2):
        with pytest.raises(FgoJournalError):
            await journal.open()
    await asyncio.wait_for(journal.aclose(), 5)
    with pytest.raises(FgoJournalError, match="closed"):
        await journal.open()


async def test_a_caller_cancelled_while_the_file_opens_leaves_it_open_for_the_others(
    sim: FgoSimulator, path: Path
) -> None:
    journal = SqliteJournal(path)
    impatient = asyncio.ensure_future(journal.open())
    patient = asyncio.ensure_future(journal.open())
    await asyncio.sleep(0)
    impatient.cancel()
    assert await patient is journal
    async with journal, client(sim, journal) as fgo:
        await fgo.issue_invoice(order("A-1"))
    assert impatient.cancelled()
    assert calls(sim, EMITERE) == 1


def test_a_negative_busy_timeout_is_refused(path: Path) -> None:
    with pytest.raises(ValueError, match="busy_timeout"):
        SqliteJournal(path, busy_timeout=-1)
