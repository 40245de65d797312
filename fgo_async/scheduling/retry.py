"""Which failures are retried, after how long: pure functions of (method, error, attempt).

This is the table of which failures are safe to retry, as code, in the manner of
openai-python's ``_should_retry``: no I/O, no clock, tested row by row. A call that creates
something is repeated after a lost reply only when the vendor can recognise the repeat
(``VerificareDuplicat`` with ``IdExtern``, or with series and number), the way stripe-python
repeats a POST only with an idempotency key; otherwise the caller gets
:class:`~fgo_async.errors.FgoOutcomeUnknownError` and reconciles.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import attrs

from ..endpoints import RetryClass
from ..errors import (
    CallIdentity,
    FgoApiError,
    FgoConnectError,
    FgoDecodeError,
    FgoDuplicateError,
    FgoError,
    FgoIssueTimeoutError,
    FgoOutcomeUnknownError,
    FgoRateLimitedError,
    FgoTransportError,
)

__all__ = ["RetryDecision", "RetryPolicy", "decide_retry", "final_error", "may_have_been_processed"]


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How many times, and how long apart, a call is tried.

    ``max_attempts`` counts the first try. Backoff doubles from ``backoff_base`` up to
    ``backoff_max``, with "equal jitter" (half fixed, half random) so that many clients do not
    retry in step. A ``Retry-After`` from the vendor is honoured; a call that would have to wait
    longer than ``retry_after_cap`` for it is not retried but ends with the
    FgoRateLimitedError, whose ``retry_after`` says how long (the company's lane still waits
    that long before its next call).
    """

    max_attempts: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_cap: float = 60.0

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """The pause after failed attempt number ``attempt`` (1 for the first try)."""
        ceiling = min(self.backoff_max, self.backoff_base * 2.0 ** max(0, attempt - 1))
        draw: float = (rng or random).random()
        return ceiling / 2 + ceiling / 2 * draw


#: A policy that never retries.
NO_RETRIES = RetryPolicy(max_attempts=1)


@attrs.frozen(kw_only=True)
class RetryDecision:
    """Retry after ``delay`` seconds, or give up; ``reason`` says why, for logs and stats."""

    retry: bool
    reason: str
    delay: float = 0.0


def may_have_been_processed(error: BaseException) -> bool:
    """True when the request reached the vendor and its reply was lost or unreadable."""
    if isinstance(error, FgoTransportError):
        return error.sent
    return isinstance(error, FgoDecodeError)


def decide_retry(
    retry_class: RetryClass,
    error: BaseException,
    attempt: int,
    *,
    can_deduplicate: bool = False,
    policy: RetryPolicy = RetryPolicy(),
    rng: random.Random | None = None,
) -> RetryDecision:
    """Whether to retry a call whose attempt number ``attempt`` failed with ``error``."""
    decision = _classify(retry_class, error, can_deduplicate)
    if not decision.retry:
        return decision
    if attempt >= policy.max_attempts:
        return RetryDecision(retry=False, reason=f"{decision.reason}; attempts exhausted")
    delay = policy.backoff(attempt, rng)
    if isinstance(error, FgoRateLimitedError) and error.retry_after is not None:
        if error.retry_after > policy.retry_after_cap:
            return RetryDecision(
                retry=False,
                reason=f"{decision.reason}; Retry-After {error.retry_after:g} s is past the "
                f"cap of {policy.retry_after_cap:g} s",
            )
        delay = error.retry_after
    return RetryDecision(retry=True, reason=decision.reason, delay=delay)


def _classify(
    retry_class: RetryClass, error: BaseException, can_deduplicate: bool
) -> RetryDecision:
    if isinstance(error, FgoDuplicateError):
        return RetryDecision(retry=False, reason="duplicate: the first invoice stands")
    if isinstance(error, FgoIssueTimeoutError):
        return RetryDecision(retry=True, reason="vendor issue timeout: nothing was issued")
    if isinstance(error, FgoRateLimitedError):
        return RetryDecision(retry=True, reason="throttled by the vendor")
    if isinstance(error, FgoConnectError):
        return RetryDecision(retry=True, reason="not sent: the connection failed")
    if isinstance(error, FgoApiError):
        return RetryDecision(retry=False, reason="refused by the vendor")
    if not may_have_been_processed(error):
        return RetryDecision(retry=False, reason=f"not retryable: {type(error).__name__}")
    if retry_class is RetryClass.READ_ONLY:
        return RetryDecision(retry=True, reason="lost reply of a read: safe to repeat")
    if retry_class is RetryClass.REPEATABLE:
        return RetryDecision(retry=True, reason="lost reply: a repeat fails or changes nothing")
    if retry_class is RetryClass.CREATE and can_deduplicate:
        return RetryDecision(retry=True, reason="lost reply: the vendor deduplicates the repeat")
    return RetryDecision(retry=False, reason="lost reply: repeating is not safe")


def final_error(
    retry_class: RetryClass,
    error: FgoError,
    history: Sequence[FgoError] = (),
    identity: CallIdentity | None = None,
) -> FgoError:
    """The error to raise once a call is given up.

    A call that creates or records something, and that may have been processed by this or an
    earlier attempt, ends in FgoOutcomeUnknownError: guessing either way could lose an invoice
    or issue it twice. A duplicate refusal is kept as it is: it proves the first one stands.
    """
    error.retry_history = tuple(history)
    mutating = retry_class in (RetryClass.CREATE, RetryClass.NOT_REPEATABLE)
    processed = any(may_have_been_processed(e) for e in (*history, error))
    if not mutating or not processed or isinstance(error, FgoDuplicateError):
        return error
    if isinstance(error, FgoOutcomeUnknownError):
        return error
    unknown = FgoOutcomeUnknownError(
        "the call may have been processed but its reply was lost; reconcile before retrying "
        f"(last error: {error.message})",
        identity=identity or getattr(error, "identity", None),
        cause=error,
    )
    unknown.retry_history = tuple(history)
    return unknown
