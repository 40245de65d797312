"""The scheduler: one lane per company, single-flight, a rate bucket per call family, safe retries.

Every call of every client that shares a :class:`Scheduler` goes through it, between the protocol
core and the transport. What it guarantees:

* **One call at a time per company.** A company's lane has at most one call in flight, whatever
  its bucket; nomenclator calls, which belong to no company, share one lane of their own.
* **Rate buckets.** A call starts only when its bucket allows: the interval of ``RatePolicy``
  plus a margin after the previous start of that bucket and company (after the previous reply in
  strict mode). A throttle answer widens the company's spacing, which then recovers slowly. The
  spacing is also enforced by an ``aiolimiter.AsyncLimiter`` per bucket and company, acquired
  right before sending: the lane predicts when it has capacity, so it never waits there.
* **No head-of-line blocking.** Among the calls of a lane whose buckets are ready, the one
  submitted first goes first (an interactive call overtakes batch calls); a call whose bucket is
  not ready (30 minutes for changed articles) never holds back a call of another bucket.
* **Waiting well.** Thousands of lanes share one timer: a waiting call is an entry in a heap and
  a future, not a task. A call that cannot start before its deadline fails with
  FgoQueueTimeoutError, unsent; a cancelled waiting call is removed, unsent; a full lane makes
  the submitter wait (backpressure).
* **Retries only where safe**, decided by :func:`~fgo_async.scheduling.retry.decide_retry`; every
  retry goes through the lane and its bucket again, and a retry budget per company keeps a dead
  server from being hammered.
* **Closing** lets calls in flight finish, then drains the queued calls or fails them with
  FgoClosedError. No call is left without a result or an error.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
import random
from collections import deque
from typing import Any

from aiolimiter import AsyncLimiter

from ..endpoints import Bucket
from ..errors import (
    FgoClosedError,
    FgoError,
    FgoQueueFullError,
    FgoQueueTimeoutError,
    FgoRateLimitedError,
)
from .call import Call
from .events import EventHook, EventKind, SchedulerEvent, SchedulerStats
from .policy import RatePolicy, RetryBudget
from .retry import RetryPolicy, decide_retry, final_error, may_have_been_processed

__all__ = ["DEFAULT_MAX_QUEUED", "Scheduler"]

logger = logging.getLogger("fgo_async.scheduler")

#: The calls one company may have waiting before submitters wait for room.
DEFAULT_MAX_QUEUED = 1000

# A timer may fire a hair before its time (the loop's clock resolution); starting a call a
# microsecond early is harmless next to the margin, spinning on the timer is not.
_EPSILON = 1e-6

# An acquire of the aiolimiter bucket that took longer than this waited for capacity; one that
# found capacity returns in microseconds.
_LIMITER_WAIT = 1e-3

# Entry states.
_WAITING = 0  # in its bucket's heap
_DELAYED = 1  # backing off before a retry, in the timer heap
_STARTED = 2  # in flight (its future resolved)
_DONE = 3  # finished, expired or cancelled

# Timer kinds.
_WAKE = 0  # a lane's next bucket becomes ready
_DEADLINE = 1  # a waiting call's deadline
_RETRY = 2  # a retry's backoff is over

# Heap keys are sequence numbers; an interactive call's key is shifted below every batch key.
_INTERACTIVE_SHIFT = 1 << 62


class _Entry:
    """One attempt of a call waiting for, or holding, its lane."""

    # Kept small on purpose: a million of these may wait at once.
    __slots__ = ("attempt", "call", "future", "lane", "queue", "ready_at", "started_at", "state")

    def __init__(
        self,
        call: Call,
        lane: _Lane,
        queue: _BucketQueue,
        future: Any,
        attempt: int,
        ready_at: float,
    ) -> None:
        self.call = call
        self.lane = lane
        self.queue = queue
        self.future: asyncio.Future[None] = future
        self.state = _WAITING
        self.attempt = attempt
        self.ready_at = ready_at  # when it was queued, or when its retry backoff ends
        self.started_at = 0.0


class _BucketQueue:
    """The waiting calls of one bucket of one lane, and when that bucket may start the next."""

    __slots__ = ("bucket", "heap", "interval", "limiter", "next_start", "waiting")

    def __init__(self, bucket: Bucket, interval: float) -> None:
        self.bucket = bucket
        self.interval = interval
        self.heap: list[tuple[int, _Entry]] = []
        self.waiting = 0
        self.next_start = -math.inf
        # The vendor's limit as a leaky bucket of one call per interval; None when disabled.
        self.limiter = AsyncLimiter(1, interval) if interval > 0 else None


class _Lane:
    """One company's lane: its bucket queues, its call in flight, its spacing and budget."""

    __slots__ = (
        "company",
        "free_at",
        "hold_until",
        "queues",
        "running",
        "space_waiters",
        "tokens",
        "waiting",
        "wake_at",
        "widening",
    )

    def __init__(self, company: str | None, tokens: float) -> None:
        self.company = company
        self.queues: dict[Bucket, _BucketQueue] = {}
        self.running: _Entry | None = None
        self.waiting = 0
        self.widening = 1.0
        self.tokens = tokens
        self.wake_at: float | None = None
        self.free_at = -math.inf
        self.hold_until = -math.inf
        # Submitters waiting for room; made on first use, as most lanes never fill up.
        self.space_waiters: deque[asyncio.Future[None]] | None = None


class Scheduler:
    """Shared by the clients of one process; a client without one makes its own.

    ``rate_policy`` sets the intervals and margin (:class:`RatePolicy`); ``retry_policy`` the
    attempts and backoff (a client's own policy overrides it for its calls); ``retry_budget``
    the retry tokens of each company. ``max_queued_per_company`` bounds the waiting calls of one
    company: past it, :meth:`submit` waits for room (``block_when_full=True``, the default) or
    raises FgoQueueFullError. ``drain_on_close`` says whether :meth:`aclose` runs the queued
    calls (default) or fails them with FgoClosedError. ``event_hook`` is called with a
    :class:`SchedulerEvent` when a call is queued, started, finished, retried, expired or
    cancelled. ``seed`` makes the retry jitter reproducible.
    """

    def __init__(
        self,
        *,
        rate_policy: RatePolicy | None = None,
        retry_policy: RetryPolicy | None = None,
        retry_budget: RetryBudget | None = None,
        max_queued_per_company: int = DEFAULT_MAX_QUEUED,
        block_when_full: bool = True,
        drain_on_close: bool = True,
        event_hook: EventHook | None = None,
        seed: int | None = None,
    ) -> None:
        if max_queued_per_company < 1:
            raise ValueError("max_queued_per_company must be at least 1")
        self.rate_policy = rate_policy or RatePolicy()
        self.retry_policy = retry_policy or RetryPolicy()
        self.retry_budget = retry_budget or RetryBudget()
        self.max_queued_per_company = max_queued_per_company
        self.block_when_full = block_when_full
        self.drain_on_close = drain_on_close
        self.event_hook = event_hook
        self._rng = random.Random(seed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lanes: dict[str | None, _Lane] = {}
        self._timers: list[tuple[float, int, int, Any]] = []
        self._wake_groups: dict[float, list[_Lane]] = {}
        self._timer_handle: asyncio.TimerHandle | None = None
        self._timer_when = math.inf
        self._firing = False
        self._seq = itertools.count()
        self._active = 0
        self._closing = False
        self._drain = drain_on_close
        self._idle: asyncio.Future[None] | None = None
        # Counters for stats().
        self._started = 0
        self._finished = 0
        self._failed = 0
        self._retries = 0
        self._throttles = 0
        self._expired = 0
        self._cancelled = 0
        self._limiter_waits = 0
        self._total_wait = 0.0
        self._max_wait = 0.0

    # -- public ------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` was called: no new call is accepted."""
        return self._closing

    async def submit(self, call: Call) -> Any:
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
            lane = self._lanes[call.company] = _Lane(call.company, self.retry_budget.capacity)
        if call.deadline is not None and call.deadline <= loop.time():
            self._expired += 1
            raise FgoQueueTimeoutError(
                "the deadline passed before the call could be queued", identity=call.identity
            )
        if lane.waiting >= self.max_queued_per_company:
            await self._wait_for_room(call, lane)
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
                    self._withdraw(lane, entry)
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
                try:
                    limiter = entry.queue.limiter
                    if limiter is not None:
                        before = loop.time()
                        await limiter.acquire()
                        if loop.time() - before > _LIMITER_WAIT:
                            # Not expected: the lane starts a call once its bucket is ready.
                            self._limiter_waits += 1
                    call.sent_at = None
                    result = await call.attempt()
                except asyncio.CancelledError:
                    self._abandon(lane, entry)
                    raise
                except FgoError as error:
                    self._finish(lane, entry, error)
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
                    continue
                except BaseException:
                    self._finish(lane, entry, None, failed=True)
                    raise
                self._finish(lane, entry, None)
                return result
        finally:
            self._active -= 1
            if self._active == 0 and self._idle is not None and not self._idle.done():
                self._idle.set_result(None)

    def stats(self) -> SchedulerStats:
        """A snapshot of the queues and counters."""
        queued = {
            company: {bucket: queue.waiting for bucket, queue in lane.queues.items()}
            for company, lane in self._lanes.items()
            if lane.waiting
        }
        in_flight = sum(1 for lane in self._lanes.values() if lane.running is not None)
        return SchedulerStats(
            queued=queued,
            in_flight=in_flight,
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
            limiter_waits=self._limiter_waits,
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
        if self._timer_handle is not None:
            self._timer_handle.cancel()
            self._timer_handle = None

    # -- a call's life -----------------------------------------------------------------------

    def _retry_delay(
        self, call: Call, lane: _Lane, entry: _Entry, error: FgoError, history: list[FgoError]
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
        if not decision.retry or (self._closing and not self._drain):
            return None
        if not self._spend(lane, error):
            return None
        self._retries += 1
        self._emit(EventKind.RETRYING, entry, error=error, delay=decision.delay)
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                "retrying %s in %.2f s (attempt %d after %d tries): %s: %s",
                call.identity.describe(),
                decision.delay,
                entry.attempt + 1,
                len(history) + 1,
                decision.reason,
                error.message,
            )
        return decision.delay

    def _enqueue(self, call: Call, lane: _Lane, attempt: int, not_before: float) -> _Entry:
        """Queue one attempt of ``call``; the lane resolves its future when it starts it."""
        loop = self._loop
        assert loop is not None
        now = loop.time()
        bucket = call.endpoint.bucket
        queue = lane.queues.get(bucket)
        if queue is None:
            queue = lane.queues[bucket] = _BucketQueue(bucket, self.rate_policy.intervals[bucket])
        entry = _Entry(call, lane, queue, loop.create_future(), attempt, max(now, not_before))
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

    def _key(self, call: Call) -> int:
        """The heap key of a call being queued: first come, first served; interactive first."""
        seq = next(self._seq)
        return seq - _INTERACTIVE_SHIFT if call.interactive else seq

    def _withdraw(self, lane: _Lane, entry: _Entry) -> None:
        """The submitter of a queued attempt was cancelled: the attempt will never be sent."""
        if entry.state == _STARTED:
            # Started but cancelled before sending anything: the bucket and lane are free.
            entry.queue.next_start = entry.started_at
            self._release(lane, entry, self._now())
        elif entry.state in (_WAITING, _DELAYED):
            self._remove(lane, entry)
            self._cancelled += 1
            self._emit(EventKind.CANCELLED, entry)

    async def _wait_for_room(self, call: Call, lane: _Lane) -> None:
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
        """Start the lane's next call if one is ready, else set a wake-up for when one will be."""
        if lane.running is not None:
            return
        if lane.hold_until > now:
            self._wake_lane(lane, lane.hold_until)
            return
        best: _BucketQueue | None = None
        best_key = 0
        earliest = math.inf
        ready_by = now + _EPSILON
        for queue in lane.queues.values():
            heap = queue.heap
            while heap and heap[0][1].state != _WAITING:
                heapq.heappop(heap)  # expired or cancelled: removed lazily
            if not heap:
                continue
            if queue.next_start <= ready_by:
                key = heap[0][0]
                if best is None or key < best_key:
                    best, best_key = queue, key
            elif queue.next_start < earliest:
                earliest = queue.next_start
        if best is not None:
            self._start(lane, best, heapq.heappop(best.heap)[1], now)
        elif earliest < math.inf:
            self._wake_lane(lane, earliest)

    def _start(self, lane: _Lane, queue: _BucketQueue, entry: _Entry, now: float) -> None:
        eligible_at = max(entry.ready_at, queue.next_start, lane.free_at)
        entry.state = _STARTED
        entry.started_at = now
        lane.running = entry
        lane.waiting -= 1
        queue.waiting -= 1
        # The bucket is taken until the call ends, which sets when the next may start.
        queue.next_start = math.inf
        wait = now - entry.ready_at
        self._started += 1
        self._total_wait += wait
        if wait > self._max_wait:
            self._max_wait = wait
        entry.future.set_result(None)
        if self.event_hook is not None:
            self._emit(EventKind.STARTED, entry, wait=wait, delay=max(0.0, now - eligible_at))
        if lane.space_waiters:
            self._wake_one_submitter(lane)

    def _finish(
        self, lane: _Lane, entry: _Entry, error: FgoError | None, *, failed: bool = False
    ) -> None:
        now = self._now()
        queue = entry.queue
        policy = self.rate_policy
        if error is None and not failed:
            if lane.widening != 1.0:
                lane.widening = max(1.0, lane.widening * policy.recovery)
            if lane.tokens < self.retry_budget.capacity:
                lane.tokens = min(
                    self.retry_budget.capacity, lane.tokens + self.retry_budget.refund
                )
        elif isinstance(error, FgoRateLimitedError):
            self._throttles += 1
            lane.widening = min(policy.max_widening, lane.widening * policy.throttle_widening)
            if logger.isEnabledFor(logging.WARNING):
                logger.warning(
                    "throttled by the vendor: %s; spacing of company %s now x%.2g",
                    entry.call.identity.describe(),
                    lane.company,
                    lane.widening,
                )
        if policy.strict:
            base = now
        else:
            # From when the request went out, if the transport said: a slow connection set-up
            # before this call must not bring the vendor's view of the next one closer to it.
            sent_at = entry.call.sent_at
            base = entry.started_at if sent_at is None else max(entry.started_at, sent_at)
        queue.next_start = base + queue.interval * lane.widening + policy.margin
        if error is not None or failed:
            self._failed += 1
        self._finished += 1
        if self.event_hook is not None:
            self._emit(EventKind.FINISHED, entry, latency=now - entry.started_at, error=error)
        self._release(lane, entry, now)

    def _release(self, lane: _Lane, entry: _Entry, now: float) -> None:
        entry.state = _DONE
        if lane.running is entry:
            lane.running = None
            lane.free_at = now
            self._pump(lane, now)

    def _abandon(self, lane: _Lane, entry: _Entry) -> None:
        """A caller was cancelled while its call was in flight: the vendor may still be working
        on it, so the lane stays closed for ``cancelled_hold`` seconds."""
        self._cancelled += 1
        now = self._now()
        queue = entry.queue
        lane.hold_until = now + self.rate_policy.cancelled_hold
        spaced = entry.started_at + queue.interval * lane.widening + self.rate_policy.margin
        queue.next_start = max(spaced, lane.hold_until)
        logger.warning(
            "call cancelled in flight, outcome unknown: %s; company %s waits %.0f s",
            entry.call.identity.describe(),
            lane.company,
            self.rate_policy.cancelled_hold,
        )
        self._emit(EventKind.CANCELLED, entry)
        self._release(lane, entry, now)

    def _remove(self, lane: _Lane, entry: _Entry) -> None:
        """Take a waiting or delayed entry out of the counts; its heap slot is dropped lazily."""
        entry.state = _DONE
        lane.waiting -= 1
        entry.queue.waiting -= 1
        if lane.space_waiters:
            self._wake_one_submitter(lane)

    def _spend(self, lane: _Lane, error: FgoError) -> bool:
        budget = self.retry_budget
        cost = budget.lost_reply_cost if may_have_been_processed(error) else budget.retry_cost
        if lane.tokens < cost:
            logger.warning("retry budget of company %s spent; not retrying", lane.company)
            return False
        lane.tokens -= cost
        return True

    def _wake_one_submitter(self, lane: _Lane) -> None:
        while lane.space_waiters:
            waiter = lane.space_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _fail_waiting(self) -> None:
        for lane in self._lanes.values():
            for queue in lane.queues.values():
                for _, entry in queue.heap:
                    self._fail(lane, entry)
            while lane.space_waiters:
                waiter = lane.space_waiters.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # the submitter sees the closing and raises
        for _, _, kind, entry in self._timers:
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

    # -- the one timer -----------------------------------------------------------------------

    def _wake_lane(self, lane: _Lane, when: float) -> None:
        if lane.wake_at is not None and lane.wake_at <= when:
            return
        lane.wake_at = when
        # Lanes started together stay in step (spacing counts from the start), so many wake at
        # the very same time: they share one timer entry, and the heap stays small.
        group = self._wake_groups.get(when)
        if group is None:
            group = self._wake_groups[when] = []
            self._push_timer(when, _WAKE, group)
        group.append(lane)

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
                for lane in target:
                    if lane.wake_at == when:  # else an earlier wake was set since
                        lane.wake_at = None
                        self._pump(lane, now)
            elif kind == _DEADLINE:
                if target.state in (_WAITING, _DELAYED):
                    self._expire(target)
            elif target.state == _DELAYED:
                target.state = _WAITING
                heapq.heappush(target.queue.heap, (self._key(target.call), target))
                self._pump(target.lane, now)
        self._firing = False
        if timers:
            self._arm()

    def _expire(self, entry: _Entry) -> None:
        self._remove(entry.lane, entry)
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
        )
        try:
            hook(event)
        except Exception:  # a broken metrics hook must not break the calls
            logger.exception("the scheduler's event hook failed on %s", kind.value)
