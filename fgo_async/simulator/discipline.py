"""The vendor's call discipline, enforced and counted: rate limits per company and bucket, and
one call at a time per company.

A call sooner than its bucket's limit after the previous accepted call's arrival (same company,
same bucket) is answered HTTP 429 with a ``Retry-After`` header and counted as a rate violation.
The interval counts from the previous *accepted* call, so a client that retries too early is
told when to come back instead of being locked out. A call arriving while another call of the
same company is in flight is counted as an overlap and, in strict mode, refused with a 429 too.
Nomenclators share one global bucket and have no company, hence no overlaps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import attrs

from ..endpoints import VENDOR_LIMITS, Bucket
from . import messages
from .records import CallRecord, Violation, ViolationKind

__all__ = ["BUCKET_LABELS", "DEFAULT_LIMITS", "CallDiscipline", "Throttle"]

#: The least time, in seconds, between the arrivals of two calls of one company and bucket
#: (the vendor's rate limits). Override per simulator with ``limits={Bucket.X: seconds}``.
DEFAULT_LIMITS: Mapping[Bucket, float] = VENDOR_LIMITS

#: How the throttle message names each bucket.
BUCKET_LABELS: Mapping[Bucket, str] = {
    Bucket.FACTURA: "facturare/incasare",
    Bucket.ARTICOL: "articole",
    Bucket.ARTICOL_LIST: "lista de articole",
    Bucket.ARTICOL_MODIFICATE: "articole modificate",
    Bucket.CLIENT: "clienti",
    Bucket.NOMENCLATOR: "nomenclatoare",
}

# Arrivals this close to the limit count as on time, and a wait this close to a whole second
# is that second: float sums of the loop clock are inexact (10 s after 32759.92 is 9.99999999
# s later), and a Retry-After of 21 for a wait of 20.000000000004 s would be a second too long.
_TOLERANCE = 1e-6


@attrs.frozen(kw_only=True)
class Throttle:
    """A refusal for breaking the discipline: HTTP 429 with a message and ``Retry-After``."""

    message: str
    retry_after: int


class CallDiscipline:
    """Tracks calls in flight per company and the last accepted arrival per company and bucket."""

    def __init__(self, limits: Mapping[Bucket, float] | None = None, *, strict: bool = False):
        self.limits: dict[Bucket, float] = {**DEFAULT_LIMITS, **(limits or {})}
        self.strict = strict
        self.violations: list[Violation] = []
        self._in_flight: dict[str, int] = {}
        self._last: dict[tuple[str | None, Bucket], float] = {}
        self._previous: dict[int, float | None] = {}

    def in_flight(self, company: str) -> int:
        """How many calls of ``company`` are being processed now."""
        return self._in_flight.get(company, 0)

    def arrive(self, record: CallRecord) -> Throttle | None:
        """Admit a call that just arrived, or say why it is throttled.

        Every call passed here must be passed to :meth:`leave` once answered.
        """
        company = record.company
        if company is not None and record.bucket is not Bucket.NOMENCLATOR:
            if self._in_flight.get(company, 0) > 0:
                record.overlap = True
                self.violations.append(
                    Violation(
                        kind=ViolationKind.OVERLAP,
                        call=record,
                        detail=f"{record.method} arrived while {self._in_flight[company]} "
                        f"call(s) of company {company} were in flight",
                    )
                )
            self._in_flight[company] = self._in_flight.get(company, 0) + 1
            if record.overlap and self.strict:
                return Throttle(message=messages.overlap(company), retry_after=1)
        if record.bucket is None:
            return None
        return self._take_slot(record, record.bucket)

    def _take_slot(self, record: CallRecord, bucket: Bucket) -> Throttle | None:
        key = (None if bucket is Bucket.NOMENCLATOR else record.company, bucket)
        limit = self.limits[bucket]
        last = self._last.get(key)
        elapsed = math.inf if last is None else record.arrival - last
        if elapsed + _TOLERANCE < limit:
            record.rate_violation = True
            remaining = limit - elapsed
            self.violations.append(
                Violation(
                    kind=ViolationKind.RATE,
                    call=record,
                    detail=f"{record.method} {elapsed:.3f} s after the previous {bucket} call "
                    f"(limit {limit:g} s)",
                )
            )
            retry_after = max(1, math.ceil(remaining - _TOLERANCE))
            return Throttle(
                message=messages.throttled(BUCKET_LABELS[bucket], limit, retry_after),
                retry_after=retry_after,
            )
        self._previous[record.index] = last
        self._last[key] = record.arrival
        record.counted = True
        return None

    def give_back_slot(self, record: CallRecord) -> None:
        """Undo the slot a call took: it was dropped before processing, or throttled by an
        injected fault, so the vendor never counted it."""
        if not record.counted or record.bucket is None:
            return
        key = (None if record.bucket is Bucket.NOMENCLATOR else record.company, record.bucket)
        previous = self._previous.pop(record.index, None)
        if self._last.get(key) == record.arrival:
            if previous is None:
                self._last.pop(key, None)
            else:
                self._last[key] = previous
        record.counted = False

    def leave(self, record: CallRecord) -> None:
        """The call was answered (or dropped): it is no longer in flight."""
        self._previous.pop(record.index, None)
        company = record.company
        if company is not None and record.bucket is not Bucket.NOMENCLATOR:
            count = self._in_flight.get(company, 0) - 1
            if count > 0:
                self._in_flight[company] = count
            else:
                self._in_flight.pop(company, None)
