"""One call of the journal: what it is (its key, its payload and the digest of it), where it
stands, and how it ended. Pure data, no I/O."""

from __future__ import annotations

import enum
import hashlib
import json
from typing import Any

import attrs

from .. import plain
from ..errors import CallIdentity

__all__ = ["EntryState", "JournalEntry", "digest_of"]


class EntryState(str, enum.Enum):
    """Where a journaled call stands: planned -> sending -> issued | refused | unknown."""

    #: Accepted and queued; nothing has left this process.
    PLANNED = "planned"
    #: Committed to disk right before the request left: it may have reached the vendor.
    SENDING = "sending"
    #: The vendor made it (or had made it: an invoice found by the duplicate check).
    ISSUED = "issued"
    #: The vendor refused it, or it never left: nothing was made.
    REFUSED = "refused"
    #: It may have been made, and nobody knows: reconcile it before anything else.
    UNKNOWN = "unknown"

    @property
    def settled(self) -> bool:
        """True once the call ended (issued, refused or unknown)."""
        return self in (EntryState.ISSUED, EntryState.REFUSED, EntryState.UNKNOWN)


def digest_of(payload: Any) -> str:
    """The SHA-256 of a request model's plain JSON, keys sorted: two calls with one key and
    different payloads are told apart by it."""
    data = plain.unstructure(payload)
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@attrs.frozen(kw_only=True)
class JournalEntry:
    """A journaled call as the journal holds it.

    ``company`` and ``key`` identify it (the invoice's ``external_id``, or a key the caller
    gave); ``method`` is the vendor method; ``payload`` the request model as plain JSON (what
    recovery sends again, when that is safe); ``can_deduplicate`` says whether the vendor
    recognises a repeat. ``result`` is the plain JSON of the result of an issued call;
    ``error_type`` and ``error_message`` say why a call was refused or is unknown.
    ``sent_at`` is the wall-clock time (``time.time()``) of its last send.
    """

    company: str
    key: str
    method: str
    digest: str
    state: EntryState = attrs.field(converter=EntryState)
    payload: str = attrs.field(repr=False)
    can_deduplicate: bool = False
    identity: CallIdentity
    attempts: int = 0
    created_at: float = 0.0
    sent_at: float | None = None
    settled_at: float | None = None
    result: str | None = attrs.field(default=None, repr=False)
    error_type: str | None = None
    error_message: str | None = None
    owner: str | None = attrs.field(default=None, repr=False)

    def describe(self) -> str:
        """A one-line description for reports and logs (never the payload)."""
        where = f"{self.method} company {self.company} key {self.key}"
        what = self.identity.describe()
        detail = f": {self.error_type}: {self.error_message}" if self.error_type else ""
        return f"{where} [{self.state.value}] {what}{detail}"
