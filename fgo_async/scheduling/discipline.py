"""The vendor's call discipline as pure functions: when a lane may start its next call.

This is the one home of the spacing formula. Like h11's state machine it does no I/O, reads no
clock and knows nothing of asyncio: a ledger (in memory, or shared by many processes in Redis)
keeps a :class:`LaneState` per company and calls :func:`admit` before granting the lane and
:func:`settle` when the call ended, passing the time on its own clock. Tests drive it by table
and by hypothesis.

The rules (``RatePolicy`` holds the numbers):

* **One call at a time per company**: a lane with a call in flight admits nothing.
* **Spacing per bucket**: after a call, the next call of its bucket may start at the better
  (earlier) of two safe bounds: the moment the request left plus the interval plus the margin
  (the margin covers network jitter between us and the vendor), or the moment the reply
  arrived plus the interval (the vendor received the call before it answered, so no margin is
  needed). Strict mode counts from the reply only, with the margin.
* **Throttles**: a throttle answer widens the company's intervals (``throttle_widening``, up to
  ``max_widening``); each call answered without a throttle shrinks the factor back
  (``recovery``), and a lane quiet for ``throttle_memory`` seconds forgets it. A
  ``Retry-After: N`` closes the throttled bucket for N seconds from the reply.
* **Lost replies**: when a call's reply never came (the client's own timeout) or its caller
  gave up while it was in flight, the vendor may still be working on it, so the whole lane
  stays closed for ``lost_reply_hold`` seconds (the vendor takes up to 15 s to issue).
* **Unsent**: a lane granted to a call that was never sent (cancelled before it left, or the
  connection could not be made) leaves the bucket as it was.
"""

from __future__ import annotations

import enum
import math
from typing import NamedTuple

from ..endpoints import Bucket
from .policy import RatePolicy

__all__ = [
    "LaneState",
    "Outcome",
    "Settled",
    "admit",
    "earliest_start",
    "restored",
    "settle",
]


class Outcome(enum.Enum):
    """How a call that held its lane ended, as far as the vendor's discipline cares."""

    #: The vendor answered (a result or a refusal other than a throttle).
    ANSWERED = "answered"
    #: The vendor answered with a throttle (HTTP 429 or a throttle message).
    THROTTLED = "throttled"
    #: No reply came and the vendor may still be working: our timeout, or a caller that gave up.
    LOST = "lost"
    #: The request never left this process: the lane and bucket are as they were.
    UNSENT = "unsent"


class LaneState(NamedTuple):
    """What a ledger keeps of one company's lane between calls (times on the ledger's clock).

    ``hold_until`` closes the whole lane (after a lost reply); ``widening`` multiplies every
    interval of the company (after throttles) until ``widening_until``, when it is forgotten.
    Each bucket's next allowed start is kept beside it by the ledger, one number per bucket.
    """

    hold_until: float = -math.inf
    widening: float = 1.0
    widening_until: float = -math.inf

    def widening_at(self, now: float) -> float:
        """The widening in force at ``now``."""
        return self.widening if now < self.widening_until else 1.0

    def matters_until(self) -> float:
        """When the lane's own state stops delaying anything (its buckets aside)."""
        return max(self.hold_until, self.widening_until if self.widening != 1.0 else -math.inf)


class Settled(NamedTuple):
    """The result of :func:`settle`: the lane's new state and its bucket's next allowed start."""

    lane: LaneState
    next_start: float


def earliest_start(lane: LaneState, next_start: float) -> float:
    """When a call of a bucket whose next allowed start is ``next_start`` may start."""
    return next_start if next_start > lane.hold_until else lane.hold_until


def admit(lane: LaneState, next_start: float, now: float, *, busy: bool = False) -> float:
    """Seconds to wait before a call of the bucket may start; 0 when it may start now.

    ``busy`` says the company has a call in flight: the wait is then unknown (``inf``) until
    that call ends.
    """
    if busy:
        return math.inf
    wait = earliest_start(lane, next_start) - now
    return wait if wait > 0 else 0.0


def settle(
    lane: LaneState,
    next_start: float,
    policy: RatePolicy,
    bucket: Bucket,
    *,
    now: float,
    outcome: Outcome,
    sent_at: float | None = None,
    retry_after: float | None = None,
) -> Settled:
    """The lane and bucket after a call ended at ``now`` (the reply, the timeout or the cancel).

    ``next_start`` is the bucket's next allowed start before the call; ``sent_at`` when the
    request left (None when it is not known: then ``now`` is assumed, which is never early).
    """
    if outcome is Outcome.UNSENT:
        return Settled(lane, next_start)
    widening = lane.widening_at(now)
    hold_until = lane.hold_until
    if outcome is Outcome.THROTTLED:
        widening = min(policy.max_widening, widening * policy.throttle_widening)
    elif outcome is Outcome.ANSWERED and widening != 1.0:
        widening = max(1.0, widening * policy.recovery)
    widening_until = now + policy.throttle_memory if widening != 1.0 else -math.inf
    interval = policy.intervals[bucket] * widening
    sent = now if sent_at is None or sent_at > now else sent_at
    if policy.strict:
        start = now + interval + policy.margin
    else:
        from_send = sent + interval + policy.margin
        from_reply = now + interval
        start = from_send if from_send < from_reply else from_reply
    if outcome is Outcome.THROTTLED and retry_after is not None and now + retry_after > start:
        start = now + retry_after
    if outcome is Outcome.LOST:
        hold_until = max(hold_until, now + policy.lost_reply_hold)
        start = max(start, hold_until)
    return Settled(LaneState(hold_until, widening, widening_until), start)


def restored(
    lane: LaneState,
    policy: RatePolicy,
    bucket: Bucket,
    *,
    sent_ago: float,
    now: float,
    in_flight: bool,
) -> Settled:
    """The state a new process starts a lane in, from what a journal says of the last call.

    ``sent_ago`` is how long ago the previous process sent the company's last call of
    ``bucket``; ``in_flight`` says its reply never arrived (the process died waiting), in which
    case the vendor may still be working on it and the lane is held as after a lost reply.
    """
    sent = now - max(0.0, sent_ago)
    start = sent + policy.intervals[bucket] * lane.widening_at(now) + policy.margin
    hold_until = lane.hold_until
    if in_flight:
        hold_until = max(hold_until, sent + policy.lost_reply_hold)
        start = max(start, hold_until)
    return Settled(lane._replace(hold_until=hold_until), start)
