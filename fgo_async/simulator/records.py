"""What the simulator remembers of every call, for tests and benchmarks to assert on.

Each call becomes a :class:`CallRecord` (``sim.calls``): when it arrived and was answered on the
event loop's clock, the method, company and bucket, the decoded body with the Hash and the
private key redacted, and how it ended. The calls that broke the discipline become
:class:`Violation` entries (``sim.violations()``), summed up by :class:`DisciplineSummary`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ..endpoints import Bucket

__all__ = ["CallRecord", "DisciplineSummary", "Outcome", "Violation", "ViolationKind"]


class Outcome(str, enum.Enum):
    """How a call ended."""

    #: ``Success: true``.
    SUCCESS = "success"
    #: ``Success: false``: the vendor refused (wrong hash, missing field, duplicate...).
    REFUSED = "refused"
    #: HTTP 429: sooner than the bucket allows, or (strict mode) overlapping another call.
    THROTTLED = "throttled"
    #: HTTP 409: an identical invoice was issued a moment ago.
    CONFLICT = "conflict"
    #: The documented 15 s issue timeout message: nothing was issued.
    ISSUE_TIMEOUT = "issue-timeout"
    #: The connection was dropped before the call was processed.
    DROPPED_BEFORE = "dropped-before"
    #: The call was processed, then the connection was dropped: the reply was lost.
    DROPPED_AFTER = "dropped-after"
    #: A 502/503 HTML page.
    SERVER_ERROR = "server-error"
    #: The reply was cut short: not valid JSON.
    BROKEN_JSON = "broken-json"
    #: An unknown path or a wrong HTTP verb.
    NOT_FOUND = "not-found"
    #: The call had not been answered yet (still in flight, or cancelled with its server).
    PENDING = "pending"


class ViolationKind(str, enum.Enum):
    """The two ways a client breaks the vendor's call discipline."""

    #: A call sooner than its bucket's limit after the previous accepted call's arrival.
    RATE = "rate"
    #: A call arriving while another call of the same company was in flight.
    OVERLAP = "overlap"


@attrs.define(kw_only=True)
class CallRecord:
    """One call as the simulator saw it. Times are on the event loop's clock.

    ``body`` is the decoded request (or the query of a GET) with ``Hash`` and any text holding
    the private key replaced by ``***``. ``fault`` names the fault injected, if any.
    ``counted`` says whether the call took its bucket's slot (a throttled call or one dropped
    before processing did not).
    """

    index: int
    method: str
    http_method: str
    arrival: float
    company: str | None = None
    bucket: Bucket | None = None
    body: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    reply_time: float | None = None
    status: int | None = None
    outcome: Outcome = Outcome.PENDING
    message: str | None = None
    #: The JSON reply the simulator produced, even when it was lost (dropped, cut short).
    reply: Mapping[str, Any] | None = attrs.field(default=None, repr=False)
    fault: str | None = None
    overlap: bool = False
    rate_violation: bool = False
    counted: bool = False

    @property
    def latency(self) -> float | None:
        """Seconds from arrival to reply, once answered."""
        if self.reply_time is None:
            return None
        return self.reply_time - self.arrival


@attrs.frozen(kw_only=True)
class Violation:
    """One breach of the call discipline by the client, with the call that made it."""

    kind: ViolationKind
    call: CallRecord
    detail: str


@attrs.frozen(kw_only=True)
class DisciplineSummary:
    """Counts over the calls: ``rate_violations`` and ``overlaps`` are the client's doing;
    ``throttled`` counts every 429 (injected bursts included)."""

    calls: int
    rate_violations: int
    overlaps: int
    throttled: int
    outcomes: Mapping[Outcome, int]

    @property
    def violations(self) -> int:
        """Rate violations and overlaps together."""
        return self.rate_violations + self.overlaps

    @classmethod
    def of(
        cls,
        calls: Iterable[CallRecord],
        violations: Iterable[Violation],
        *,
        earlier: Mapping[Outcome, int] | None = None,
    ) -> DisciplineSummary:
        """The summary of ``calls`` and their ``violations``; ``earlier`` counts the outcomes
        of calls no longer listed."""
        found = list(violations)
        outcomes: dict[Outcome, int] = dict(earlier or {})
        for call in calls:
            outcomes[call.outcome] = outcomes.get(call.outcome, 0) + 1
        return cls(
            calls=sum(outcomes.values()),
            rate_violations=sum(v.kind is ViolationKind.RATE for v in found),
            overlaps=sum(v.kind is ViolationKind.OVERLAP for v in found),
            throttled=outcomes.get(Outcome.THROTTLED, 0),
            outcomes=outcomes,
        )
