"""Scheduling: when each call is sent, and whether a failed call is tried again."""

from .call import Call
from .retry import RetryDecision, RetryPolicy, decide_retry, final_error
from .scheduler import Scheduler

__all__ = ["Call", "RetryDecision", "RetryPolicy", "Scheduler", "decide_retry", "final_error"]
