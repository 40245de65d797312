"""pytest helpers for applications that use fgo_async: a local FGO per test, and virtual time.

Enable them in a ``conftest.py`` with ``pytest_plugins = ["fgo_async.testing"]`` (pytest and
pytest-asyncio are needed; the rest of fgo_async never imports this module). Fixtures:

- ``fgo_simulator``: a :class:`~fgo_async.simulator.FgoSimulator` serving on 127.0.0.1 for one
  test, with the company :data:`TEST_COMPANY` (key :data:`TEST_PRIVATE_KEY`). Override the
  ``fgo_simulator_options`` fixture to pass other constructor arguments.
- ``fgo_client``: an :class:`~fgo_async.FgoClient` of that company, reaching the simulator
  in-process (``fgo_simulator.client(http=True)`` goes over HTTP instead).
- ``virtual_clock``: the test's event loop on virtual time (:class:`VirtualClock`): sleeps and
  timeouts take no real time, so rate limits of 30 minutes are tested in milliseconds.

::

    async def test_checkout_issues_one_invoice(fgo_simulator, fgo_client, virtual_clock):
        await checkout(order, fgo_client)
        assert len(fgo_simulator.calls_to("factura/emitere")) == 1
        assert not fgo_simulator.violations()
"""

from __future__ import annotations

import asyncio
import contextlib
import selectors
from collections.abc import AsyncIterator, Iterator
from typing import Any
from unittest import mock

import pytest
import pytest_asyncio

from .client import FgoClient
from .simulator import FgoSimulator

__all__ = [
    "TEST_COMPANY",
    "TEST_PRIVATE_KEY",
    "VirtualClock",
    "fgo_client",
    "fgo_simulator",
    "fgo_simulator_options",
    "virtual_clock",
]

#: The company the ``fgo_simulator`` fixture knows by default.
TEST_COMPANY = "12345678"
#: Its API private key (a test value: the simulator is local).
TEST_PRIVATE_KEY = "test-private-key"


class VirtualClock:
    """Virtual time for an asyncio event loop (a selector loop, the default on Unix).

    Once :meth:`patch_loop` is entered, the loop's ``time()`` reads this clock, and whenever the
    loop would block waiting for its next timer, the clock jumps to that timer instead: a
    ``sleep(1800)`` returns at once, yet the loop's clock says 30 minutes went by, and every
    timer fires in the order real time would fire it. Real I/O still works (it is polled
    without waiting), but a test on virtual time should not wait on real sockets.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = start

    def time(self) -> float:
        """The virtual time, in seconds."""
        if self._now is None:
            raise RuntimeError("the clock is not attached to a loop yet")
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` at once (timers due by then fire next)."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self._now = self.time() + seconds

    @contextlib.contextmanager
    def patch_loop(self, loop: asyncio.AbstractEventLoop | None = None) -> Iterator[VirtualClock]:
        """Put ``loop`` (the running loop by default) on this clock for the ``with`` block."""
        loop = loop or asyncio.get_running_loop()
        selector: selectors.BaseSelector | None = getattr(loop, "_selector", None)
        if selector is None:
            raise RuntimeError(f"{type(loop).__name__} has no selector to put on virtual time")
        if self._now is None:
            self._now = loop.time()
        real_select = selector.select

        def select(timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
            if timeout is None:
                # No timer at all: only real I/O can wake the loop.
                return real_select(None)
            if timeout > 0:
                self._now = self.time() + timeout
            return real_select(0)

        with (
            mock.patch.object(loop, "time", self.time),
            mock.patch.object(selector, "select", select),
        ):
            yield self


@pytest_asyncio.fixture
async def virtual_clock() -> AsyncIterator[VirtualClock]:
    """The test's loop on virtual time for the whole test."""
    clock = VirtualClock()
    with clock.patch_loop():
        yield clock


@pytest.fixture
def fgo_simulator_options() -> dict[str, Any]:
    """Keyword arguments for the ``fgo_simulator`` fixture's FgoSimulator; override it."""
    return {}


@pytest_asyncio.fixture
async def fgo_simulator(fgo_simulator_options: dict[str, Any]) -> AsyncIterator[FgoSimulator]:
    """A simulator serving on 127.0.0.1 (a free port) for one test."""
    options = {"companies": {TEST_COMPANY: TEST_PRIVATE_KEY}, **fgo_simulator_options}
    async with FgoSimulator(**options) as simulator:
        yield simulator


@pytest_asyncio.fixture
async def fgo_client(fgo_simulator: FgoSimulator) -> AsyncIterator[FgoClient]:
    """A client of the simulator's first company, in-process (works on virtual time)."""
    async with fgo_simulator.client() as client:
        yield client
