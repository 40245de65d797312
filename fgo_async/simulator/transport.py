"""The in-process transport: an :class:`~fgo_async.FgoClient` talks to a simulator with no socket.

:class:`SimulatorTransport` follows :class:`fgo_async.transport.Transport`. Each call runs as the
simulator's own task, as on a real server: when the client gives up waiting
(:class:`~fgo_async.errors.FgoTimeoutError`) the simulator still finishes the call, so a slow
invoice is issued all the same. Dropped connections become the transport errors a real one
raises: :class:`~fgo_async.errors.FgoConnectError` before processing (nothing was sent, as far
as the vendor knows) and :class:`~fgo_async.errors.FgoConnectionLostError` after.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from ..errors import FgoClosedError, FgoConnectError, FgoConnectionLostError, FgoTimeoutError
from ..protocol import Request
from ..transport import DEFAULT_TIMEOUT, RawResponse
from .core import SimulatedDisconnect

if TYPE_CHECKING:
    from .core import FgoSimulator

__all__ = ["SimulatorTransport"]


class SimulatorTransport:
    """Sends requests straight to ``simulator.handle``; works on virtual time."""

    def __init__(self, simulator: FgoSimulator) -> None:
        self.simulator = simulator
        self.closed = False

    async def send(self, request: Request, *, timeout: float = DEFAULT_TIMEOUT) -> RawResponse:
        """Hand ``request`` to the simulator and wait for its reply, at most ``timeout`` s."""
        if self.closed:
            raise FgoClosedError("the transport is closed", identity=request.identity)
        url = urlsplit(request.url)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        task = asyncio.ensure_future(
            self.simulator.handle(request.method, url.path, query, request.headers, request.body)
        )
        self.simulator.track(task)
        task.add_done_callback(_consume_error)
        try:
            return await asyncio.wait_for(asyncio.shield(task), timeout)
        except asyncio.TimeoutError:
            raise FgoTimeoutError(
                f"no reply within {timeout:g} s; the vendor may have processed the call",
                identity=request.identity,
            ) from None
        except SimulatedDisconnect as drop:
            if drop.processed:
                raise FgoConnectionLostError(
                    "the connection failed after sending: the server closed it",
                    identity=request.identity,
                ) from None
            raise FgoConnectError(
                "could not connect: the server closed the connection", identity=request.identity
            ) from None

    async def aclose(self) -> None:
        """Mark the transport closed; calls still running finish on the simulator's side."""
        self.closed = True


def _consume_error(task: asyncio.Task[RawResponse]) -> None:
    # A call the client stopped waiting for may still fail later; nobody else will look.
    if not task.cancelled():
        task.exception()
