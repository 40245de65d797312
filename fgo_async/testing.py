"""pytest helpers for applications that use fgo_async: a local FGO per test, and virtual time.

Enable them in a ``conftest.py`` with ``pytest_plugins = ["fgo_async.testing"]`` (pytest and
pytest-asyncio are needed; the rest of fgo_async never imports this module). Fixtures:

- ``fgo_simulator``: a :class:`~fgo_async.simulator.FgoSimulator` serving on 127.0.0.1 for one
  test, with the company :data:`TEST_COMPANY` (key :data:`TEST_PRIVATE_KEY`). Override the
  ``fgo_simulator_options`` fixture to pass other constructor arguments.
- ``fgo_client``: an :class:`~fgo_async.FgoClient` of that company, reaching the simulator
  in-process (``fgo_simulator.client(http=True)`` goes over HTTP instead).
- ``virtual_clock``: the test's event loop on virtual time
  (:class:`~fgo_async.virtual_time.VirtualClock`): sleeps and timeouts take no real time, so
  rate limits of 30 minutes are tested in milliseconds.

::

    async def test_checkout_issues_one_invoice(fgo_simulator, fgo_client, virtual_clock):
        await checkout(order, fgo_client)
        assert len(fgo_simulator.calls_to("factura/emitere")) == 1
        assert not fgo_simulator.violations()
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from .client import FgoClient
from .simulator import FgoSimulator
from .virtual_time import VirtualClock

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
