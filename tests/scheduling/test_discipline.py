"""The discipline as pure functions: the spacing formula by table, its safety by hypothesis."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fgo_async.endpoints import Bucket
from fgo_async.scheduling import LaneState, Outcome, RatePolicy
from fgo_async.scheduling.discipline import admit, earliest_start, restored, settle

POLICY = RatePolicy()  # factura: 1 s, margin 0.1 s, hold 15 s, widening x2 up to x8, recovery 0.9
F = Bucket.FACTURA
FRESH = LaneState()


@pytest.mark.parametrize(
    ("sent", "replied", "expected", "why"),
    [
        (10.0, 10.0, 11.0, "an instant reply: the reply plus the interval comes first"),
        (10.0, 10.05, 11.05, "a fast vendor (50 ms): still from the reply"),
        (10.0, 10.1, 11.1, "at exactly the margin the two bounds meet"),
        (10.0, 10.3, 11.1, "a slow vendor (300 ms): from the send, plus the margin"),
        (10.0, 25.0, 11.1, "a 15 s issue: from the send, plus the margin"),
    ],
)
def test_the_next_start_is_the_better_of_two_safe_bounds(
    sent: float, replied: float, expected: float, why: str
) -> None:
    settled = settle(
        FRESH, -math.inf, POLICY, F, now=replied, outcome=Outcome.ANSWERED, sent_at=sent
    )
    assert settled.next_start == pytest.approx(expected), why
    assert settled.lane == FRESH


def test_strict_mode_counts_from_the_reply_with_the_margin() -> None:
    strict = RatePolicy(strict=True)
    settled = settle(FRESH, -math.inf, strict, F, now=10.3, outcome=Outcome.ANSWERED, sent_at=10.0)
    assert settled.next_start == pytest.approx(11.4)


def test_an_unknown_or_impossible_send_time_counts_as_the_reply() -> None:
    for sent_at in (None, 99.0):  # unknown, or after the reply: a confused clock
        settled = settle(
            FRESH, -math.inf, POLICY, F, now=10.3, outcome=Outcome.ANSWERED, sent_at=sent_at
        )
        assert settled.next_start == pytest.approx(11.3)


def test_a_throttle_widens_and_retry_after_closes_the_bucket() -> None:
    settled = settle(FRESH, -math.inf, POLICY, F, now=10.3, outcome=Outcome.THROTTLED, sent_at=10.0)
    assert settled.lane.widening == 2.0
    assert settled.next_start == pytest.approx(12.1)  # 10.0 + 2 x 1 s + 0.1
    held = settle(
        FRESH, -math.inf, POLICY, F, now=10.3, outcome=Outcome.THROTTLED, sent_at=10.0,
        retry_after=30.0,
    )  # fmt: skip
    assert held.next_start == pytest.approx(40.3)  # N seconds from the throttle answer


def test_widening_is_capped_and_recovers_with_each_answer() -> None:
    lane = FRESH
    for _ in range(5):
        lane = settle(lane, -math.inf, POLICY, F, now=0.0, outcome=Outcome.THROTTLED).lane
    assert lane.widening == POLICY.max_widening
    recovered = settle(lane, -math.inf, POLICY, F, now=0.0, outcome=Outcome.ANSWERED).lane
    assert recovered.widening == pytest.approx(POLICY.max_widening * POLICY.recovery)
    lane = recovered
    for _ in range(100):
        lane = settle(lane, -math.inf, POLICY, F, now=0.0, outcome=Outcome.ANSWERED).lane
    assert lane.widening == 1.0


def test_a_lost_reply_holds_the_whole_lane() -> None:
    settled = settle(FRESH, -math.inf, POLICY, F, now=40.0, outcome=Outcome.LOST, sent_at=10.0)
    assert settled.lane.hold_until == pytest.approx(55.0)
    assert settled.next_start == pytest.approx(55.0)
    # Every bucket of the company waits for the hold, not only the one of the lost call.
    assert admit(settled.lane, -math.inf, 50.0) == pytest.approx(5.0)
    assert earliest_start(settled.lane, 60.0) == 60.0


def test_an_unsent_call_leaves_everything_as_it_was() -> None:
    lane = LaneState(hold_until=3.0, widening=2.0)
    settled = settle(lane, 7.5, POLICY, F, now=10.0, outcome=Outcome.UNSENT, sent_at=9.0)
    assert settled == (lane, 7.5)


def test_admit_waits_for_the_bucket_the_hold_or_the_call_in_flight() -> None:
    assert admit(FRESH, -math.inf, 0.0) == 0.0
    assert admit(FRESH, 2.5, 1.0) == pytest.approx(1.5)
    assert admit(LaneState(hold_until=4.0), 2.5, 1.0) == pytest.approx(3.0)
    assert admit(FRESH, -math.inf, 0.0, busy=True) == math.inf


def test_a_restarted_lane_waits_for_the_last_call_of_the_dead_process() -> None:
    answered = restored(FRESH, POLICY, F, sent_ago=0.4, now=100.0, in_flight=False)
    assert answered.next_start == pytest.approx(100.7)  # 99.6 + 1 s + 0.1 s
    in_flight = restored(FRESH, POLICY, F, sent_ago=0.4, now=100.0, in_flight=True)
    assert in_flight.lane.hold_until == pytest.approx(114.6)  # 99.6 + 15 s
    assert in_flight.next_start == pytest.approx(114.6)
    long_ago = restored(FRESH, POLICY, F, sent_ago=3600.0, now=100.0, in_flight=True)
    assert admit(long_ago.lane, long_ago.next_start, 100.0) == 0.0


events = st.lists(
    st.tuples(
        st.sampled_from(list(Outcome)),
        st.floats(min_value=0.0, max_value=20.0),  # latency
        st.floats(min_value=0.0, max_value=5.0),  # idle time before the next call
        st.one_of(st.none(), st.floats(min_value=0.0, max_value=120.0)),  # Retry-After
        st.sampled_from([Bucket.FACTURA, Bucket.ARTICOL, Bucket.CLIENT]),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(events, st.booleans())
def test_no_two_calls_of_a_bucket_reach_the_vendor_closer_than_its_interval(
    plan: list[tuple[Outcome, float, float, float | None, Bucket]], strict: bool
) -> None:
    """Drive a lane with admit and settle as a ledger does: whatever the outcomes, two calls of
    one bucket that reached the vendor are at least the (widened) interval apart, counting
    from the later of their sends; a throttled bucket waits its Retry-After; after a lost reply
    nothing starts within the hold."""
    policy = RatePolicy(strict=strict)
    lane = FRESH
    next_start: dict[Bucket, float] = {}
    last_sent: dict[Bucket, float] = {}
    hold_until = -math.inf
    now = 0.0
    for outcome, latency, idle, retry_after, bucket in plan:
        now += idle
        if admit(lane, next_start.get(bucket, -math.inf), now) > 0:
            now = earliest_start(lane, next_start.get(bucket, -math.inf))
        assert admit(lane, next_start.get(bucket, -math.inf), now) == 0.0
        assert now >= hold_until - 1e-9
        if outcome is not Outcome.UNSENT and bucket in last_sent:
            interval = policy.intervals[bucket]
            assert now - last_sent[bucket] >= interval - 1e-9
        sent = now
        now += latency
        settled = settle(
            lane,
            next_start.get(bucket, -math.inf),
            policy,
            bucket,
            now=now,
            outcome=outcome,
            sent_at=sent,
            retry_after=retry_after,
        )
        assert settled.lane.widening >= 1.0
        if outcome is Outcome.THROTTLED and retry_after is not None:
            assert settled.next_start >= now + retry_after - 1e-9
        if outcome is Outcome.LOST:
            hold_until = now + policy.lost_reply_hold
            assert settled.next_start >= hold_until
        if outcome is not Outcome.UNSENT:
            last_sent[bucket] = sent
        lane = settled.lane
        next_start[bucket] = settled.next_start
