"""What the limits allow: the shortest time a recorded sequence of calls could have taken.

Given the calls a simulator recorded (their order, buckets and latencies), the fastest a client
could have made them while keeping the call discipline is: each company's calls one after the
other, each starting as soon as the previous reply arrived and its bucket's spacing has passed
since that bucket's previous start. Comparing a client's wall time with this minimum says how
much time its scheduling wasted; benchmarks and real-time tests use it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from ..endpoints import Bucket
from .records import CallRecord

__all__ = ["minimum_makespan"]


def minimum_makespan(
    calls: Iterable[CallRecord], spacing: Mapping[Bucket, float], *, start: float
) -> float:
    """Seconds from ``start`` to the last reply, had every company's calls (in their recorded
    order, with their recorded latencies) started as early as ``spacing`` and single flight
    allow. Calls without a reply are left out."""
    by_company: dict[str | None, list[CallRecord]] = {}
    for call in sorted(calls, key=lambda c: c.arrival):
        if call.latency is not None and call.bucket is not None:
            by_company.setdefault(call.company, []).append(call)
    end = start
    for company_calls in by_company.values():
        free_at = start
        last_start: dict[Bucket, float] = {}
        for call in company_calls:
            assert call.bucket is not None
            assert call.latency is not None
            begin = max(free_at, last_start.get(call.bucket, -math.inf) + spacing[call.bucket])
            last_start[call.bucket] = begin
            free_at = begin + call.latency
        end = max(end, free_at)
    return end - start
