"""The numbers of the call discipline, in one overridable place.

:class:`RatePolicy` is the table of the vendor's limits: the least time between the starts of two
calls of one bucket and company, a safety margin against network jitter, the strict mode that
counts from the previous reply instead, and how a throttle answer widens a company's spacing and
how slowly it recovers. :class:`RetryBudget` bounds how many retries a company may spend, so that
a dead server is not hammered (the token scheme of the AWS SDKs).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs

from ..endpoints import VENDOR_LIMITS, Bucket

__all__ = ["DEFAULT_INTERVALS", "RatePolicy", "RetryBudget"]

#: Seconds between the starts of two calls of one bucket and company: the vendor's limits.
DEFAULT_INTERVALS: Mapping[Bucket, float] = VENDOR_LIMITS


def _intervals(value: Mapping[Bucket | str, float]) -> Mapping[Bucket, float]:
    merged = dict(DEFAULT_INTERVALS)
    merged.update({Bucket(k): float(v) for k, v in value.items()})
    return MappingProxyType(merged)


@attrs.frozen(kw_only=True)
class RatePolicy:
    """How far apart the calls of one company are started.

    ``intervals`` overrides the vendor's limits per bucket (the others keep their defaults).
    The next call of a bucket starts at the earlier of the previous request's departure plus
    the interval plus ``margin`` (against network jitter), and the previous reply plus the
    interval; ``strict`` counts from the previous reply only, plus the margin. After a throttle
    answer the company's intervals are multiplied by ``throttle_widening`` (up to
    ``max_widening``), and every call that is not throttled shrinks the factor by ``recovery``
    until it is back to 1, or ``throttle_memory`` seconds pass without a call; a
    ``Retry-After`` closes the bucket for that long.
    ``lost_reply_hold`` is how long a company's lane stays closed after a call whose reply never
    came (the client's timeout, or a caller cancelled while the call was in flight): the vendor
    may still be working on it, and takes up to 15 s to issue an invoice.
    """

    intervals: Mapping[Bucket, float] = attrs.field(
        factory=lambda: DEFAULT_INTERVALS, converter=_intervals
    )
    margin: float = 0.1
    strict: bool = False
    throttle_widening: float = 2.0
    max_widening: float = 8.0
    recovery: float = 0.9
    throttle_memory: float = 300.0
    lost_reply_hold: float = 15.0

    def __attrs_post_init__(self) -> None:
        if (
            self.margin < 0
            or self.lost_reply_hold < 0
            or any(v < 0 for v in self.intervals.values())
        ):
            raise ValueError("intervals, margin and lost_reply_hold cannot be negative")
        if self.throttle_widening < 1 or self.max_widening < 1 or not 0 < self.recovery <= 1:
            raise ValueError("widening factors must be >= 1 and recovery in (0, 1]")

    def spacing(self, bucket: Bucket, widening: float = 1.0) -> float:
        """Seconds from one call of ``bucket`` to the next, at a given widening."""
        return self.intervals[bucket] * widening + self.margin


@attrs.frozen(kw_only=True)
class RetryBudget:
    """Each company's retry tokens: it starts with ``capacity``; a retry spends ``retry_cost``
    (``lost_reply_cost`` after a reply was lost, which hints at a sick server); a call that
    succeeds gives back ``refund``, and time gives back ``refill_per_second``, up to
    ``capacity``.

    With the defaults a company may retry four times in a row (two retries after lost replies);
    then the budget refills at one token per 10 s, a whole budget in 200 s. So a quiet shop
    that spent its budget on two lost replies in the morning retries a throttle again in the
    afternoon, while a server that fails every call sees one retry per 50 s per company (one
    per 100 s after lost replies) besides the first attempts: at one call per second, about
    one attempt per call.
    """

    capacity: float = 20.0
    retry_cost: float = 5.0
    lost_reply_cost: float = 10.0
    refund: float = 1.0
    refill_per_second: float = 0.1

    def __attrs_post_init__(self) -> None:
        if min(self.capacity, self.retry_cost, self.lost_reply_cost, self.refund) < 0:
            raise ValueError("the retry budget's numbers cannot be negative")
        if self.refill_per_second < 0:
            raise ValueError("refill_per_second cannot be negative")

    def refilled(self, tokens: float, seconds: float) -> float:
        """The tokens after ``seconds`` of refilling, up to ``capacity``."""
        if tokens >= self.capacity:
            return self.capacity
        return min(self.capacity, tokens + self.refill_per_second * max(0.0, seconds))
