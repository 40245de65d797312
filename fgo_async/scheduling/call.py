"""What a client hands to a scheduler (one :class:`Call`), and what it needs of a scheduler
(:class:`CallScheduler`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from ..endpoints import Bucket, Endpoint
from ..errors import CallIdentity
from .events import SchedulerStats
from .retry import RetryPolicy

__all__ = ["Call", "CallScheduler"]

T = TypeVar("T")


class Call(Generic[T]):
    """One vendor call: its endpoint, company, identity and how to attempt it once.

    ``attempt`` sends the request once and returns the typed result or raises a typed error; the
    scheduler decides when it runs and whether a failure is retried. ``before_send``, when
    given, is awaited each time the lane is granted, right before the attempt: a journal records
    there that the request is about to leave; if it raises, nothing is sent. ``deadline`` is a
    time on the event loop's clock by which the call must have started. ``interactive`` calls
    overtake batch calls of their bucket. ``retry_policy`` overrides the scheduler's.
    """

    __slots__ = (
        "attempt",
        "attempt_number",
        "before_send",
        "can_deduplicate",
        "company",
        "deadline",
        "endpoint",
        "identity",
        "interactive",
        "reply_status",
        "retry_policy",
        "sent_at",
    )

    def __init__(
        self,
        *,
        endpoint: Endpoint[Any, Any],
        company: str | None,
        attempt: Callable[[], Awaitable[T]],
        identity: CallIdentity,
        can_deduplicate: bool = False,
        interactive: bool = False,
        deadline: float | None = None,
        retry_policy: RetryPolicy | None = None,
        before_send: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.company = company
        self.attempt = attempt
        self.identity = identity
        self.can_deduplicate = can_deduplicate
        self.interactive = interactive
        self.deadline = deadline
        self.retry_policy = retry_policy
        self.before_send = before_send
        #: Set by the attempt to the loop time at which its request left (its body written),
        #: when known; the lane's spacing counts from it (from the grant otherwise).
        self.sent_at: float | None = None
        #: Which attempt is running, from 1; set by the scheduler before each attempt.
        self.attempt_number = 1
        #: The HTTP status of the last reply, when one came (for traces).
        self.reply_status: int | None = None

    @property
    def bucket(self) -> Bucket:
        """The rate-limit bucket of the call."""
        return self.endpoint.bucket

    def __repr__(self) -> str:
        return f"<Call {self.identity.describe()}>"


@runtime_checkable
class CallScheduler(Protocol):
    """What :class:`~fgo_async.FgoClient` needs of a scheduler; :class:`Scheduler` is one."""

    @property
    def closed(self) -> bool:
        """True once the scheduler accepts no more calls."""
        ...

    async def submit(self, call: Call[T]) -> T:
        """Run ``call`` under the vendor's discipline; its result, or its final error."""
        ...

    def stats(self) -> SchedulerStats:
        """A snapshot of the queues and counters."""
        ...

    async def aclose(self, *, drain: bool | None = None) -> None:
        """Stop accepting calls and finish (or fail) the ones accepted."""
        ...
