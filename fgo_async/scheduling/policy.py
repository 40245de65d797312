"""The numbers of the call discipline, in one overridable place.

:class:`RatePolicy` is ``SPEC.md``'s policy table: the least time between the starts of two
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

    ``intervals`` overrides the vendor's limits per bucket (the others keep their defaults);
    ``margin`` is added to every interval; ``strict`` counts the interval from the previous
    reply instead of the previous start. After a throttle answer the company's intervals are
    multiplied by ``throttle_widening`` (up to ``max_widening``), and every call that is not
    throttled shrinks the factor by ``recovery`` until it is back to 1.
    """

    intervals: Mapping[Bucket, float] = attrs.field(
        factory=lambda: DEFAULT_INTERVALS, converter=_intervals
    )
    margin: float = 0.1
    strict: bool = False
    throttle_widening: float = 2.0
    max_widening: float = 8.0
    recovery: float = 0.9
    #: How long a call cancelled while in flight keeps its company's lane closed: the vendor may
    #: still be working on it, and the next call must not overlap it (the issue budget is 15 s).
    cancelled_hold: float = 15.0

    def __attrs_post_init__(self) -> None:
        if self.margin < 0 or any(v < 0 for v in self.intervals.values()):
            raise ValueError("intervals and margin cannot be negative")
        if self.throttle_widening < 1 or self.max_widening < 1 or not 0 < self.recovery <= 1:
            raise ValueError("widening factors must be >= 1 and recovery in (0, 1]")

    def spacing(self, bucket: Bucket, widening: float = 1.0) -> float:
        """Seconds from one call of ``bucket`` to the next, at a given widening."""
        return self.intervals[bucket] * widening + self.margin


@attrs.frozen(kw_only=True)
class RetryBudget:
    """Each company's retry tokens: it starts with ``capacity``; a retry spends ``retry_cost``
    (``lost_reply_cost`` after a reply was lost, which hints at a sick server); a call that
    succeeds gives back ``refund``, up to ``capacity``.

    With the defaults a company may retry four times in a row; after that only first attempts
    are made until calls succeed again, so a dead server is not hammered.
    """

    capacity: float = 20.0
    retry_cost: float = 5.0
    lost_reply_cost: float = 10.0
    refund: float = 1.0
