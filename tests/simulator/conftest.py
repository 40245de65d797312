"""Fixtures for the simulator's tests: signed raw calls to the simulator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import pytest

from fgo_async.simulator import FgoSimulator
from tests.simulator.sim_helpers import send

RawCall = Callable[..., Awaitable[tuple[int, dict[str, str], Any]]]


@pytest.fixture
def call(fgo_simulator: FgoSimulator) -> RawCall:
    """Send one signed call to the simulator in-process; returns (status, headers, JSON).

    Takes what :func:`tests.simulator.sim_helpers.send` takes after the simulator.
    """
    return partial(send, fgo_simulator)
