"""Scheduling: when each call is sent, and whether a failed call is tried again."""

from .call import Call
from .events import EventHook, EventKind, SchedulerEvent, SchedulerStats
from .policy import DEFAULT_INTERVALS, RatePolicy, RetryBudget
from .retry import RetryDecision, RetryPolicy, decide_retry, final_error
from .scheduler import Scheduler

__all__ = [
    "DEFAULT_INTERVALS",
    "Call",
    "EventHook",
    "EventKind",
    "RatePolicy",
    "RetryBudget",
    "RetryDecision",
    "RetryPolicy",
    "Scheduler",
    "SchedulerEvent",
    "SchedulerStats",
    "decide_retry",
    "final_error",
]
