"""The scheduler every call of a client goes through, between the protocol and the transport.

This first version sends the calls of one company one after another and retries what is safe
to retry; lanes with rate buckets come with the scheduler issue.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from ..errors import FgoError
from .call import Call
from .retry import RetryPolicy, decide_retry, final_error

__all__ = ["Scheduler"]


class Scheduler:
    """Runs calls one at a time per company, retrying what ``SPEC.md`` says is safe."""

    def __init__(self, *, retry_policy: RetryPolicy | None = None, seed: int | None = None):
        self.retry_policy = retry_policy or RetryPolicy()
        self._locks: dict[str | None, asyncio.Lock] = {}
        self._rng = random.Random(seed)

    async def submit(self, call: Call) -> Any:
        """Run ``call`` to its result, or raise its final error."""
        policy = call.retry_policy or self.retry_policy
        history: list[FgoError] = []
        attempt = 0
        while True:
            attempt += 1
            lock = self._locks.setdefault(call.company, asyncio.Lock())
            try:
                async with lock:
                    return await call.attempt()
            except FgoError as error:
                decision = decide_retry(
                    call.endpoint.retry_class,
                    error,
                    attempt,
                    can_deduplicate=call.can_deduplicate,
                    policy=policy,
                    rng=self._rng,
                )
                if not decision.retry:
                    raise final_error(
                        call.endpoint.retry_class, error, history, call.identity
                    ) from error
                history.append(error)
                await asyncio.sleep(decision.delay)

    async def aclose(self) -> None:
        """Nothing to release in this version."""
