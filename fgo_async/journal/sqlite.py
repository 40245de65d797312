"""The journal in SQLite: the standard library's ``sqlite3``, off the event loop, with group commit.

One thread owns the connection and runs every read and write, so the event loop never waits on
the disk. The database is in WAL mode with ``synchronous=FULL``: a commit is on disk (fsync'd)
before the coroutine that asked for it resumes, so "sending" is durable before the request
leaves. Calls that ask at the same moment share one transaction and one fsync (group commit):
at a hundred companies the journal costs one fsync per burst, not one per call.

Several processes of one machine may share one file (SQLite locks it; a busy file is waited
for); a row left ``sending`` by a process that ended is found by :mod:`.owners`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ..errors import CallIdentity, FgoJournalError
from ..virtual_time import real_work
from .entry import EntryState, JournalEntry
from .owners import OwnerLock

if TYPE_CHECKING:
    from ..client import FgoClient
    from .recovery import RecoveryReport

__all__ = ["SCHEMA_VERSION", "BeginOutcome", "SqliteJournal"]

T = TypeVar("T")

#: The version of the schema this code writes (``PRAGMA user_version``).
SCHEMA_VERSION = 1
#: ``PRAGMA application_id`` of a journal: "FGOJ". A database without it is not ours.
APPLICATION_ID = 0x46474F4A
#: How long a busy database (another process committing) is waited for, in seconds.
BUSY_TIMEOUT = 10.0
#: The vendor's longest interval: a lane's history older than this cannot delay anything.
LANE_MEMORY = 1800.0

_SCHEMA = """
CREATE TABLE calls (
    company TEXT NOT NULL,
    key TEXT NOT NULL,
    method TEXT NOT NULL,
    digest TEXT NOT NULL,
    state TEXT NOT NULL
        CHECK (state IN ('planned', 'sending', 'issued', 'refused', 'unknown')),
    owner TEXT,
    payload TEXT NOT NULL,
    can_deduplicate INTEGER NOT NULL,
    identity TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    sent_at REAL,
    settled_at REAL,
    result TEXT,
    error_type TEXT,
    error_message TEXT,
    PRIMARY KEY (company, key)
) WITHOUT ROWID;
CREATE INDEX calls_open ON calls (state) WHERE state IN ('planned', 'sending', 'unknown');
CREATE TABLE lanes (
    company TEXT NOT NULL,
    bucket TEXT NOT NULL,
    last_sent REAL NOT NULL,
    in_flight_key TEXT,
    in_flight_owner TEXT,
    PRIMARY KEY (company, bucket)
) WITHOUT ROWID;
"""

_COLUMNS = (
    "company, key, method, digest, state, owner, payload, can_deduplicate, identity, attempts, "
    "created_at, sent_at, settled_at, result, error_type, error_message"
)


@attrs.frozen(kw_only=True)
class BeginOutcome:
    """What :meth:`SqliteJournal.begin` found.

    ``kind`` is ``"new"`` (the call may go: its row is planned and ours), ``"issued"`` (the
    same key was issued: ``entry`` has the result), ``"conflict"`` (the key was used with
    another payload), ``"busy"`` (a live call of another process is sending it; a call of
    this process is waited for instead), or ``"unknown"`` (an earlier call with this key may
    have made it; reconcile first).
    ``resumed`` is True for a new call of a key whose earlier send may have reached the
    vendor (it was left sending, or unknown): a duplicate refusal then names its own invoice.
    """

    kind: str
    entry: JournalEntry
    resumed: bool = False


class _Job:
    __slots__ = ("error", "fn", "future", "loop", "result")

    def __init__(
        self,
        fn: Callable[[sqlite3.Connection], Any],
        loop: asyncio.AbstractEventLoop | None,
        future: asyncio.Future[Any] | None,
    ) -> None:
        self.fn = fn
        self.loop = loop
        self.future = future
        self.result: Any = None
        self.error: BaseException | None = None


_STOP = object()


class SqliteJournal:
    """The write-ahead journal of the calls that create something, in one SQLite file.

    Give it a path; :meth:`open` (or ``async with``) creates or checks the file. Every method
    is a coroutine that runs on the journal's own thread. ``busy_timeout`` is how long, in
    seconds, a file another process is writing is waited for before FgoJournalError.
    ``commits`` and ``commit_seconds`` count the transactions and the time they took (each ends
    with an fsync); ``jobs`` the reads and writes they carried.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = BUSY_TIMEOUT) -> None:
        if busy_timeout < 0:
            raise ValueError("busy_timeout cannot be negative")
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._owner = OwnerLock(self.path)
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._opened: asyncio.Task[None] | None = None
        self._closed = False
        self._live: dict[tuple[str, str], asyncio.Future[None]] = {}
        self.commits = 0
        self.commit_seconds = 0.0
        self.jobs = 0

    def __repr__(self) -> str:
        return f"<SqliteJournal {str(self.path)!r}>"

    @property
    def owner(self) -> str:
        """This instance's token, written on the rows it is sending."""
        return self._owner.token

    # -- life --------------------------------------------------------------------------------

    async def open(self) -> SqliteJournal:
        """Create the file, or check that it is a journal this code can use."""
        if self._closed:
            raise FgoJournalError(f"the journal {self.path} is closed", path=str(self.path))
        if self._opened is None:
            # A task of its own: a caller cancelled while the file opens cancels its own wait,
            # not the opening that every other caller shares.
            self._opened = asyncio.ensure_future(self._start())
            self._opened.add_done_callback(_retrieve)
        await asyncio.shield(self._opened)
        return self

    async def _start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"fgo-journal {self.path.name}", daemon=True
        )
        self._thread.start()
        try:
            await self._submit(self._initialise, opening=True)
        except BaseException:
            self._jobs.put(_STOP)  # the thread ends; every later call re-raises the error
            raise

    async def aclose(self) -> None:
        """Finish the writes under way, then close the file and release this instance."""
        if self._closed:
            return
        self._closed = True
        opened = self._opened
        if opened is not None and not opened.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(opened)
        if self._thread is not None:
            if opened is not None and not opened.cancelled() and opened.exception() is None:
                # Open, so the thread runs: everything queued before this is written first.
                done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
                self._jobs.put(_Job(lambda connection: None, asyncio.get_running_loop(), done))
                self._jobs.put(_STOP)
                with contextlib.suppress(FgoJournalError), real_work():
                    await asyncio.shield(done)
            # (When the opening failed, the thread was told to stop then.)
            with real_work():
                await asyncio.to_thread(self._thread.join, 10)
        self._owner.release()

    async def __aenter__(self) -> SqliteJournal:
        return await self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- the calls ---------------------------------------------------------------------------

    async def begin(
        self,
        company: str,
        key: str,
        *,
        method: str,
        digest: str,
        payload: str,
        identity: CallIdentity,
        can_deduplicate: bool,
    ) -> BeginOutcome:
        """Plan a call, or say what the journal already knows of its key.

        A call of this process that holds the key is waited for first, so that the answer is
        what that call ended with: two calls of one key never both go out.
        """
        await self.open()
        identity_json = json.dumps(attrs.asdict(identity), sort_keys=True)
        key_of = (company, key)
        while (holder := self._live.get(key_of)) is not None:
            await asyncio.shield(holder)
        # Claimed here, on the loop, before the thread looks at the row: a second call of the
        # key that arrives while this one is being planned waits above, whatever the thread's
        # order. The claim is kept by a call that may go, until it is settled.
        claim: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._live[key_of] = claim

        def begin(connection: sqlite3.Connection) -> BeginOutcome:
            now = time.time()
            row = _row(connection, company, key)
            if row is None:
                connection.execute(
                    f"INSERT INTO calls ({_COLUMNS}) VALUES "
                    "(?, ?, ?, ?, 'planned', ?, ?, ?, ?, 0, ?, NULL, NULL, NULL, NULL, NULL)",
                    (
                        company, key, method, digest, self.owner, payload,
                        int(can_deduplicate), identity_json, now,
                    ),
                )  # fmt: skip
                entry = _row(connection, company, key)
                assert entry is not None
                return BeginOutcome(kind="new", entry=entry)
            if row.digest != digest or row.method != method:
                return BeginOutcome(kind="conflict", entry=row)
            if row.state is EntryState.ISSUED:
                return BeginOutcome(kind="issued", entry=row)
            # A row of this instance is no live call's (that call would hold the claim): a
            # call cancelled while it was planned, or whose end could not be written.
            if (
                row.state in (EntryState.PLANNED, EntryState.SENDING)
                and row.owner != self.owner
                and self._owner.alive(row.owner)
            ):
                return BeginOutcome(kind="busy", entry=row)
            orphan = row.state is EntryState.SENDING  # its process ended while sending
            if (orphan or row.state is EntryState.UNKNOWN) and not can_deduplicate:
                if orphan:
                    row = _settle(
                        connection, row, EntryState.UNKNOWN, None, "Interrupted",
                        "left in sending by a process that ended; the vendor may have it",
                    )  # fmt: skip
                return BeginOutcome(kind="unknown", entry=row)
            # Never sent, refused, or sendable again because the vendor deduplicates it.
            connection.execute(
                "UPDATE calls SET state = 'planned', owner = ? WHERE company = ? AND key = ?",
                (self.owner, company, key),
            )
            entry = _row(connection, company, key)
            assert entry is not None
            resumed = orphan or row.state is EntryState.UNKNOWN
            return BeginOutcome(kind="new", entry=entry, resumed=resumed)

        outcome: BeginOutcome | None = None
        try:
            outcome = await self._submit(begin)
        finally:
            if outcome is None or outcome.kind != "new":
                self._release(key_of, claim)
        return outcome

    def _release(self, key_of: tuple[str, str], claim: asyncio.Future[None] | None) -> None:
        """Let the calls waiting for this key go on (their turn to look at its row)."""
        if claim is None or self._live.get(key_of) is claim:
            claim = self._live.pop(key_of, None)
        if claim is not None and not claim.done():
            claim.set_result(None)

    async def wait_settled(self, company: str, key: str, *, poll: float = 0.5) -> None:
        """Wait until a call of this key that a live call is sending ends."""
        live = self._live.get((company, key))
        if live is not None:
            await asyncio.shield(live)
            return
        while True:  # another process sends it: look again now and then
            row = await self.get(company, key)
            if row is None or row.state.settled or not await self._alive(row.owner):
                return
            await asyncio.sleep(poll)

    async def mark_sending(self, entry: JournalEntry, bucket: str) -> JournalEntry:
        """Record, durably, that the call's request is about to leave (before it does)."""

        def sending(connection: sqlite3.Connection) -> JournalEntry:
            now = time.time()
            connection.execute(
                "UPDATE calls SET state = 'sending', owner = ?, attempts = attempts + 1, "
                "sent_at = ? WHERE company = ? AND key = ?",
                (self.owner, now, entry.company, entry.key),
            )
            connection.execute(
                "INSERT INTO lanes (company, bucket, last_sent, in_flight_key, in_flight_owner) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (company, bucket) DO UPDATE SET "
                "last_sent = excluded.last_sent, in_flight_key = excluded.in_flight_key, "
                "in_flight_owner = excluded.in_flight_owner",
                (entry.company, bucket, now, entry.key, self.owner),
            )
            row = _row(connection, entry.company, entry.key)
            assert row is not None
            return row

        return await self._submit(sending)

    async def settle(
        self,
        entry: JournalEntry,
        state: EntryState,
        *,
        result: str | None = None,
        error_type: str | None = None,
        error_message: str | None = None,
    ) -> JournalEntry:
        """Record how the call ended."""
        if not state.settled:
            raise ValueError(f"{state.value} is not an end")

        def settle(connection: sqlite3.Connection) -> JournalEntry:
            row = _row(connection, entry.company, entry.key)
            if row is None:
                raise FgoJournalError(
                    f"the journal {self.path} lost the row of {entry.describe()}",
                    path=str(self.path),
                )
            connection.execute(
                "UPDATE lanes SET in_flight_key = NULL, in_flight_owner = NULL "
                "WHERE company = ? AND in_flight_key = ?",
                (entry.company, entry.key),
            )
            return _settle(connection, row, state, result, error_type, error_message)

        try:
            return await self._submit(settle)
        finally:
            self._release((entry.company, entry.key), None)

    async def get(self, company: str, key: str) -> JournalEntry | None:
        """The entry of a key, or None."""
        return await self._submit(lambda connection: _row(connection, company, key))

    async def entries(self, states: Iterable[EntryState] | None = None) -> list[JournalEntry]:
        """Every entry (in the given states), oldest first."""
        wanted = [state.value for state in states] if states is not None else None

        def select(connection: sqlite3.Connection) -> list[JournalEntry]:
            if wanted is None:
                rows = connection.execute(f"SELECT {_COLUMNS} FROM calls ORDER BY created_at")
            else:
                marks = ",".join("?" for _ in wanted)
                rows = connection.execute(
                    f"SELECT {_COLUMNS} FROM calls WHERE state IN ({marks}) ORDER BY created_at",
                    wanted,
                )
            return [_entry(row) for row in rows]

        return await self._submit(select)

    async def unsettled(self) -> list[JournalEntry]:
        """The entries a recovery must look at: left planned or sending by a process that
        ended, and those whose outcome is unknown."""
        found = await self.entries(
            (EntryState.PLANNED, EntryState.SENDING, EntryState.UNKNOWN)
        )  # fmt: skip
        left = []
        for entry in found:
            if entry.state is EntryState.UNKNOWN or not await self._alive(entry.owner):
                left.append(entry)
        return left

    async def lane_history(self) -> list[tuple[str, str, float, bool]]:
        """``(company, bucket, seconds since its last call was sent, whether that call was in
        flight when its process ended)`` for the lanes whose history can still matter."""

        def select(connection: sqlite3.Connection) -> list[tuple[str, str, float, str | None]]:
            since = time.time() - LANE_MEMORY
            rows = connection.execute(
                "SELECT company, bucket, last_sent, in_flight_owner FROM lanes WHERE last_sent > ?",
                (since,),
            )
            return list(rows)

        rows = await self._submit(select)
        now = time.time()
        history = []
        for company, bucket, sent, owner in rows:
            in_flight = owner is not None and not await self._alive(owner)
            history.append((company, bucket, max(0.0, now - sent), in_flight))
        return history

    async def recover(
        self,
        clients: FgoClient | Mapping[str, FgoClient] | Callable[[str], FgoClient | None],
    ) -> RecoveryReport:
        """Finish what a process that ended left in this journal: the same as
        :func:`fgo_async.journal.recover` (``recover(journal, clients)``)."""
        from .recovery import recover

        return await recover(self, clients)

    async def _alive(self, owner: str | None) -> bool:
        return await self._submit(lambda connection: self._owner.alive(owner))

    # -- the thread --------------------------------------------------------------------------

    async def _submit(self, fn: Callable[[sqlite3.Connection], T], *, opening: bool = False) -> T:
        if not opening:
            if self._closed:
                raise FgoJournalError(f"the journal {self.path} is closed", path=str(self.path))
            await self.open()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put(_Job(fn, loop, future))
        with real_work(loop):
            # Shielded: once queued, the job runs and commits whatever happens to the caller.
            result: T = await asyncio.shield(future)
        return result

    def _initialise(self, connection: sqlite3.Connection) -> None:
        """Run by the thread inside its first transaction: create or check the schema."""
        if self._is_empty(connection):
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            return
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise FgoJournalError(
                f"the journal {self.path} was written by a newer fgo_async (schema {version}, "
                f"this one reads up to {SCHEMA_VERSION}); upgrade fgo_async to use it",
                path=str(self.path),
            )

    def _is_empty(self, connection: sqlite3.Connection) -> bool:
        """True for a new (empty) database; raises FgoJournalError for another application's."""
        application_id = connection.execute("PRAGMA application_id").fetchone()[0]
        if application_id == APPLICATION_ID:
            return False
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if application_id == 0 and version == 0 and tables == 0:
            return True
        raise FgoJournalError(
            f"{self.path} is not an fgo_async journal (it holds another application's "
            "data); give another path",
            path=str(self.path),
        )

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            # Before WAL mode, which is written into the file: another application's database
            # is left exactly as it was.
            self._is_empty(connection)
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise sqlite3.OperationalError(f"cannot use WAL mode (got {mode})")
            connection.execute("PRAGMA synchronous = FULL")
        except BaseException:
            connection.close()
            raise
        return connection

    def _run(self) -> None:
        try:
            connection = self._connect()
        except (OSError, sqlite3.Error, FgoJournalError) as error:
            self._fail_all(self._error(error))
            return
        try:
            # After the file proved usable: no lock directory is left beside a foreign file.
            self._owner.acquire()
        except OSError as error:
            connection.close()
            self._fail_all(self._error(error))
            return
        try:
            while True:
                first = self._jobs.get()
                if first is _STOP:
                    return
                batch = [first]
                while True:  # everything asked meanwhile joins this transaction
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if job is _STOP:
                        self._jobs.put(_STOP)
                        break
                    batch.append(job)
                self._commit(connection, batch)
        finally:
            connection.close()
            # A journal whose opening failed holds nothing, closed or not.
            self._owner.release()

    def _commit(self, connection: sqlite3.Connection, batch: Sequence[_Job]) -> None:
        started = time.perf_counter()
        try:
            connection.execute("BEGIN IMMEDIATE")
            for index, job in enumerate(batch):
                connection.execute(f"SAVEPOINT job{index}")
                try:
                    job.result = job.fn(connection)
                except BaseException as error:
                    if isinstance(error, sqlite3.Error) and not connection.in_transaction:
                        # SQLite rolled the whole transaction back (a full disk, an I/O
                        # error): every job of the batch fails, with this error.
                        raise
                    connection.execute(f"ROLLBACK TO job{index}")
                    job.error = self._error(error) if isinstance(error, sqlite3.Error) else error
                connection.execute(f"RELEASE job{index}")
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            failure = self._error(error)
            for job in batch:
                job.error = failure
        self.commits += 1
        self.jobs += len(batch)
        self.commit_seconds += time.perf_counter() - started
        for job in batch:
            self._resolve(job)

    def _error(self, error: BaseException) -> FgoJournalError:
        if isinstance(error, FgoJournalError):
            return error
        text = str(error)
        if "not a database" in text or "malformed" in text:
            text = f"is not a journal (a corrupt file, or another kind of file): {text}"
        elif "locked" in text or "busy" in text:
            text = f"is locked by another process for more than {self.busy_timeout:g} s: {text}"
        elif "full" in text:
            text = f"cannot be written, the disk is full: {text}"
        else:
            text = f"cannot be used: {text}"
        return FgoJournalError(f"the journal {self.path} {text}", path=str(self.path))

    def _fail_all(self, failure: FgoJournalError) -> None:
        """The file could not be opened: fail every job until open() stops the thread."""
        while True:
            job = self._jobs.get()
            if job is _STOP:
                return
            job.error = failure
            self._resolve(job)

    @staticmethod
    def _resolve(job: _Job) -> None:
        loop, future = job.loop, job.future
        if loop is None or future is None or loop.is_closed():
            return
        if job.error is not None:
            loop.call_soon_threadsafe(_set_exception, future, job.error)
        else:
            loop.call_soon_threadsafe(_set_result, future, job.result)


def _retrieve(task: asyncio.Task[None]) -> None:
    # Every caller of open() re-raises the opening's error; none may be left to wait for it.
    if not task.cancelled():
        task.exception()


def _set_result(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _set_exception(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _row(connection: sqlite3.Connection, company: str, key: str) -> JournalEntry | None:
    row = connection.execute(
        f"SELECT {_COLUMNS} FROM calls WHERE company = ? AND key = ?", (company, key)
    ).fetchone()
    return None if row is None else _entry(row)


def _settle(
    connection: sqlite3.Connection,
    row: JournalEntry,
    state: EntryState,
    result: str | None,
    error_type: str | None,
    error_message: str | None,
) -> JournalEntry:
    connection.execute(
        "UPDATE calls SET state = ?, owner = NULL, settled_at = ?, result = ?, error_type = ?, "
        "error_message = ? WHERE company = ? AND key = ?",
        (state.value, time.time(), result, error_type, error_message, row.company, row.key),
    )
    settled = _row(connection, row.company, row.key)
    assert settled is not None
    return settled


def _entry(row: Sequence[Any]) -> JournalEntry:
    (
        company, key, method, digest, state, owner, payload, can_deduplicate, identity,
        attempts, created_at, sent_at, settled_at, result, error_type, error_message,
    ) = row  # fmt: skip
    return JournalEntry(
        company=company,
        key=key,
        method=method,
        digest=digest,
        state=state,
        owner=owner,
        payload=payload,
        can_deduplicate=bool(can_deduplicate),
        identity=CallIdentity(**json.loads(identity)),
        attempts=attempts,
        created_at=created_at,
        sent_at=sent_at,
        settled_at=settled_at,
        result=result,
        error_type=error_type,
        error_message=error_message,
    )
