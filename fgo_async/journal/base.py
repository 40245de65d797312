"""What a journal does, as a protocol: :class:`~fgo_async.journal.SqliteJournal` is one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from ..errors import CallIdentity
from .entry import EntryState, JournalEntry
from .sqlite import BeginOutcome

__all__ = ["Journal"]


@runtime_checkable
class Journal(Protocol):
    """A durable record of the calls that create something, keyed by company and key."""

    async def open(self) -> Journal:
        """Make the journal ready (create or check its store)."""
        ...

    async def aclose(self) -> None:
        """Finish the writes under way and release the store."""
        ...

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
        """Plan a call, or say what the journal already knows of its key. Two calls of one
        key in one process are never both told ``"new"``: the second waits for the first."""
        ...

    async def wait_settled(self, company: str, key: str, *, poll: float = 0.5) -> None:
        """Wait until a live call sending this key ends."""
        ...

    async def mark_sending(self, entry: JournalEntry, bucket: str) -> JournalEntry:
        """Record durably that the call's request is about to leave."""
        ...

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
        ...

    async def get(self, company: str, key: str) -> JournalEntry | None:
        """The entry of a key, or None."""
        ...

    async def entries(self, states: Iterable[EntryState] | None = None) -> list[JournalEntry]:
        """Every entry (in the given states), oldest first."""
        ...

    async def unsettled(self) -> list[JournalEntry]:
        """The entries a recovery must look at."""
        ...

    async def lane_history(self) -> list[tuple[str, str, float, bool]]:
        """``(company, bucket, seconds since its last send, in flight when its process
        ended)`` for each lane whose history can still delay a call."""
        ...
