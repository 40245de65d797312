"""Calls with scripted outcomes and a recorder of what ran when, for scheduler tests."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from fgo_async.endpoints import ENDPOINTS
from fgo_async.errors import CallIdentity
from fgo_async.scheduling import Call, RetryPolicy

#: An endpoint of each bucket, to make calls of that bucket.
BUCKET_ENDPOINT = {
    "factura": "factura/print",
    "articol": "articol/get",
    "articol-list": "articol/list",
    "articol-modificate": "articol/articolemodificate",
    "client": "client/list",
    "nomenclator": "nomenclator/judet",
}


@attrs.define
class Started:
    """One attempt that ran: which call, of which company, when it started and ended."""

    name: str
    company: str | None
    start: float
    end: float = -1.0


@attrs.define
class Recorder:
    """Records every attempt and checks that no company ever has two calls in flight."""

    attempts: list[Started] = attrs.field(factory=list)
    in_flight: dict[str | None, int] = attrs.field(factory=lambda: defaultdict(int))
    max_in_flight: int = 0

    def starts(self, name: str | None = None) -> list[float]:
        """Start times of the attempts (of the call called ``name``), in order."""
        return [a.start for a in self.attempts if name is None or a.name == name]

    def order(self) -> list[str]:
        """The names of the attempts in the order they started."""
        return [a.name for a in self.attempts]

    def call(
        self,
        name: str,
        *,
        company: str | None = "12345678",
        endpoint: str = "factura/print",
        latency: float = 0.0,
        outcomes: Iterable[Any] = ("ok",),
        interactive: bool = False,
        deadline: float | None = None,
        can_deduplicate: bool = False,
        retry_policy: RetryPolicy | None = None,
    ) -> Call:
        """A call whose attempts take ``latency`` seconds and end with ``outcomes`` in turn
        (an exception instance is raised; anything else returned; the last one repeats)."""
        script = list(outcomes)
        recorder = self

        async def attempt() -> Any:
            loop = asyncio.get_running_loop()
            record = Started(name=name, company=company, start=loop.time())
            recorder.attempts.append(record)
            recorder.in_flight[company] += 1
            recorder.max_in_flight = max(recorder.max_in_flight, recorder.in_flight[company])
            try:
                await asyncio.sleep(latency)
            finally:
                recorder.in_flight[company] -= 1
                record.end = loop.time()
            outcome = script.pop(0) if len(script) > 1 else script[0]
            if isinstance(outcome, BaseException):
                raise outcome
            if callable(outcome):
                return outcome()
            return outcome

        endpoint_obj = ENDPOINTS[endpoint]
        return Call(
            endpoint=endpoint_obj,
            company=company,
            attempt=attempt,
            identity=CallIdentity(method=endpoint_obj.name, company=company, number=name),
            interactive=interactive,
            deadline=deadline,
            can_deduplicate=can_deduplicate,
            retry_policy=retry_policy,
        )


def spawn(coro: Any) -> asyncio.Task[Any]:
    """Start ``coro`` as a task (and let the test keep a reference)."""
    return asyncio.ensure_future(coro)


async def settle() -> None:
    """Let every ready task run until it waits for time to pass."""
    for _ in range(20):
        await asyncio.sleep(0)


def gaps(times: list[float]) -> list[float]:
    """The differences between consecutive times, rounded to the microsecond."""
    return [round(b - a, 6) for a, b in itertools.pairwise(times)]


Outcome = Callable[[], Any]
