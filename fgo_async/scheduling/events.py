"""What the scheduler reports: events for metrics hooks, and a snapshot of its counters."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping

import attrs

from ..endpoints import Bucket
from ..errors import CallIdentity, FgoError

__all__ = ["EventHook", "EventKind", "SchedulerEvent", "SchedulerStats"]


class EventKind(str, enum.Enum):
    """The moments of a call's life the scheduler reports."""

    QUEUED = "queued"
    STARTED = "started"
    FINISHED = "finished"
    RETRYING = "retrying"
    EXPIRED = "expired"
    #: The caller gave up on a call that had not been sent: nothing happened.
    CANCELLED = "cancelled"
    #: The caller gave up on a call that may have been processed (cancelled while in flight,
    #: or while waiting to retry after a lost reply): its outcome is unknown, reconcile it.
    ABANDONED = "abandoned"


@attrs.frozen(kw_only=True)
class SchedulerEvent:
    """One event of one call.

    ``wait`` (on STARTED) is the time from being queued to being started, in seconds; ``delay``
    (on STARTED) the part of it after the call's bucket and lane were free, which is the
    scheduler's own lateness; ``latency`` (on FINISHED) the time the attempt
    took. ``error`` is the failure of a FINISHED or RETRYING attempt, None on success.
    ``attempt`` counts from 1. ``outcome_known`` is False on ABANDONED: the call may have been
    processed by the vendor, and ``identity`` says what to look up.
    """

    kind: EventKind
    identity: CallIdentity
    bucket: Bucket
    attempt: int = 1
    time: float = 0.0
    wait: float | None = None
    latency: float | None = None
    error: FgoError | None = None
    delay: float | None = None
    outcome_known: bool = True
    reason: str | None = None


#: A callable the scheduler calls with every event; it must not block.
EventHook = Callable[[SchedulerEvent], None]


@attrs.frozen(kw_only=True)
class SchedulerStats:
    """A snapshot of the scheduler's counters (``scheduler.stats()``).

    ``queued`` maps each company (``None`` for nomenclators) to its waiting calls per bucket.
    ``waits`` is the number of calls started, ``total_wait`` and ``max_wait`` their time in the
    queue in seconds.
    """

    queued: Mapping[str | None, Mapping[Bucket, int]]
    in_flight: int
    started: int
    finished: int
    failed: int
    retries: int
    throttles: int
    expired: int
    cancelled: int
    total_wait: float
    max_wait: float
    lanes: int
    #: Calls given up by their callers while they may have been processed (outcome unknown).
    abandoned: int = 0
    #: Times a shared ledger could not be reached; the calls waited, unsent.
    ledger_errors: int = 0

    @property
    def queued_total(self) -> int:
        """All the calls waiting, in every lane."""
        return sum(sum(per_bucket.values()) for per_bucket in self.queued.values())

    @property
    def mean_wait(self) -> float:
        """The mean time a started call waited, in seconds."""
        return self.total_wait / self.started if self.started else 0.0
