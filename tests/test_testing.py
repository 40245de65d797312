"""The pytest plugin fgo_async ships: fixtures, virtual time, and no pytest at run time."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest

from fgo_async.client import FgoClient
from fgo_async.simulator import FgoSimulator
from fgo_async.testing import TEST_COMPANY, VirtualClock


async def test_the_simulator_fixture_serves_on_loopback(fgo_simulator: FgoSimulator) -> None:
    assert fgo_simulator.base_url.startswith("http://127.0.0.1:")
    assert list(fgo_simulator.companies) == [TEST_COMPANY]


async def test_the_client_fixture_reaches_it_in_process(
    fgo_simulator: FgoSimulator, fgo_client: FgoClient
) -> None:
    warehouses = await fgo_client.warehouses()
    assert len(warehouses) == 1
    assert fgo_simulator.calls[0].method == "articol/gestiune"


async def test_virtual_time_jumps_to_the_next_timer(virtual_clock: VirtualClock) -> None:
    loop = asyncio.get_running_loop()
    started, real_start = loop.time(), time.monotonic()
    fired: list[float] = []

    async def at(delay: float) -> None:
        await asyncio.sleep(delay)
        fired.append(loop.time() - started)

    await asyncio.gather(at(1800), at(5), at(0.5))
    assert fired == pytest.approx([0.5, 5, 1800])
    assert time.monotonic() - real_start < 1.0
    virtual_clock.advance(60)
    assert loop.time() - started == pytest.approx(1860)


async def test_timeouts_expire_on_virtual_time(virtual_clock: VirtualClock) -> None:
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    start = virtual_clock.time()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(never, 30)
    assert virtual_clock.time() - start == pytest.approx(30)


def test_the_package_imports_without_pytest() -> None:
    code = (
        "import sys; sys.modules['pytest'] = None; sys.modules['pytest_asyncio'] = None\n"
        "import fgo_async, fgo_async.simulator, fgo_async.simulator.cli\n"
        "assert 'pytest' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
