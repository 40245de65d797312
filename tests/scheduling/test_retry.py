"""The retry decision as a table (pure), and retries through the scheduler on virtual time."""

from __future__ import annotations

import asyncio
import random

import pytest

from fgo_async.endpoints import ENDPOINTS, RetryClass
from fgo_async.errors import (
    CallIdentity,
    FgoApiError,
    FgoConnectError,
    FgoConnectionLostError,
    FgoDecodeError,
    FgoDuplicateError,
    FgoError,
    FgoIssueTimeoutError,
    FgoOutcomeUnknownError,
    FgoRateLimitedError,
    FgoServerError,
    FgoTimeoutError,
    FgoValidationError,
)
from fgo_async.scheduling import RetryBudget, RetryPolicy, Scheduler, decide_retry, final_error
from fgo_async.virtual_time import run
from tests.scheduling.helpers import Recorder

ISSUE_TIMEOUT = FgoIssueTimeoutError(
    "Timpul maxim pentru emiterea unei facturi a expirat. Factura nu a fost emisa si este "
    "necesar sa reincercati. [3]",
    code=3,
)
THROTTLED = FgoRateLimitedError("Prea multe apeluri", retry_after=None)
THROTTLED_WAIT = FgoRateLimitedError("Prea multe apeluri", retry_after=7.0)
THROTTLED_LONG = FgoRateLimitedError("Prea multe apeluri", retry_after=3600.0)
REFUSED = FgoApiError("Codul unic al clientului nu este valid")
DUPLICATE = FgoDuplicateError("Factura a fost deja emisa: seria BV numarul 001")
NOT_SENT = FgoConnectError("could not connect")
TIMED_OUT = FgoTimeoutError("no reply within 30 s")
DROPPED = FgoConnectionLostError("the connection failed after sending")
BAD_GATEWAY = FgoServerError("HTTP 502", status=502)
GARBLED = FgoDecodeError("a reply that is not the vendor's JSON")
INVALID = FgoValidationError([])

R, C, N, P = (
    RetryClass.READ_ONLY,
    RetryClass.CREATE,
    RetryClass.NOT_REPEATABLE,
    RetryClass.REPEATABLE,
)

# (retry class, can deduplicate, error, retried?) — SPEC.md, "Which failures are safe to retry".
TABLE = [
    # The vendor's 15 s message: nothing was issued.
    (C, False, ISSUE_TIMEOUT, True),
    (C, True, ISSUE_TIMEOUT, True),
    # Nothing was sent.
    *[(kind, False, NOT_SENT, True) for kind in (R, C, N, P)],
    # Throttled: retried after waiting.
    *[(kind, False, THROTTLED, True) for kind in (R, C, N, P)],
    # Read-only methods after any transport error, 5xx or garbled reply.
    *[(R, False, error, True) for error in (TIMED_OUT, DROPPED, BAD_GATEWAY, GARBLED)],
    # Issuing after a lost reply: only when the vendor deduplicates.
    *[(C, True, error, True) for error in (TIMED_OUT, DROPPED, BAD_GATEWAY, GARBLED)],
    *[(C, False, error, False) for error in (TIMED_OUT, DROPPED, BAD_GATEWAY, GARBLED)],
    # Payments and reversals: never after a lost reply, deduplicable or not.
    *[
        (N, dedup, error, False)
        for error in (TIMED_OUT, DROPPED, BAD_GATEWAY, GARBLED)
        for dedup in (False, True)
    ],
    # Delete, cancel, delete payment, AWB: a repeat fails or changes nothing.
    *[(P, False, error, True) for error in (TIMED_OUT, DROPPED, BAD_GATEWAY, GARBLED)],
    # 409 on issue: a duplicate, the first one stands.
    (C, True, DUPLICATE, False),
    (C, False, DUPLICATE, False),
    # A plain refusal is final for everyone.
    *[(kind, True, REFUSED, False) for kind in (R, C, N, P)],
    # Local errors never reach the retry logic as retryable.
    (R, False, INVALID, False),
]


@pytest.mark.parametrize(("retry_class", "dedup", "error", "retried"), TABLE)
def test_retry_table(retry_class: RetryClass, dedup: bool, error: FgoError, retried: bool) -> None:
    decision = decide_retry(retry_class, error, 1, can_deduplicate=dedup)
    assert decision.retry is retried, decision.reason


def test_every_endpoint_has_the_retry_class_of_the_spec() -> None:
    expected = {
        "factura/emitere": C,
        "factura/incasare": N,
        "factura/stornare": N,
        "factura/stergere": P,
        "factura/anulare": P,
        "factura/stergereincasare": P,
        "factura/awb": P,
    }
    for name, endpoint in ENDPOINTS.items():
        assert endpoint.retry_class is expected.get(name, R), name


def test_attempts_are_bounded() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert decide_retry(R, NOT_SENT, 2, policy=policy).retry
    exhausted = decide_retry(R, NOT_SENT, 3, policy=policy)
    assert not exhausted.retry
    assert "exhausted" in exhausted.reason


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_max=8.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = [policy.backoff(attempt, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 4  # jitter spreads them


def test_retry_after_is_honoured_and_past_the_cap_the_call_gives_up() -> None:
    policy = RetryPolicy(retry_after_cap=60.0)
    assert decide_retry(R, THROTTLED_WAIT, 1, policy=policy).delay == 7.0
    past_cap = decide_retry(R, THROTTLED_LONG, 1, policy=policy)
    assert not past_cap.retry
    assert "3600" in past_cap.reason


@pytest.mark.parametrize(
    ("retry_class", "error", "history", "expected"),
    [
        (C, TIMED_OUT, [], FgoOutcomeUnknownError),
        (N, DROPPED, [], FgoOutcomeUnknownError),
        (C, ISSUE_TIMEOUT, [DROPPED], FgoOutcomeUnknownError),  # the first try may have issued
        (C, DUPLICATE, [DROPPED], FgoDuplicateError),  # proves the first one stands
        (C, ISSUE_TIMEOUT, [ISSUE_TIMEOUT], FgoIssueTimeoutError),  # nothing was ever issued
        (R, TIMED_OUT, [TIMED_OUT], FgoTimeoutError),
        (P, DROPPED, [], FgoConnectionLostError),
        (C, REFUSED, [], FgoApiError),
    ],
)
def test_final_error(
    retry_class: RetryClass, error: FgoError, history: list[FgoError], expected: type
) -> None:
    identity = CallIdentity(method="factura/emitere", series="BV", external_id="1042")
    final = final_error(retry_class, error, history, identity)
    assert type(final) is expected
    assert final.retry_history == tuple(history)
    if isinstance(final, FgoOutcomeUnknownError):
        assert final.cause is error
        assert final.identity == identity
        assert not final.outcome_known


def run_call(
    outcomes: list[object],
    endpoint: str,
    *,
    dedup: bool = False,
    scheduler: Scheduler | None = None,
) -> tuple[object, Recorder]:
    recorder = Recorder()

    async def main() -> object:
        sched = scheduler or Scheduler(seed=1)
        call = recorder.call("x", endpoint=endpoint, outcomes=outcomes, can_deduplicate=dedup)
        try:
            return await sched.submit(call)
        except FgoError as error:
            return error

    return run(main()), recorder


def test_the_issue_timeout_message_is_retried_through_the_bucket() -> None:
    result, recorder = run_call([ISSUE_TIMEOUT, "issued"], "factura/emitere")
    assert result == "issued"
    gap = recorder.starts()[1] - recorder.starts()[0]
    assert gap >= 1.0  # the retry waited for the factura bucket like any call (instant reply)


def test_a_429_waits_retry_after_then_succeeds() -> None:
    result, recorder = run_call([THROTTLED_WAIT, "ok"], "factura/print")
    assert result == "ok"
    assert recorder.starts()[1] - recorder.starts()[0] == pytest.approx(7.0)


def test_an_issue_with_a_lost_reply_and_no_dedup_key_is_not_repeated() -> None:
    result, recorder = run_call([DROPPED, "issued"], "factura/emitere")
    assert isinstance(result, FgoOutcomeUnknownError)
    assert result.cause is DROPPED
    assert len(recorder.attempts) == 1


def test_an_issue_with_a_lost_reply_and_a_dedup_key_is_repeated() -> None:
    result, recorder = run_call([DROPPED, "issued"], "factura/emitere", dedup=True)
    assert result == "issued"
    assert len(recorder.attempts) == 2


def test_a_repeated_issue_refused_as_duplicate_reports_the_first_one() -> None:
    result, _ = run_call([DROPPED, DUPLICATE], "factura/emitere", dedup=True)
    assert isinstance(result, FgoDuplicateError)
    assert result.retry_history == (DROPPED,)


@pytest.mark.parametrize("endpoint", ["factura/incasare", "factura/stornare"])
def test_payments_and_reversals_are_never_repeated_after_a_lost_reply(endpoint: str) -> None:
    result, recorder = run_call([TIMED_OUT, "ok"], endpoint)
    assert isinstance(result, FgoOutcomeUnknownError)
    assert len(recorder.attempts) == 1


def test_a_repeatable_call_reports_what_the_repeat_said() -> None:
    already = FgoApiError("Factura a fost deja stearsa")
    result, recorder = run_call([DROPPED, already], "factura/stergere")
    assert result is already
    assert already.retry_history == (DROPPED,)
    assert len(recorder.attempts) == 2


def test_read_only_calls_give_up_after_max_attempts_with_the_last_error() -> None:
    roomy = Scheduler(retry_budget=RetryBudget(capacity=100.0), seed=1)
    result, recorder = run_call([BAD_GATEWAY], "factura/getstatus", scheduler=roomy)
    assert isinstance(result, FgoServerError)
    assert len(recorder.attempts) == 4
    assert len(result.retry_history) == 3


def test_lost_replies_cost_more_of_the_budget_than_other_retries() -> None:
    # 20 tokens: a lost reply costs 10, so only two retries after 5xx pages.
    result, recorder = run_call([BAD_GATEWAY], "factura/getstatus")
    assert isinstance(result, FgoServerError)
    assert len(recorder.attempts) == 3


def test_the_retry_budget_stops_hammering_a_dead_server() -> None:
    recorder = Recorder()
    budget = RetryBudget(capacity=20.0, retry_cost=5.0, refund=1.0)

    async def main() -> list[int]:
        scheduler = Scheduler(retry_budget=budget, seed=3)
        attempts = []
        for i in range(4):
            before = len(recorder.attempts)
            with pytest.raises(FgoConnectError):
                await scheduler.submit(recorder.call(f"c{i}", outcomes=[NOT_SENT]))
            attempts.append(len(recorder.attempts) - before)
        return attempts

    # 20 tokens pay for four retries: the first call gets 3 (4 attempts), the next 1, then none.
    assert run(main()) == [4, 2, 1, 1]


def test_successes_refill_the_budget() -> None:
    recorder = Recorder()
    budget = RetryBudget(capacity=10.0, retry_cost=5.0, refund=5.0)

    async def main() -> int:
        scheduler = Scheduler(retry_budget=budget, seed=3)
        with pytest.raises(FgoConnectError):
            await scheduler.submit(recorder.call("dead", outcomes=[NOT_SENT]))
        await scheduler.submit(recorder.call("ok1"))
        await scheduler.submit(recorder.call("ok2"))
        before = len(recorder.attempts)
        result = await scheduler.submit(recorder.call("flaky", outcomes=[NOT_SENT, "ok"]))
        assert result == "ok"
        return len(recorder.attempts) - before

    assert run(main()) == 2


def test_a_client_retry_policy_overrides_the_scheduler_one() -> None:
    recorder = Recorder()

    async def main() -> None:
        scheduler = Scheduler(retry_policy=RetryPolicy(max_attempts=5))
        call = recorder.call("once", outcomes=[NOT_SENT], retry_policy=RetryPolicy(max_attempts=1))
        with pytest.raises(FgoConnectError):
            await scheduler.submit(call)

    run(main())
    assert len(recorder.attempts) == 1


def test_close_without_drain_does_not_start_retries() -> None:
    recorder = Recorder()

    async def main() -> None:
        scheduler = Scheduler(drain_on_close=False)
        task = asyncio.ensure_future(
            scheduler.submit(recorder.call("x", outcomes=[NOT_SENT, "ok"], latency=1.0))
        )
        await asyncio.sleep(0.5)
        await scheduler.aclose()
        with pytest.raises(FgoConnectError):
            await task

    run(main())
    assert len(recorder.attempts) == 1


def test_closing_during_a_retry_backoff_ends_the_call_with_what_its_attempts_said() -> None:
    recorder = Recorder()

    async def main() -> None:
        scheduler = Scheduler(drain_on_close=True, seed=1)
        issue = asyncio.ensure_future(
            scheduler.submit(
                recorder.call(
                    "x",
                    endpoint="factura/emitere",
                    outcomes=[DROPPED, "issued"],
                    can_deduplicate=True,
                )
            )
        )
        read = asyncio.ensure_future(
            scheduler.submit(recorder.call("y", endpoint="articol/get", outcomes=[BAD_GATEWAY]))
        )
        await asyncio.sleep(0.1)  # both failed once and wait out their backoff
        await scheduler.aclose(drain=False)
        issued_error = await asyncio.gather(issue, return_exceptions=True)
        read_error = await asyncio.gather(read, return_exceptions=True)
        # The invoice may exist (its reply was lost): not "closed before it started".
        assert isinstance(issued_error[0], FgoOutcomeUnknownError)
        assert issued_error[0].cause is DROPPED
        # The read gets the error its attempt ended with.
        assert isinstance(read_error[0], FgoServerError)

    run(main())
    assert len(recorder.attempts) == 2
