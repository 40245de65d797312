"""The transport seam: how a :class:`~fgo_async.protocol.Request` becomes a raw HTTP reply.

:class:`Transport` is the protocol every transport follows (as in httpx). :class:`AiohttpTransport`
sends over aiohttp, with the application's own ``ClientSession`` when given (never closing it)
or one of its own; :class:`MockTransport` answers from a handler, for tests. A transport maps
failures of the exchange onto the :class:`~fgo_async.errors.FgoTransportError` family, telling
apart a request that was never sent (:class:`FgoConnectError`) from one that may have been
processed (:class:`FgoTimeoutError`, :class:`FgoConnectionLostError`).
"""

from __future__ import annotations

import asyncio
import inspect
import ipaddress
from collections.abc import Awaitable, Callable, Mapping
from types import SimpleNamespace
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

import aiohttp
import attrs

from .errors import (
    FgoClosedError,
    FgoConfigurationError,
    FgoConnectError,
    FgoConnectionLostError,
    FgoTimeoutError,
    FgoTransportError,
)
from .protocol import Request

__all__ = [
    "DEFAULT_TIMEOUT",
    "AiohttpTransport",
    "MockTransport",
    "RawResponse",
    "Transport",
    "check_base_url",
    "is_loopback",
    "send_time_trace",
]

#: The client's own timeout for one call, in seconds: longer than the vendor's 15 s budget for
#: issuing an invoice, so that the vendor's clear answer arrives rather than a client-side
#: abort whose outcome nobody knows.
DEFAULT_TIMEOUT = 30.0


@attrs.frozen(kw_only=True)
class RawResponse:
    """An HTTP reply as received: status, headers and body bytes.

    ``sent_at`` is the time, on the event loop's clock, at which the request left (its last
    byte handed to the socket), when the transport knows it: the scheduler counts the vendor's
    spacing from that moment, so that a slow connection set-up, or a busy event loop that
    writes the body late, cannot bring the next call too close to it.
    """

    status: int
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes = b""
    sent_at: float | None = None


@runtime_checkable
class Transport(Protocol):
    """Sends one request and returns the raw reply; raises FgoTransportError when it cannot."""

    async def send(self, request: Request, *, timeout: float) -> RawResponse:
        """Send ``request`` and return the reply, within ``timeout`` seconds."""
        ...

    async def aclose(self) -> None:
        """Release what the transport owns."""
        ...


class _SendStamp:
    """Filled by the trace of :func:`send_time_trace` with the time a request went out."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at: float | None = None


async def _stamp(
    session: aiohttp.ClientSession,
    context: SimpleNamespace,
    params: aiohttp.TraceRequestHeadersSentParams | aiohttp.TraceRequestChunkSentParams,
) -> None:
    # aiohttp announces the headers before writing anything, and writes a POST body later from
    # a task of its own (late, when the loop is busy); each body chunk is announced right
    # before it is written. The last announcement is when the request really left.
    stamp = context.trace_request_ctx
    if isinstance(stamp, _SendStamp):
        stamp.at = asyncio.get_running_loop().time()


def send_time_trace() -> aiohttp.TraceConfig:
    """An aiohttp trace that tells fgo_async when each request actually left: when its body
    was written (when its headers were, for a request without a body).

    A transport's own session has it. An application that gives its own ``ClientSession``
    should create it with ``trace_configs=[send_time_trace()]``: without it, the vendor's spacing
    is counted from when a call was started, and a slow connection set-up (a TLS handshake)
    or a body written late by a busy loop eats into the margin before the next call.
    """
    config = aiohttp.TraceConfig()
    config.on_request_headers_sent.append(_stamp)
    config.on_request_chunk_sent.append(_stamp)
    return config


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and the loopback addresses (``127.0.0.1``, ``::1``...)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str, *, allow_insecure_http: bool = False) -> str:
    """``base_url`` if it is usable: https, or plain http on loopback (or when allowed)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FgoConfigurationError(f"base_url {base_url!r} is not an http(s) URL")
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(parts.hostname):
        raise FgoConfigurationError(
            f"base_url {base_url!r} is plain http to a host that is not loopback: the Hash "
            "would cross the network unencrypted. Use https, or pass allow_insecure_http=True."
        )
    return base_url


class AiohttpTransport:
    """Sends requests with aiohttp.

    With ``session`` it uses the application's session and never closes it; without, it
    creates one on first use and closes it in :meth:`aclose`. TLS certificates are always
    verified (the session's own settings apply when the application gives one).
    """

    def __init__(self, session: aiohttp.ClientSession | None = None) -> None:
        self._session = session
        self._owns_session = session is None
        self._closed = False

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit_per_host=100),
                # Timeouts are per request; redirects and cookies play no part in this API.
                cookie_jar=aiohttp.DummyCookieJar(),
                trace_configs=[send_time_trace()],
            )
        return self._session

    async def send(self, request: Request, *, timeout: float = DEFAULT_TIMEOUT) -> RawResponse:
        """Send ``request``; map aiohttp's failures onto the FgoTransportError family."""
        if self._closed:
            raise FgoClosedError("the transport is closed", identity=request.identity)
        session = self._get_session()
        client_timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 10.0))
        identity = request.identity
        stamp = _SendStamp()
        failure: FgoTransportError
        # Each failure is raised after its handler: aiohttp's exception, whose frames hold the
        # signed body, is then neither the cause nor the context of ours.
        try:
            async with session.request(
                request.method,
                request.url,
                data=request.body or None,
                headers=dict(request.headers),
                timeout=client_timeout,
                allow_redirects=False,
                trace_request_ctx=stamp,
            ) as response:
                body = await response.read()
                return RawResponse(
                    status=response.status,
                    headers=dict(response.headers),
                    body=body,
                    sent_at=stamp.at,
                )
        except aiohttp.ConnectionTimeoutError as error:
            failure = FgoConnectError(f"connecting timed out: {error}", identity=identity)
        except aiohttp.InvalidURL as error:
            failure = FgoConnectError(f"the URL is not valid: {error}", identity=identity)
        except aiohttp.ClientConnectorError as error:
            # Refused, DNS, TLS handshake: no byte of the request was sent.
            failure = FgoConnectError(f"could not connect: {error}", identity=identity)
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError):
            failure = FgoTimeoutError(
                f"no reply within {timeout:g} s; the vendor may have processed the call",
                identity=identity,
            )
        except aiohttp.ClientError as error:
            failure = FgoConnectionLostError(
                f"the connection failed after sending: {type(error).__name__}: {error}",
                identity=identity,
            )
        try:
            raise failure
        finally:
            # Raised after the handler, ours still gets aiohttp's exception as its context when
            # the task resumed this coroutine from inside an ``except`` (the pure-Python Task's
            # wakeup on Python 3.10 does): drop it, its frames hold the signed body.
            failure.__context__ = None

    async def aclose(self) -> None:
        """Close the session if this transport created it."""
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None


Handler = Callable[[Request], "RawResponse | Awaitable[RawResponse]"]


class MockTransport:
    """A transport that answers every request from ``handler``, for tests (as httpx's).

    The handler may be sync or async, and may raise a transport error to simulate a failure.
    Every request is kept in :attr:`requests`.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.closed = False

    async def send(self, request: Request, *, timeout: float = DEFAULT_TIMEOUT) -> RawResponse:
        """Record ``request`` and return the handler's answer."""
        self.requests.append(request)
        answer: Any = self.handler(request)
        if inspect.isawaitable(answer):
            answer = await answer
        if not isinstance(answer, RawResponse):
            raise TypeError(f"the handler returned {answer!r}, not a RawResponse")
        return answer

    async def aclose(self) -> None:
        """Mark the transport closed."""
        self.closed = True
