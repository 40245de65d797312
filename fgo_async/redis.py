"""The company lanes on Redis (or Valkey): one discipline for many processes and machines.

Give every process's scheduler a :class:`RedisLedger` on the same server
(``Scheduler(ledger=RedisLedger.from_url("redis://..."))``) and together they keep the vendor's
discipline as one process would: one call in flight per company, each bucket spaced, one
worker's throttle slowing them all. Install with ``pip install 'fgo_async[redis]'``
(redis-py 5 or newer, ``redis.asyncio``).

How it works:

* **One atomic Lua script per acquire and per release** of a company's lane. A company's keys
  share one hash tag (``fgo:{12345678}:...``), so the scripts run on Redis Cluster too. Time is
  Redis's own clock (``TIME``), never a worker's; the spacing rule is the one of
  :mod:`fgo_async.scheduling.discipline`, written again in Lua (tests check the two agree).
* The lane holds the **lease** of the company's one call in flight: a token, and a time to live
  longer than the call timeout plus the vendor's hold, so that a crashed worker's lane reopens
  by itself. It keeps each bucket's next allowed start, the throttle widening and the hold.
* **First come, first served across processes**: each process waiting for a bucket has one
  ticket per company and bucket (however many calls it has queued), and the lane goes to the
  oldest ticket whose bucket is ready; a process whose bucket is not ready is skipped.
* **No polling**: a release publishes on the company's channel and wakes the waiters; a waiter
  whose bucket opens later sleeps exactly that long; a lost message costs latency, never
  correctness (a waiter asks again after ``refresh`` seconds at most).
* **Faults**: an acquire whose reply was lost is repeated with the same token, which the
  script recognises; a release that failed is retried before the next acquire; scripts are
  loaded again on ``NOSCRIPT`` only; a command is never cancelled halfway. When Redis cannot
  be reached, calls stay queued, unsent, and fail at their deadlines (fail closed: the
  discipline is the vendor's); the process recovers by itself when Redis returns. A release
  whose lease had expired is counted (:attr:`RedisLedger.leases_lost`) and logged.

Redis holds no journal: the durable state of invoices stays in :mod:`fgo_async.journal`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Sequence
from typing import Any

from ._log_fields import company_fields
from .endpoints import Bucket
from .scheduling.ledger import LaneListener, Lease, Settlement
from .scheduling.policy import RatePolicy
from .telemetry import default_telemetry

try:
    from redis import asyncio as redis_asyncio
    from redis.exceptions import RedisError
except ImportError as error:  # pragma: no cover - the extra is missing
    raise ImportError(
        "fgo_async.redis needs redis-py 5 or newer: pip install 'fgo_async[redis]'"
    ) from error

__all__ = ["DEFAULT_LEASE_TTL", "RedisLedger"]

logger = logging.getLogger("fgo_async.redis")

#: How long a lease lives: longer than the client's call timeout (30 s) plus the vendor's hold
#: after a lost reply (15 s), so that only a crashed worker's lease ever expires.
DEFAULT_LEASE_TTL = 60.0
#: How long a process's ticket waits for it to ask again before another may pass it.
DEFAULT_STALE_TICKET = 30.0
#: The longest a waiter sleeps before asking again when it was told "busy" (a lost wake-up
#: message costs at most this).
DEFAULT_REFRESH = 5.0
#: How many times a command whose reply was lost is repeated before giving up for now.
_REPEATS = 3
_NOMENCLATOR_LANE = "_nomenclator"

# The discipline's settle(), in Lua: keep it in step with fgo_async/scheduling/discipline.py.
_SETTLE = """
local function settle(hold, widening, widening_until, next_start, outcome, now, sent_at,
                      retry_after, interval, margin, strict, grow, max_widening, recovery,
                      memory, lost_hold)
  if outcome == 'unsent' then
    return hold, widening, widening_until, next_start
  end
  local w = widening
  if not (now < widening_until) then w = 1 end
  if outcome == 'throttled' then
    w = math.min(max_widening, w * grow)
  elseif outcome == 'answered' and w ~= 1 then
    w = math.max(1, w * recovery)
  end
  local until_ = -math.huge
  if w ~= 1 then until_ = now + memory end
  local iv = interval * w
  local sent = now
  if sent_at ~= nil and sent_at <= now then sent = sent_at end
  local start
  if strict then
    start = now + iv + margin
  else
    start = math.min(sent + iv + margin, now + iv)
  end
  if outcome == 'throttled' and retry_after ~= nil and now + retry_after > start then
    start = now + retry_after
  end
  if outcome == 'lost' then
    hold = math.max(hold, now + lost_hold)
    start = math.max(start, hold)
  end
  return hold, w, until_, start
end
"""

_COMMON = """
local function now_()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local function num(value, default)
  local n = tonumber(value)
  if n == nil then return default end
  return n
end
local function store(key, field, value)
  if value == -math.huge then redis.call('HDEL', key, field)
  else redis.call('HSET', key, field, string.format('%.6f', value)) end
end
"""

# Grants the lane to ``holder`` for the first of its buckets it may start now, first come first
# served among the processes whose bucket is ready; returns {1, bucket} or {0, seconds to wait}.
_TRY_ACQUIRE = """
local function acquire(lane, nexts, tickets, seen, holder, token, ttl, stale, refresh, buckets)
  local now = now_()
  local held = redis.call('HMGET', lane, 'token', 'expires', 'bucket', 'hold')
  if held[1] == token then
    return {1, held[3]}  -- the repeat of an acquire whose reply was lost
  end
  local mine = {}
  for _, bucket in ipairs(buckets) do
    local ticket = holder .. '|' .. bucket
    redis.call('ZADD', tickets, 'NX', now, ticket)
    redis.call('HSET', seen, ticket, string.format('%.6f', now))
    mine[bucket] = true
  end
  if held[1] and num(held[2], 0) > now then
    return {0, string.format('%.6f', math.min(num(held[2], 0) - now, refresh))}
  end
  local hold = num(held[4], -math.huge)
  local soonest = math.huge
  for _, ticket in ipairs(redis.call('ZRANGE', tickets, 0, -1)) do
    local last = num(redis.call('HGET', seen, ticket), -math.huge)
    local bar = string.find(ticket, '|[^|]*$')
    local who, bucket = string.sub(ticket, 1, bar - 1), string.sub(ticket, bar + 1)
    if now - last > stale then
      redis.call('ZREM', tickets, ticket)  -- its process stopped asking: it may be gone
      redis.call('HDEL', seen, ticket)
    else
      local opens = math.max(num(redis.call('HGET', nexts, bucket), -math.huge), hold)
      if opens <= now then
        if who ~= holder then
          return {0, string.format('%.6f', refresh)}  -- an older ticket goes first
        end
        redis.call('HSET', lane, 'token', token, 'holder', holder, 'bucket', bucket,
                   'expires', string.format('%.6f', now + ttl))
        redis.call('ZREM', tickets, ticket)
        redis.call('HDEL', seen, ticket)
        return {1, bucket}
      elseif who == holder and mine[bucket] and opens < soonest then
        soonest = opens
      end
    end
  end
  return {0, string.format('%.6f', math.min(soonest - now, refresh))}
end
"""

# KEYS: lane, next, tickets, seen. ARGV: holder, token, ttl, stale, refresh, bucket...
_ACQUIRE = (
    _COMMON
    + _TRY_ACQUIRE
    + """
local buckets = {}
for i = 6, #ARGV do buckets[#buckets + 1] = ARGV[i] end
return acquire(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], tonumber(ARGV[3]),
               tonumber(ARGV[4]), tonumber(ARGV[5]), buckets)
"""
)

# KEYS: lane, next, tickets, seen, channel. ARGV: token, bucket, outcome, sent_ago,
# retry_after, interval, margin, strict, throttle_widening, max_widening, recovery,
# throttle_memory, lost_reply_hold, message, then (to ask for the lane again in the same trip)
# holder, new token, ttl, stale, refresh, bucket... Returns {lease lost (0/1), granted (0/1),
# bucket or seconds to wait}; the release is applied even when the lease had expired.
_RELEASE = (
    _COMMON
    + _SETTLE
    + _TRY_ACQUIRE
    + """
local lane, nexts, channel = KEYS[1], KEYS[2], KEYS[5]
local token, bucket, outcome = ARGV[1], ARGV[2], ARGV[3]
local now = now_()
local sent_at = nil
if ARGV[4] ~= '' then sent_at = now - tonumber(ARGV[4]) end
local retry_after = nil
if ARGV[5] ~= '' then retry_after = tonumber(ARGV[5]) end
local state = redis.call('HMGET', lane, 'token', 'hold', 'widening', 'widening_until')
local lost = 0
if state[1] ~= token then lost = 1 end
local before = num(redis.call('HGET', nexts, bucket), -math.huge)
local hold, w, until_, start = settle(
  num(state[2], -math.huge), num(state[3], 1), num(state[4], -math.huge), before, outcome,
  now, sent_at, retry_after, tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8] == '1',
  tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12]),
  tonumber(ARGV[13]))
if lost == 1 then start = math.max(start, before) end  -- another holder may be at work
store(lane, 'hold', hold)
if w == 1 then redis.call('HDEL', lane, 'widening') else store(lane, 'widening', w) end
store(lane, 'widening_until', until_)
store(nexts, bucket, start)
if lost == 0 then redis.call('HDEL', lane, 'token', 'holder', 'bucket', 'expires') end
redis.call('PUBLISH', channel, ARGV[14])
if #ARGV < 20 then return {lost, 0, '0'} end
local buckets = {}
for i = 20, #ARGV do buckets[#buckets + 1] = ARGV[i] end
local next_ = acquire(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[15], ARGV[16],
                      tonumber(ARGV[17]), tonumber(ARGV[18]), tonumber(ARGV[19]), buckets)
return {lost, next_[1], next_[2]}
"""
)

# KEYS: tickets, seen. ARGV: holder, bucket...
_WITHDRAW = """
for i = 2, #ARGV do
  local ticket = ARGV[1] .. '|' .. ARGV[i]
  redis.call('ZREM', KEYS[1], ticket)
  redis.call('HDEL', KEYS[2], ticket)
end
return 0
"""

# KEYS: lane, next. ARGV: bucket, sent_ago, in_flight, interval, margin, lost_reply_hold.
_RESTORE = (
    _COMMON
    + """
local lane, nexts = KEYS[1], KEYS[2]
local now = now_()
local sent = now - tonumber(ARGV[2])
local state = redis.call('HMGET', lane, 'hold', 'widening', 'widening_until')
local hold = num(state[1], -math.huge)
local w = num(state[2], 1)
if not (now < num(state[3], -math.huge)) then w = 1 end
local start = sent + tonumber(ARGV[4]) * w + tonumber(ARGV[5])
if ARGV[3] == '1' then
  hold = math.max(hold, sent + tonumber(ARGV[6]))
  start = math.max(start, hold)
  store(lane, 'hold', hold)
end
store(nexts, ARGV[1], math.max(start, num(redis.call('HGET', nexts, ARGV[1]), -math.huge)))
return 0
"""
)


class RedisLedger:
    """The lanes of every company on one Redis server, shared by many processes.

    Build it from a URL (:meth:`from_url`) or an existing ``redis.asyncio.Redis`` client (then
    not closed by :meth:`aclose`). ``rate_policy`` must be the same in every process (the
    scheduler takes it from the ledger). ``lease_ttl`` must exceed the clients' call timeout
    plus the policy's ``lost_reply_hold``. ``prefix`` namespaces the keys.
    """

    def __init__(
        self,
        client: redis_asyncio.Redis,
        *,
        rate_policy: RatePolicy | None = None,
        prefix: str = "fgo",
        lease_ttl: float = DEFAULT_LEASE_TTL,
        stale_ticket: float = DEFAULT_STALE_TICKET,
        refresh: float = DEFAULT_REFRESH,
        owns_client: bool = False,
    ) -> None:
        if lease_ttl <= 0 or stale_ticket <= 0 or refresh <= 0:
            raise ValueError("lease_ttl, stale_ticket and refresh must be positive")
        self.rate_policy = rate_policy or RatePolicy()
        if lease_ttl <= self.rate_policy.lost_reply_hold:
            raise ValueError(
                "lease_ttl must exceed the call timeout plus the policy's lost_reply_hold"
            )
        self.client = client
        self.prefix = prefix
        self.lease_ttl = lease_ttl
        self.stale_ticket = stale_ticket
        self.refresh = refresh
        self._owns_client = owns_client
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)
        self._withdraw = client.register_script(_WITHDRAW)
        self._restore = client.register_script(_RESTORE)
        self._listeners: list[LaneListener] = []
        self._listening: asyncio.Task[None] | None = None
        self._uncertain: dict[str | None, str] = {}  # acquires whose reply was lost
        self._unreleased: dict[str | None, tuple[Lease, Settlement]] = {}
        self._closed = False
        # Names this ledger on the release channel, so that it skips its own messages.
        self._id = secrets.token_hex(8)
        #: Releases whose lease had expired: the TTL was too short for a call.
        self.leases_lost = 0
        #: Commands sent to Redis (acquires, releases...), for the benchmarks.
        self.round_trips = 0

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisLedger:
        """A ledger on the Redis server at ``url`` (``redis://``, ``rediss://``, ``unix://``)."""
        client = redis_asyncio.Redis.from_url(url)
        return cls(client, owns_client=True, **options)

    def __repr__(self) -> str:
        return f"<RedisLedger prefix={self.prefix!r}>"

    # -- keys --------------------------------------------------------------------------------

    def _keys(self, company: str | None) -> tuple[str, str, str, str, str]:
        tag = f"{self.prefix}:{{{company if company is not None else _NOMENCLATOR_LANE}}}"
        return (
            f"{tag}:lane",
            f"{tag}:next",
            f"{tag}:tickets",
            f"{tag}:seen",
            f"{tag}:released",
        )

    def _company_of(self, channel: str) -> str | None:
        start, end = channel.find("{"), channel.rfind("}")
        company = channel[start + 1 : end]
        return None if company == _NOMENCLATOR_LANE else company

    # -- the protocol ------------------------------------------------------------------------

    async def acquire(
        self, company: str | None, buckets: Sequence[Bucket], *, holder: str
    ) -> Lease | float:
        """A lease for the first bucket of ``buckets`` this process may start now, or the
        seconds to sleep before asking again (a release wakes the listeners sooner)."""
        self._listen()
        unreleased = self._unreleased.get(company)
        if unreleased is not None:  # a release that failed goes first, and asks in its trip
            answer = await self.release(*unreleased, then=buckets, holder=holder)
            assert answer is not None
            return answer
        lane, nexts, tickets, seen, _ = self._keys(company)
        token = self._token(company)
        args = [
            holder, token, self.lease_ttl, self.stale_ticket, self.refresh,
            *(bucket.value for bucket in buckets),
        ]  # fmt: skip
        reply = await self._run(self._acquire, [lane, nexts, tickets, seen], args)
        return self._answer(company, token, int(reply[0]), reply[1])

    async def release(
        self,
        lease: Lease,
        settlement: Settlement,
        *,
        then: Sequence[Bucket] = (),
        holder: str = "",
    ) -> Lease | float | None:
        """Give a lease back; its call's outcome settles the lane for every process.

        With ``then`` (the buckets this process still has calls for), the lane is asked for
        again in the same round trip: the answer is a lease or the seconds to wait.
        """
        self._listen()
        company = lease.company
        self._unreleased[company] = (lease, settlement)
        lane, nexts, tickets, seen, channel = self._keys(company)
        policy = self.rate_policy
        args: list[Any] = [
            lease.token,
            lease.bucket.value,
            settlement.outcome.value,
            "" if settlement.sent_ago is None else repr(settlement.sent_ago),
            "" if settlement.retry_after is None else repr(settlement.retry_after),
            repr(policy.intervals[lease.bucket]),
            repr(policy.margin),
            "1" if policy.strict else "0",
            repr(policy.throttle_widening),
            repr(policy.max_widening),
            repr(policy.recovery),
            repr(policy.throttle_memory),
            repr(policy.lost_reply_hold),
            self._id,
        ]
        token = ""
        if then:
            token = self._token(company)
            args += [holder, token, self.lease_ttl, self.stale_ticket, self.refresh]
            args += [bucket.value for bucket in then]
        reply = await self._run(self._release, [lane, nexts, tickets, seen, channel], args)
        del self._unreleased[company]
        if int(reply[0]):
            self.leases_lost += 1
            default_telemetry().lease_lost(company)
            logger.warning(
                "the lease of company %s had expired when its call ended: lease_ttl (%g s) is "
                "shorter than a call took",
                company,
                self.lease_ttl,
                extra=company_fields(company, outcome="lease lost"),
            )
        for listener in self._listeners:  # other schedulers of this process sharing the ledger
            listener(company)
        if not then:
            return None
        return self._answer(company, token, int(reply[1]), reply[2])

    def _token(self, company: str | None) -> str:
        """The token of the next acquire: the one of an acquire whose reply was lost, if any,
        so that the script recognises a lease it already granted."""
        token = self._uncertain.get(company) or secrets.token_hex(8)
        self._uncertain[company] = token
        return token

    def _answer(self, company: str | None, token: str, granted: int, value: Any) -> Lease | float:
        del self._uncertain[company]  # the reply came: the token is settled either way
        if granted:
            return Lease(company=company, bucket=Bucket(_text(value)), token=token)
        return max(0.0, float(_text(value)))

    async def withdraw(
        self, company: str | None, buckets: Sequence[Bucket], *, holder: str
    ) -> None:
        """This process no longer waits for these buckets of ``company``."""
        _, _, tickets, seen, _ = self._keys(company)
        await self._run(self._withdraw, [tickets, seen], [holder, *(b.value for b in buckets)])

    async def restore(
        self, company: str | None, bucket: Bucket, *, sent_ago: float, in_flight: bool
    ) -> None:
        """Start a lane no sooner than a call sent ``sent_ago`` seconds ago allows."""
        lane, nexts, _, _, _ = self._keys(company)
        policy = self.rate_policy
        args = [
            bucket.value,
            repr(max(0.0, sent_ago)),
            "1" if in_flight else "0",
            repr(policy.intervals[bucket]),
            repr(policy.margin),
            repr(policy.lost_reply_hold),
        ]
        await self._run(self._restore, [lane, nexts], args)

    def add_listener(self, listener: LaneListener) -> None:
        """Call ``listener`` with a company whenever a process released its lane."""
        self._listeners.append(listener)

    async def aclose(self) -> None:
        """Stop listening; close the client if this ledger made it."""
        self._closed = True
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
        if self._owns_client:
            await self.client.aclose()

    # -- Redis -------------------------------------------------------------------------------

    async def _run(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        """Run a script to its end, shielded from the caller's cancellation (redis-py must not
        be cut halfway through a command), repeating it when its reply was lost."""
        failure: BaseException | None = None
        for attempt in range(_REPEATS):
            self.round_trips += 1
            task = asyncio.ensure_future(script(keys=keys, args=args))
            try:
                return await asyncio.shield(task)
            except (RedisError, OSError) as error:
                failure = error
                await asyncio.sleep(0.05 * (attempt + 1))
        assert failure is not None
        raise failure

    def _listen(self) -> None:
        if self._listening is None and not self._closed:
            self._listening = asyncio.ensure_future(self._listen_forever())

    async def _listen_forever(self) -> None:
        """Relay the release messages to the listeners; reconnect when Redis comes back."""
        pattern = f"{self.prefix}:*:released"
        delay = 0.1
        while not self._closed:
            pubsub = self.client.pubsub()
            try:
                await pubsub.psubscribe(pattern)
                delay = 0.1
                async for message in pubsub.listen():
                    if message.get("type") != "pmessage" or _text(message["data"]) == self._id:
                        continue  # not a release, or one of ours (told to our listeners)
                    company = self._company_of(_text(message["channel"]))
                    for listener in self._listeners:
                        listener(company)
            except (RedisError, OSError) as error:
                logger.debug(
                    "release messages interrupted (%s); listening again",
                    error,
                    extra={"fgo_ledger": self.prefix},
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.refresh)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
