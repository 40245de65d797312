"""Scheduling: when each call is sent, and whether a failed call is tried again.

The vendor's discipline is pure (:mod:`.discipline`); a ledger holds each company's lane
(:mod:`.ledger`); the scheduler queues the calls of this process in front of it
(:mod:`.scheduler`).
"""

from .call import Call, CallScheduler
from .discipline import LaneState, Outcome
from .events import EventHook, EventKind, SchedulerEvent, SchedulerStats
from .ledger import InMemoryLedger, LaneLedger, Lease, Settlement, SyncLaneLedger
from .policy import DEFAULT_INTERVALS, RatePolicy, RetryBudget
from .retry import RetryDecision, RetryPolicy, decide_retry, final_error
from .scheduler import Scheduler
from .shared import default_scheduler

__all__ = [
    "DEFAULT_INTERVALS",
    "Call",
    "CallScheduler",
    "EventHook",
    "EventKind",
    "InMemoryLedger",
    "LaneLedger",
    "LaneState",
    "Lease",
    "Outcome",
    "RatePolicy",
    "RetryBudget",
    "RetryDecision",
    "RetryPolicy",
    "Scheduler",
    "SchedulerEvent",
    "SchedulerStats",
    "Settlement",
    "SyncLaneLedger",
    "decide_retry",
    "default_scheduler",
    "final_error",
]
