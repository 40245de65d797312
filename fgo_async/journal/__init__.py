"""A write-ahead journal of the calls that create something: exactly once across crashes.

Give a client a journal (``FgoClient(..., journal="fgo-journal.sqlite")``) and every call that
creates something (an invoice, a payment, a reversal) is recorded before its request leaves:

* ``planned`` when it is accepted, ``sending`` committed to disk *before* the request leaves,
  then ``issued``, ``refused`` or ``unknown`` when it ends.
* A row's key is the company and the invoice's ``external_id``, or a ``key=`` the caller gives
  (payments and reversals need one to be recognised again). The same key with another payload
  is refused locally (FgoValidationError, rule ``key_reused``), as Stripe refuses a reused
  idempotency key; the same key again gets the same answer: an issued invoice is returned from
  the journal without calling the vendor, and a call still being sent is waited for.
* After a crash, :func:`recover` (``await journal.recover(clients)``, ``fgo reconcile``)
  finishes what a dead process left: a call the vendor can deduplicate is sent again and
  either issued or found; a payment is repeated only after reading the invoice's status shows
  it missing; anything else is reported ``unknown``, with what is needed to look it up, and
  never sent again blindly.

:class:`SqliteJournal` keeps it in one SQLite file (the standard library's ``sqlite3``, on a
thread of its own, WAL, ``synchronous=FULL``, group commit).
"""

from __future__ import annotations

from .entry import EntryState, JournalEntry, digest_of
from .recovery import Recovered, RecoveryReport, recover
from .sqlite import SCHEMA_VERSION, BeginOutcome, SqliteJournal

__all__ = [
    "SCHEMA_VERSION",
    "BeginOutcome",
    "EntryState",
    "JournalEntry",
    "Recovered",
    "RecoveryReport",
    "SqliteJournal",
    "digest_of",
    "recover",
]
