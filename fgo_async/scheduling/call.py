"""What a client hands to a scheduler: one call, ready to be attempted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..endpoints import Bucket, Endpoint
from ..errors import CallIdentity
from .retry import RetryPolicy

__all__ = ["Call"]


class Call:
    """One vendor call: its endpoint, company, identity and how to attempt it once.

    ``attempt`` sends the request once and returns the typed result or raises a typed error; the
    scheduler decides when it runs and whether a failure is retried. ``deadline`` is a time on
    the event loop's clock by which the call must have started. ``interactive`` calls overtake
    batch calls of their bucket. ``retry_policy`` overrides the scheduler's for this call.
    """

    __slots__ = (
        "attempt",
        "can_deduplicate",
        "company",
        "deadline",
        "endpoint",
        "identity",
        "interactive",
        "retry_policy",
        "sent_at",
    )

    def __init__(
        self,
        *,
        endpoint: Endpoint,
        company: str | None,
        attempt: Callable[[], Awaitable[Any]],
        identity: CallIdentity,
        can_deduplicate: bool = False,
        interactive: bool = False,
        deadline: float | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.company = company
        self.attempt = attempt
        self.identity = identity
        self.can_deduplicate = can_deduplicate
        self.interactive = interactive
        self.deadline = deadline
        self.retry_policy = retry_policy
        #: Set by the attempt to the loop time at which its request went out, when known; the
        #: scheduler counts the bucket's spacing from it (from the start otherwise).
        self.sent_at: float | None = None

    @property
    def bucket(self) -> Bucket:
        """The rate-limit bucket of the call."""
        return self.endpoint.bucket

    def __repr__(self) -> str:
        return f"<Call {self.identity.describe()}>"
