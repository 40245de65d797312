"""The scheduler: local queues of waiting calls in front of the company lanes of a ledger.

Every call of every client that shares a :class:`Scheduler` goes through it, between the protocol
core and the transport. The rules of the vendor's discipline (one call at a time per company,
the spacing of each bucket, throttles, holds after lost replies) are pure functions
(:mod:`.discipline`) applied by a ledger (:mod:`.ledger`) that holds each company's lane: in
memory by default, or shared by many processes. The scheduler does the waiting:

* **No head-of-line blocking.** Among the calls of a company whose buckets may start, the one
  submitted first goes first (an interactive call overtakes batch calls); a call whose bucket is
  not ready (30 minutes for changed articles) never holds back a call of another bucket.
* **Waiting well.** Thousands of lanes share one timer: a waiting call is an entry in a heap and
  a future, not a task. A call that cannot start before its deadline fails with
  FgoQueueTimeoutError, unsent; a cancelled waiting call is removed, unsent; a full lane makes
  the submitter wait (backpressure). Lanes that no longer matter are dropped.
* **A step before sending.** Once the lane is granted, a call's ``before_send`` is awaited (a
  journal commits there) before the request leaves.
* **Retries only where safe**, decided by :func:`~fgo_async.scheduling.retry.decide_retry`;
  every retry goes through the lane and its bucket again, and a retry budget per company, which
  refills with time, keeps a dead server from being hammered.
* **Closing** lets calls in flight finish, then drains the queued calls or fails them with
  FgoClosedError. No call is left without a result or an error.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
import os
import random
from collections import deque
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from .._log_fields import call_fields, company_fields
from ..endpoints import Bucket, RetryClass
from ..errors import (
    FgoClosedError,
    FgoConnectError,
    FgoError,
    FgoQueueFullError,
    FgoQueueTimeoutError,
    FgoRateLimitedError,
    FgoTimeoutError,
)
from .call import Call
from .discipline import Outcome
from .events import EventHook, EventKind, SchedulerEvent, SchedulerStats
from .ledger import InMemoryLedger, LaneLedger, Lease, Settlement, SyncLaneLedger
from .policy import RatePolicy, RetryBudget
from .retry import RetryPolicy, decide_retry, final_error, may_have_been_processed

if TYPE_CHECKING:
    from ..telemetry import Telemetry

__all__ = ["DEFAULT_MAX_QUEUED", "Scheduler"]

logger = logging.getLogger("fgo_async.scheduler")

T = TypeVar("T")

#: The calls one company may have waiting before submitters wait for room.
DEFAULT_MAX_QUEUED = 1000

# A timer may fire a hair before its time (the loop's clock resolution); starting a call a
# microsecond early is harmless next to the margin, spinning on the timer is not.
_EPSILON = 1e-6

# How long a lane waits before asking a ledger that failed (Redis down) again.
_LEDGER_RETRY = 1.0
# How long a lane told "busy, until released" by an awaited ledger waits at most before asking
# again, should the word of the release be lost.
_LEDGER_REFRESH = 5.0

# Entry states.
_WAITING = 0  # in its bucket's heap
_DELAYED = 1  # backing off before a retry, in the timer heap
_STARTED = 2  # holds the lane (its future resolved)
_DONE = 3  # finished, expired or cancelled

# Timer kinds.
_WAKE = 0  # a lane's next bucket may be ready
_DEADLINE = 1  # a waiting call's deadline
_RETRY = 2  # a retry's backoff is over
_RECLAIM = 3  # an idle lane may be dropped

# Heap keys are sequence numbers; an interactive call's key is shifted below every batch key.
_INTERACTIVE_SHIFT = 1 << 62

# How many lanes may wake within one millisecond before the next are put off to the next one.
_PER_MILLISECOND = 8

# Dead deadline timers (of calls that started) are swept out of the heap once they are this
# many and more than half of it, so a started call does not stay alive until its deadline.
_SWEEP_AT = 256

_MUTATING = (RetryClass.CREATE, RetryClass.NOT_REPEATABLE)


class _Entry:
    """One attempt of a call waiting for, or holding, its lane."""

    # Kept small on purpose: a million of these may wait at once.
    __slots__ = ("attempt", "call", "future", "lane", "queue", "ready_at", "started_at", "state")

    def __init__(
        self,
        call: Call[Any],
        lane: _Lane,
        queue: _BucketQueue,
        future: asyncio.Future[None],
        attempt: int,
        ready_at: float,
    ) -> None:
        self.call = call
        self.lane = lane
        self.queue = queue
        self.future = future
        self.state = _WAITING
        self.attempt = attempt
        self.ready_at = ready_at  # when it was queued, or when its retry backoff ends
        self.started_at = 0.0


class _BucketQueue:
    """The waiting calls of one bucket of one lane."""

    __slots__ = ("bucket", "heap", "waiting")

    def __init__(self, bucket: Bucket) -> None:
        self.bucket = bucket
        self.heap: list[tuple[int, _Entry]] = []
        self.waiting = 0

    def head(self) -> tuple[int, _Entry] | None:
        """The first waiting entry, dropping the expired and cancelled ones found on top."""
        heap = self.heap
        while heap:
            top = heap[0]
            if top[1].state == _WAITING:
                return top
            heapq.heappop(heap)
        return None


class _Lane:
    """One company's waiting calls, the call holding its lane, and its retry budget."""

    __slots__ = (
        "acquiring",
        "company",
        "lease",
        "opened_at",
        "queues",
        "reclaim_at",
        "running",
        "space_waiters",
        "tokens",
        "tokens_at",
        "waiting",
        "wake_at",
    )

    def __init__(self, company: str | None, tokens: float, now: float) -> None:
        self.company = company
        self.queues: dict[Bucket, _BucketQueue] = {}
        self.running: _Entry | None = None
        self.lease: Lease | None = None
        self.acquiring = False  # an acquire of a shared ledger is under way
        self.waiting = 0
        self.tokens = tokens
        self.tokens_at = now
        self.wake_at: float | None = None
        self.reclaim_at: float | None = None
        self.opened_at = now  # when the lane last became free to start a call
        # Submitters waiting for room; made on first use, as most lanes never fill up.
        self.space_waiters: deque[asyncio.Future[None]] | None = None


class _WakeGroup:
    """The lanes that wake at one moment, and the millisecond they were counted in."""

    __slots__ = ("lanes", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self.lanes: list[_Lane] = []


class Scheduler:
    """Shared by the clients of one process: every client without ``scheduler=`` uses the
    default one of its event loop (:func:`~fgo_async.scheduling.default_scheduler`).

    ``rate_policy`` sets the intervals and margin (:class:`RatePolicy`); ``retry_policy`` the
    attempts and backoff (a client's own policy overrides it for its calls); ``retry_budget``
    the retry tokens of each company. ``ledger`` holds the company lanes: an
    :class:`~fgo_async.scheduling.InMemoryLedger` of this scheduler by default, or one shared
    with other schedulers or processes (:class:`fgo_async.redis.RedisLedger`).
    ``max_queued_per_company`` bounds the waiting calls of one company: past it,
    :meth:`submit` waits for room (``block_when_full=True``, the default) or raises
    FgoQueueFullError. ``drain_on_close`` says whether :meth:`aclose` runs the queued calls
    (default) or fails them with FgoClosedError. ``event_hook`` is called with a
    :class:`SchedulerEvent` at each moment of a call's life. ``seed`` makes the retry jitter
    reproducible. ``idle_lane_ttl`` is how long, at least, a lane with nothing to do is kept.
    """

    def __init__(
        self,
        *,
        rate_policy: RatePolicy | None = None,
        retry_policy: RetryPolicy | None = None,
        retry_budget: RetryBudget | None = None,
        ledger: LaneLedger | None = None,
        max_queued_per_company: int = DEFAULT_MAX_QUEUED,
        block_when_full: bool = True,
        drain_on_close: bool = True,
        event_hook: EventHook | None = None,
        seed: int | None = None,
        idle_lane_ttl: float = 60.0,
        telemetry: Telemetry | None = None,
    ) -> None:
        if max_queued_per_company < 1:
            raise ValueError("max_queued_per_company must be at least 1")
        if idle_lane_ttl < 0:
            raise ValueError("idle_lane_ttl cannot be negative")
        owns_ledger = ledger is None
        if ledger is None:
            ledger = InMemoryLedger(rate_policy)
        ledger_policy = getattr(ledger, "rate_policy", None)
        if rate_policy is not None and ledger_policy is not None and ledger_policy != rate_policy:
            raise ValueError("a ledger given with a rate policy of its own applies that one")
        self.ledger: LaneLedger = ledger
        self.rate_policy: RatePolicy = ledger_policy or rate_policy or RatePolicy()
        self.retry_policy = retry_policy or RetryPolicy()
        self.retry_budget = retry_budget or RetryBudget()
        self.max_queued_per_company = max_queued_per_company
        self.block_when_full = block_when_full
        self.drain_on_close = drain_on_close
        self.event_hook = event_hook
        self._hooks: list[EventHook] = [] if event_hook is None else [event_hook]
        self.idle_lane_ttl = idle_lane_ttl
        #: Names this scheduler to a ledger shared by processes.
        self.holder = f"{os.getpid()}-{id(self):x}"
        # The fast path: a ledger on this loop's clock is asked without awaiting.
        self._sync: SyncLaneLedger | None = ledger if isinstance(ledger, SyncLaneLedger) else None
        self._rng = random.Random(seed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lanes: dict[str | None, _Lane] = {}
        self._timers: list[tuple[float, int, int, Any]] = []
        self._dead_timers = 0
        self._wake_groups: dict[float, _WakeGroup] = {}
        self._windows: dict[int, int] = {}  # lanes due to wake in each millisecond
        self._timer_handle: asyncio.TimerHandle | None = None
        self._timer_when = math.inf
        self._firing = False
        self._seq = itertools.count()
        self._active = 0
        self._closing = False
        self._drain = drain_on_close
        self._idle: asyncio.Future[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._queued_lanes: set[_Lane] = set()
        self._in_flight = 0
        if not owns_ledger:
            # Other schedulers (or processes) share the ledger: their releases open our lanes.
            ledger.add_listener(self._lane_opened)
        if telemetry is None:
            from ..telemetry import default_telemetry

            telemetry = default_telemetry()
        telemetry.watch(self)
        # Counters for stats().
        self._started = 0
        self._finished = 0
        self._failed = 0
        self._retries = 0
        self._throttles = 0
        self._expired = 0
        self._cancelled = 0
        self._abandoned = 0
        self._ledger_errors = 0
        self._total_wait = 0.0
        self._max_wait = 0.0

    # -- public ------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` was called: no new call is accepted."""
        return self._closing

    def add_event_hook(self, hook: EventHook) -> None:
        """Call ``hook`` too with every event (metrics, logs...); it must not block."""
        self._hooks.append(hook)
        self.event_hook = self._hooks[0] if len(self._hooks) == 1 else self._fan_out

    def _fan_out(self, event: SchedulerEvent) -> None:
        for hook in self._hooks:
            try:
                hook(event)
            except Exception:  # one broken hook must not starve the others
                logger.exception(
                    "an event hook of the scheduler failed on %s",
                    event.kind.value,
                    extra=call_fields(event.identity),
                )

    async def submit(self, call: Call[T]) -> T:
        """Run ``call`` when its lane and bucket allow, retrying what is safe; return its result.

        Raises the call's final error: the vendor's refusal, FgoOutcomeUnknownError when a reply
        was lost and repeating is not safe, FgoQueueTimeoutError when it could not start before
        its deadline, FgoClosedError when the scheduler closed before it started.
        """
        # One coroutine frame per waiting call, not a chain of them: at a million waiting
        # calls, every frame is ~400 bytes. Hence the length of this method.
        if self._closing:
            raise FgoClosedError("the scheduler is closed", identity=call.identity)
        loop = self._bind_loop()
        lane = self._lanes.get(call.company)
        if lane is None:
            lane = self._new_lane(call.company, loop.time())
        if call.deadline is not None and call.deadline <= loop.time():
            self._expired += 1
            raise FgoQueueTimeoutError(
                "the deadline passed before the call could be queued", identity=call.identity
            )
        if lane.waiting >= self.max_queued_per_company:
            await self._wait_for_room(call, lane)
            lane = self._lanes.get(call.company) or self._new_lane(call.company, loop.time())
        self._active += 1
        history: list[FgoError] | None = None  # allocated on the first failure only
        attempt = 1
        not_before = -math.inf
        try:
            while True:
                entry = self._enqueue(call, lane, attempt, not_before)
                try:
                    await entry.future
                except asyncio.CancelledError:
                    self._withdraw(lane, entry, history)
                    raise
                except FgoClosedError:
                    if not history:
                        raise
                    # Closed while a retry waited: the call ends with what its last attempt
                    # said, and if an earlier attempt may have been processed, as unknown.
                    last = history.pop()
                    raise final_error(
                        call.endpoint.retry_class, last, history, call.identity
                    ) from None
                sending = False
                try:
                    if call.before_send is not None:
                        await call.before_send()
                        # The attempt starts now: a transport that does not say when its
                        # request left has the spacing counted from here, not from the grant.
                        entry.started_at = loop.time()
                    call.sent_at = None
                    call.attempt_number = attempt
                    sending = True
                    result = await call.attempt()
                except asyncio.CancelledError:
                    if sending:
                        self._abandon(lane, entry)
                    else:
                        self._finish(lane, entry, Outcome.UNSENT)
                    raise
                except FgoError as error:
                    if not sending:
                        # The step before sending failed (a journal that cannot write):
                        # nothing left, and nothing is retried.
                        self._finish(lane, entry, Outcome.UNSENT, error=error)
                        raise
                    self._finish(lane, entry, _outcome_of(error), error=error)
                    history = history or []
                    delay = self._retry_delay(call, lane, entry, error, history)
                    if delay is None:
                        final = final_error(
                            call.endpoint.retry_class, error, history, call.identity
                        )
                        if final is error:
                            raise
                        raise final from error
                    history.append(error)
                    attempt += 1
                    not_before = loop.time() + delay
                    lane = self._lanes.get(call.company) or self._new_lane(
                        call.company, loop.time()
                    )
                    continue
                except BaseException:
                    self._finish(
                        lane, entry, Outcome.ANSWERED if sending else Outcome.UNSENT, failed=True
                    )
                    raise
                self._finish(lane, entry, Outcome.ANSWERED)
                return result
        finally:
            self._active -= 1
            if self._active == 0 and self._idle is not None and not self._idle.done():
                self._idle.set_result(None)

    def stats(self) -> SchedulerStats:
        """A snapshot of the queues and counters; its cost grows with the lanes that have
        calls waiting, not with every company ever seen."""
        queued = {
            lane.company: {bucket: queue.waiting for bucket, queue in lane.queues.items()}
            for lane in self._queued_lanes
        }
        return SchedulerStats(
            queued=queued,
            in_flight=self._in_flight,
            started=self._started,
            finished=self._finished,
            failed=self._failed,
            retries=self._retries,
            throttles=self._throttles,
            expired=self._expired,
            cancelled=self._cancelled,
            total_wait=self._total_wait,
            max_wait=self._max_wait,
            lanes=len(self._lanes),
            abandoned=self._abandoned,
            ledger_errors=self._ledger_errors,
        )

    async def aclose(self, *, drain: bool | None = None) -> None:
        """Stop accepting calls; let calls in flight finish; drain or fail the queued ones.

        With ``drain`` (default: the ``drain_on_close`` setting) the queued calls still run,
        at the pace the limits allow; without, they fail with FgoClosedError, unsent.
        """
        self._drain = self.drain_on_close if drain is None else drain
        self._closing = True
        if not self._drain:
            self._fail_waiting()
        if self._active and self._loop is not None:
            if self._idle is None or self._idle.done():
                self._idle = self._loop.create_future()
            await asyncio.shield(self._idle)
        while self._background:
            # Releases of a shared ledger still under way: never cut one halfway.
            await asyncio.gather(*self._background, return_exceptions=True)
        if self._timer_handle is not None:
            self._timer_handle.cancel()
            self._timer_handle = None

    # -- a call's life -----------------------------------------------------------------------

    def _new_lane(self, company: str | None, now: float) -> _Lane:
        lane = self._lanes[company] = _Lane(company, self.retry_budget.capacity, now)
        return lane

    def _lane_opened(self, company: str | None) -> None:
        lane = self._lanes.get(company)
        if lane is not None and lane.waiting and lane.running is None and self._loop is not None:
            self._pump(lane, self._loop.time())

    def _retry_delay(
        self, call: Call[Any], lane: _Lane, entry: _Entry, error: FgoError, history: list[FgoError]
    ) -> float | None:
        """Seconds to wait before retrying ``call`` after ``error``, or None to give up."""
        decision = decide_retry(
            call.endpoint.retry_class,
            error,
            entry.attempt,
            can_deduplicate=call.can_deduplicate,
            policy=call.retry_policy or self.retry_policy,
            rng=self._rng,
        )
        if not decision.retry:
            if logger.isEnabledFor(logging.INFO) and decision.reason:
                logger.info(
                    "not retrying %s: %s",
                    call.identity.describe(),
                    decision.reason,
                    extra=call_fields(call.identity, attempt=entry.attempt, outcome="gave up"),
                )
            return None
        if self._closing and not self._drain:
            return None
        if not self._spend(lane, error):
            return None
        self._retries += 1
        self._emit(
            EventKind.RETRYING, entry, error=error, delay=decision.delay, reason=decision.reason
        )
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                "retrying %s in %.2f s (attempt %d after %d tries): %s: %s",
                call.identity.describe(),
                decision.delay,
                entry.attempt + 1,
                len(history) + 1,
                decision.reason,
                error.message,
                extra=call_fields(call.identity, attempt=entry.attempt + 1, outcome="retrying"),
            )
        return decision.delay

    def _enqueue(self, call: Call[Any], lane: _Lane, attempt: int, not_before: float) -> _Entry:
        """Queue one attempt of ``call``; the lane resolves its future when it starts it."""
        loop = self._loop
        assert loop is not None
        now = loop.time()
        bucket = call.endpoint.bucket
        queue = lane.queues.get(bucket)
        if queue is None:
            queue = lane.queues[bucket] = _BucketQueue(bucket)
        entry = _Entry(call, lane, queue, loop.create_future(), attempt, max(now, not_before))
        if not lane.waiting:
            self._queued_lanes.add(lane)
        lane.waiting += 1
        queue.waiting += 1
        if not_before > now:
            entry.state = _DELAYED
            self._push_timer(not_before, _RETRY, entry)
        else:
            heapq.heappush(queue.heap, (self._key(call), entry))
        if attempt == 1 and call.deadline is not None:
            self._push_timer(call.deadline, _DEADLINE, entry)
        if self.event_hook is not None:
            self._emit(EventKind.QUEUED, entry)
        if entry.state == _WAITING:
            self._pump(lane, now)
        return entry

    def _key(self, call: Call[Any]) -> int:
        """The heap key of a call being queued: first come, first served; interactive first."""
        seq = next(self._seq)
        return seq - _INTERACTIVE_SHIFT if call.interactive else seq

    def _withdraw(self, lane: _Lane, entry: _Entry, history: list[FgoError] | None) -> None:
        """The submitter of a queued attempt was cancelled: this attempt will never be sent."""
        if entry.state == _STARTED:
            # Granted but cancelled before anything was sent: the lane is as it was.
            self._cancelled += 1
            self._emit(EventKind.CANCELLED, entry)
            self._finish(lane, entry, Outcome.UNSENT)
            return
        if entry.state not in (_WAITING, _DELAYED):
            return
        self._remove(lane, entry)
        earlier = history[-1] if history else None
        if (
            earlier is not None
            and entry.call.endpoint.retry_class in _MUTATING
            and any(may_have_been_processed(e) for e in history or ())
        ):
            # An earlier attempt may have been processed and its reply was lost: the caller
            # gave up between attempts, so nobody will learn the outcome but from this.
            self._abandoned += 1
            logger.warning(
                "call cancelled while waiting to retry after a lost reply, outcome unknown: %s "
                "(last error: %s)",
                entry.call.identity.describe(),
                earlier.message,
                extra=call_fields(entry.call.identity, attempt=entry.attempt, outcome="unknown"),
            )
            self._emit(EventKind.ABANDONED, entry, error=earlier, outcome_known=False)
        else:
            self._cancelled += 1
            self._emit(EventKind.CANCELLED, entry)

    async def _wait_for_room(self, call: Call[Any], lane: _Lane) -> None:
        while lane.waiting >= self.max_queued_per_company:
            if not self.block_when_full:
                raise FgoQueueFullError(
                    f"{self.max_queued_per_company} calls of this company are already waiting",
                    identity=call.identity,
                )
            waiter: asyncio.Future[None] = self._bind_loop().create_future()
            if lane.space_waiters is None:
                lane.space_waiters = deque()
            lane.space_waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter in lane.space_waiters:
                    lane.space_waiters.remove(waiter)
                elif waiter.done() and not waiter.cancelled():
                    self._wake_one_submitter(lane)  # pass the room on to the next in line
                raise
            if self._closing and not self._drain:
                raise FgoClosedError("the scheduler closed", identity=call.identity)

    # -- lanes -------------------------------------------------------------------------------

    def _pump(self, lane: _Lane, now: float) -> None:
        """Start the lane's next call if the ledger grants it, else wait for when it may."""
        if lane.running is not None or lane.acquiring:
            return
        # The heads of the buckets with calls waiting, the earliest submitted first.
        heads: list[tuple[int, _BucketQueue]] = []
        for queue in lane.queues.values():
            if queue.heap:
                top = queue.head()
                if top is not None:
                    heads.append((top[0], queue))
        if not heads:
            return
        if len(heads) > 1:
            heads.sort(key=_first)
        sync = self._sync
        if sync is None:
            self._acquire_remote(lane, [queue.bucket for _, queue in heads])
            return
        grant = sync.acquire_now(lane.company, [queue.bucket for _, queue in heads], now)
        if isinstance(grant, Lease):
            queue = next(q for _, q in heads if q.bucket is grant.bucket)
            self._start(lane, queue, heapq.heappop(queue.heap)[1], grant, now)
        elif grant != math.inf:
            # Never early, not even by a rounding of the clock (the vendor's interval counts
            # from its last call, and a reply's bound has no margin); and a wait shorter than
            # the timer's resolution is waited as one tick, not spun on.
            self._wake_lane(lane, now + max(grant, 2 * _EPSILON))

    def _acquire_remote(self, lane: _Lane, buckets: list[Bucket]) -> None:
        lane.acquiring = True
        self._background_task(self._acquire(lane, buckets))

    async def _acquire(self, lane: _Lane, buckets: list[Bucket]) -> None:
        """Ask a ledger that must be awaited for the lane (a ledger shared by processes)."""
        try:
            answer = await self.ledger.acquire(lane.company, buckets, holder=self.holder)
        except Exception as error:
            # Fail closed: the calls stay queued, unsent, and expire at their deadlines.
            self._ledger_errors += 1
            logger.warning(
                "the ledger could not grant the lane of company %s (%s); asking again in %g s",
                lane.company,
                error,
                _LEDGER_RETRY,
                extra=company_fields(lane.company),
            )
            lane.acquiring = False
            self._wake_lane(lane, self._now() + _LEDGER_RETRY)
            return
        lane.acquiring = False
        self._answered(lane, answer)

    def _answered(self, lane: _Lane, answer: Lease | float) -> None:
        """Start a call with a lease an awaited ledger granted, or wait as long as it says."""
        now = self._now()
        if not isinstance(answer, Lease):
            # "Until it is released": the ledger's listeners say when, and should that word be
            # lost, the lane asks again after a while.
            wait = answer if answer != math.inf else _LEDGER_REFRESH
            self._wake_lane(lane, now + max(wait, 2 * _EPSILON))
            return
        queue = lane.queues.get(answer.bucket)
        top = queue.head() if queue is not None else None
        if queue is None or top is None or (self._closing and not self._drain):
            # Its calls left while the ledger answered: give the lane back untouched.
            self._release_lease(lane, answer, Settlement(outcome=Outcome.UNSENT))
            return
        self._start(lane, queue, heapq.heappop(queue.heap)[1], answer, now)

    def _waiting_buckets(self, lane: _Lane) -> list[Bucket]:
        """The buckets with calls waiting in a lane, the one submitted first first."""
        heads = []
        for queue in lane.queues.values():
            top = queue.head() if queue.heap else None
            if top is not None:
                heads.append((top[0], queue))
        heads.sort(key=_first)
        return [queue.bucket for _, queue in heads]

    def _start(
        self, lane: _Lane, queue: _BucketQueue, entry: _Entry, lease: Lease, now: float
    ) -> None:
        entry.state = _STARTED
        entry.started_at = now
        lane.running = entry
        lane.lease = lease
        lane.waiting -= 1
        queue.waiting -= 1
        if not lane.waiting:
            self._queued_lanes.discard(lane)
        if _has_deadline_timer(entry):
            self._dead_timers += 1
        self._in_flight += 1
        wait = now - entry.ready_at
        self._started += 1
        self._total_wait += wait
        if wait > self._max_wait:
            self._max_wait = wait
        entry.future.set_result(None)
        if self.event_hook is not None:
            eligible_at = max(entry.ready_at, lane.opened_at)
            self._emit(EventKind.STARTED, entry, wait=wait, delay=max(0.0, now - eligible_at))
        if lane.space_waiters:
            self._wake_one_submitter(lane)

    def _finish(
        self,
        lane: _Lane,
        entry: _Entry,
        outcome: Outcome,
        *,
        error: FgoError | None = None,
        failed: bool = False,
    ) -> None:
        """The attempt holding the lane ended: settle the lane with the ledger, start the next."""
        now = self._now()
        entry.state = _DONE
        if lane.running is not entry:
            return
        if error is not None or failed:
            self._failed += 1
        if outcome is not Outcome.UNSENT or error is not None:
            self._finished += 1
            if self.event_hook is not None:
                self._emit(EventKind.FINISHED, entry, latency=now - entry.started_at, error=error)
        retry_after = None
        if outcome is Outcome.THROTTLED:
            self._throttles += 1
            assert isinstance(error, FgoRateLimitedError)
            retry_after = error.retry_after
            if logger.isEnabledFor(logging.WARNING):
                logger.warning(
                    "throttled by the vendor: %s; company %s%s",
                    entry.call.identity.describe(),
                    lane.company,
                    f" waits {retry_after:g} s" if retry_after is not None else "",
                    extra=call_fields(
                        entry.call.identity, attempt=entry.attempt, outcome="throttled"
                    ),
                )
        elif outcome is Outcome.ANSWERED and error is None and not failed:
            self._refund(lane, now)
        sent_at = entry.call.sent_at
        if sent_at is None or sent_at < entry.started_at:
            sent_at = entry.started_at
        self._release(lane, outcome, now, sent_at, retry_after)

    def _release(
        self,
        lane: _Lane,
        outcome: Outcome,
        now: float,
        sent_at: float,
        retry_after: float | None,
    ) -> None:
        lease = lane.lease
        lane.running = None
        lane.lease = None
        self._in_flight -= 1
        lane.opened_at = now
        if lease is not None:
            sync = self._sync
            if sync is not None:
                sync.release_now(lease, now, outcome, sent_at, retry_after)
            else:
                settlement = Settlement(
                    outcome=outcome, sent_ago=now - sent_at, retry_after=retry_after
                )
                self._release_lease(lane, lease, settlement)
                return  # the lane is pumped once the ledger has it back
        if lane.waiting:
            self._pump(lane, now)
        else:
            self._idle_lane(lane, now)

    def _release_lease(self, lane: _Lane, lease: Lease, settlement: Settlement) -> None:
        """Give a lease back to a ledger that must be awaited, asking for the lane again in the
        same round trip when calls are waiting; the lane waits for the answer."""
        lane.acquiring = True  # no new acquire before the ledger has the lease back

        async def release() -> None:
            answer: Lease | float | None = None
            try:
                answer = await self.ledger.release(
                    lease, settlement, then=self._waiting_buckets(lane), holder=self.holder
                )
            except Exception as error:
                self._ledger_errors += 1
                logger.warning(
                    "the ledger could not take back the lane of company %s (%s); it is "
                    "given back before the next call, or reopens when the lease expires",
                    lane.company,
                    error,
                    extra=company_fields(lane.company),
                )
            lane.acquiring = False
            if answer is not None:
                self._answered(lane, answer)
            elif lane.waiting:
                self._pump(lane, self._now())

        self._background_task(release())

    def _background_task(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run a command to a shared ledger to its end, whatever happens to the calls: a
        command cut halfway (redis-py's cancellation) could leave the lane held."""
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _withdraw_ticket(self, lane: _Lane, bucket: Bucket) -> None:
        """Tell a shared ledger this process no longer waits for ``bucket`` of the company."""

        async def withdraw() -> None:
            try:
                await self.ledger.withdraw(lane.company, [bucket], holder=self.holder)
            except Exception as error:  # a stale ticket only delays others a little
                logger.debug(
                    "could not withdraw from company %s: %s",
                    lane.company,
                    error,
                    extra=company_fields(lane.company),
                )

        self._background_task(withdraw())

    def _abandon(self, lane: _Lane, entry: _Entry) -> None:
        """A caller was cancelled while its call was in flight: the vendor may still be working
        on it, so the ledger holds the lane closed for ``lost_reply_hold`` seconds."""
        self._abandoned += 1
        self._cancelled += 1
        logger.warning(
            "call cancelled in flight, outcome unknown: %s; company %s waits %.0f s",
            entry.call.identity.describe(),
            lane.company,
            self.rate_policy.lost_reply_hold,
            extra=call_fields(entry.call.identity, attempt=entry.attempt, outcome="unknown"),
        )
        self._emit(EventKind.ABANDONED, entry, outcome_known=False)
        self._finish(lane, entry, Outcome.LOST)

    def _remove(self, lane: _Lane, entry: _Entry) -> None:
        """Take a waiting or delayed entry out of the counts; its heap slot is dropped lazily."""
        if entry.state == _WAITING and _has_deadline_timer(entry):
            self._dead_timers += 1
        entry.state = _DONE
        lane.waiting -= 1
        entry.queue.waiting -= 1
        if not entry.queue.waiting and self._sync is None:
            self._withdraw_ticket(lane, entry.queue.bucket)
        if not lane.waiting:
            self._queued_lanes.discard(lane)
            if lane.running is None:
                self._idle_lane(lane, self._now())
        if lane.space_waiters:
            self._wake_one_submitter(lane)

    def _spend(self, lane: _Lane, error: FgoError) -> bool:
        budget = self.retry_budget
        now = self._now()
        lane.tokens = budget.refilled(lane.tokens, now - lane.tokens_at)
        lane.tokens_at = now
        cost = budget.lost_reply_cost if may_have_been_processed(error) else budget.retry_cost
        if lane.tokens < cost:
            logger.warning(
                "retry budget of company %s spent; not retrying",
                lane.company,
                extra=company_fields(lane.company),
            )
            return False
        lane.tokens -= cost
        return True

    def _refund(self, lane: _Lane, now: float) -> None:
        budget = self.retry_budget
        if lane.tokens < budget.capacity:
            lane.tokens = min(
                budget.capacity, budget.refilled(lane.tokens, now - lane.tokens_at) + budget.refund
            )
            lane.tokens_at = now

    def _wake_one_submitter(self, lane: _Lane) -> None:
        while lane.space_waiters:
            waiter = lane.space_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _fail_waiting(self) -> None:
        for lane in list(self._lanes.values()):
            for queue in lane.queues.values():
                for _, entry in list(queue.heap):
                    self._fail(lane, entry)
            while lane.space_waiters:
                waiter = lane.space_waiters.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # the submitter sees the closing and raises
        for _, _, kind, entry in list(self._timers):
            if kind == _RETRY:
                self._fail(entry.lane, entry)

    def _fail(self, lane: _Lane, entry: _Entry) -> None:
        if entry.state in (_WAITING, _DELAYED):
            self._remove(lane, entry)
            entry.future.set_exception(
                FgoClosedError(
                    "the scheduler closed before the call started", identity=entry.call.identity
                )
            )

    # -- idle lanes --------------------------------------------------------------------------

    def _idle_lane(self, lane: _Lane, now: float) -> None:
        """Plan to drop a lane with nothing to do, once what it holds can no longer matter."""
        if lane.reclaim_at is None and not lane.space_waiters:
            lane.reclaim_at = now + self.idle_lane_ttl
            self._push_timer(lane.reclaim_at, _RECLAIM, lane)

    def _reclaim(self, lane: _Lane, now: float) -> None:
        lane.reclaim_at = None
        if self._lanes.get(lane.company) is not lane:
            return
        if lane.waiting or lane.running is not None or lane.acquiring or lane.space_waiters:
            return  # busy again: it plans its reclaim when next idle
        budget = self.retry_budget
        tokens_full_at = lane.tokens_at
        if lane.tokens < budget.capacity and budget.refill_per_second > 0:
            tokens_full_at += (budget.capacity - lane.tokens) / budget.refill_per_second
        elif lane.tokens < budget.capacity:
            tokens_full_at = math.inf
        sync = self._sync
        later = tokens_full_at
        if sync is not None and not sync.forget_if_idle(lane.company, now):
            later = max(later, _next_change(sync, lane.company, now, self.idle_lane_ttl))
        if later > now:
            if later != math.inf:
                lane.reclaim_at = max(later, now + _EPSILON)
                self._push_timer(lane.reclaim_at, _RECLAIM, lane)
            return
        del self._lanes[lane.company]

    # -- the one timer -----------------------------------------------------------------------

    def _wake_lane(self, lane: _Lane, when: float) -> None:
        if lane.wake_at is not None and lane.wake_at <= when:
            return
        # Lanes that started together stay in step: a hundred companies would all call in the
        # same millisecond every second, a burst for this loop and for the vendor. A few may
        # wake in any one millisecond; the others are put off to the next free one (never
        # sooner than asked), and from then on keep their own pace.
        window = math.floor(when * 1000)
        if self._windows.get(window, 0) >= _PER_MILLISECOND:
            while self._windows.get(window, 0) >= _PER_MILLISECOND:
                window += 1
            when = max(when, window / 1000)
        self._windows[window] = self._windows.get(window, 0) + 1
        lane.wake_at = when
        # Lanes in step wake at the very same time: they share one timer entry.
        group = self._wake_groups.get(when)
        if group is None:
            group = self._wake_groups[when] = _WakeGroup(window)
            self._push_timer(when, _WAKE, group)
        group.lanes.append(lane)

    def _push_timer(self, when: float, kind: int, target: Any) -> None:
        heapq.heappush(self._timers, (when, next(self._seq), kind, target))
        if when < self._timer_when and not self._firing:
            self._arm()

    def _arm(self) -> None:
        if self._timer_handle is not None:
            self._timer_handle.cancel()
        self._timer_when = self._timers[0][0]
        self._timer_handle = self._bind_loop().call_at(self._timer_when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer_handle = None
        self._timer_when = math.inf
        timers = self._timers
        now = self._now()
        self._firing = True  # timers pushed while firing are armed once, at the end
        while timers and timers[0][0] <= now + _EPSILON:
            when, _, kind, target = heapq.heappop(timers)
            if kind == _WAKE:
                del self._wake_groups[when]
                left = self._windows.get(target.window, 0) - len(target.lanes)
                if left > 0:
                    self._windows[target.window] = left
                else:
                    self._windows.pop(target.window, None)
                for lane in target.lanes:
                    if lane.wake_at == when:  # else an earlier wake was set since
                        lane.wake_at = None
                        lane.opened_at = when
                        self._pump(lane, now)
            elif kind == _DEADLINE:
                if target.state in (_WAITING, _DELAYED):
                    self._expire(target)
                elif self._dead_timers:
                    self._dead_timers -= 1
            elif kind == _RECLAIM:
                if target.reclaim_at == when:
                    self._reclaim(target, now)
            elif target.state == _DELAYED:
                target.state = _WAITING
                heapq.heappush(target.queue.heap, (self._key(target.call), target))
                self._pump(target.lane, now)
        if self._dead_timers > _SWEEP_AT and self._dead_timers * 2 > len(timers):
            self._sweep_timers()
        self._firing = False
        if timers:
            self._arm()

    def _sweep_timers(self) -> None:
        """Drop the deadline timers of calls that started or left, so they can be freed."""
        self._timers = [
            timer
            for timer in self._timers
            if timer[2] != _DEADLINE or timer[3].state in (_WAITING, _DELAYED)
        ]
        heapq.heapify(self._timers)
        self._dead_timers = 0

    def _expire(self, entry: _Entry) -> None:
        self._remove(entry.lane, entry)
        self._dead_timers -= 1  # _remove counted it; its timer is the one firing
        self._expired += 1
        entry.future.set_exception(
            FgoQueueTimeoutError(
                "the call could not start before its deadline; it was not sent",
                identity=entry.call.identity,
            )
        )
        self._emit(EventKind.EXPIRED, entry)

    # -- helpers -----------------------------------------------------------------------------

    def _bind_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is None or loop.is_closed():
            loop = self._loop = asyncio.get_running_loop()
        return loop

    def _now(self) -> float:
        loop = self._loop
        assert loop is not None, "the scheduler is used before any call was submitted"
        return loop.time()

    def _emit(
        self,
        kind: EventKind,
        entry: _Entry,
        *,
        wait: float | None = None,
        latency: float | None = None,
        error: FgoError | None = None,
        delay: float | None = None,
        outcome_known: bool = True,
        reason: str | None = None,
    ) -> None:
        hook = self.event_hook
        if hook is None:
            return
        event = SchedulerEvent(
            kind=kind,
            identity=entry.call.identity,
            bucket=entry.queue.bucket,
            attempt=entry.attempt,
            time=self._now(),
            wait=wait,
            latency=latency,
            error=error,
            delay=delay,
            outcome_known=outcome_known,
            reason=reason,
        )
        try:
            hook(event)
        except Exception:  # a broken metrics hook must not break the calls
            logger.exception(
                "the scheduler's event hook failed on %s",
                kind.value,
                extra=call_fields(entry.call.identity),
            )


def _has_deadline_timer(entry: _Entry) -> bool:
    # Only a call's first attempt waits with a deadline ("by which it must have started").
    return entry.attempt == 1 and entry.call.deadline is not None


def _first(head: tuple[int, _BucketQueue]) -> int:
    return head[0]


def _outcome_of(error: FgoError) -> Outcome:
    """What a failed attempt means for the discipline."""
    if isinstance(error, FgoRateLimitedError):
        return Outcome.THROTTLED
    if isinstance(error, FgoTimeoutError):
        return Outcome.LOST  # no reply: the vendor may still be working on it
    if isinstance(error, FgoConnectError):
        return Outcome.UNSENT  # no connection: the vendor never saw it
    return Outcome.ANSWERED


def _next_change(ledger: SyncLaneLedger, company: str | None, now: float, fallback: float) -> float:
    """When to ask a ledger again whether an idle lane may be forgotten."""
    next_change = getattr(ledger, "next_change", None)
    when: float = next_change(company) if next_change is not None else -math.inf
    # A ledger that keeps a lane for reasons of its own is asked again later, never in a spin.
    return when if when > now else now + max(fallback, 1.0)
