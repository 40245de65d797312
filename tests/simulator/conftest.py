"""Fixtures for the simulator's tests: signed raw calls to the simulator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from fgo_async.codec import dumps_json, encode_form, loads_json
from fgo_async.simulator import FgoSimulator
from fgo_async.testing import TEST_COMPANY, TEST_PRIVATE_KEY
from tests.simulator.sim_helpers import sign

RawCall = Callable[..., Awaitable[tuple[int, dict[str, str], Any]]]


@pytest.fixture
def call(fgo_simulator: FgoSimulator) -> RawCall:
    """Send one signed call to the simulator in-process; returns (status, headers, JSON)."""

    async def send(
        method: str,
        payload: dict[str, Any] | None = None,
        *,
        company: str = TEST_COMPANY,
        key: str = TEST_PRIVATE_KEY,
        form: bool = False,
        signed: dict[str, Any] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        body_data = signed or sign(method, payload or {}, company=company, key=key)
        if form:
            body = encode_form(body_data).encode()
            content_type = "application/x-www-form-urlencoded"
        else:
            body = dumps_json(body_data).encode()
            content_type = "application/json"
        reply = await fgo_simulator.handle(
            "POST", f"/v1/{method}", {}, {"Content-Type": content_type}, body
        )
        data = loads_json(reply.body) if reply.body.startswith(b"{") else reply.body
        return reply.status, dict(reply.headers), data

    return send
