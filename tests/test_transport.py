"""The transports: aiohttp (through aioresponses, never a network), the mock, the base-URL rule."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey
from aioresponses import aioresponses
from yarl import URL

from fgo_async.endpoints import ENDPOINTS, nomenclature_endpoint
from fgo_async.errors import (
    FgoClosedError,
    FgoConfigurationError,
    FgoConnectError,
    FgoConnectionLostError,
    FgoTimeoutError,
    FgoTransportError,
)
from fgo_async.protocol import Request
from fgo_async.transport import (
    DEFAULT_TIMEOUT,
    AiohttpTransport,
    MockTransport,
    RawResponse,
    Transport,
    check_base_url,
)
from tests._helpers import BASE_URL, invoice, protocol

ISSUE_URL = f"{BASE_URL}/factura/emitere"


@pytest.fixture
async def transport() -> AsyncIterator[AiohttpTransport]:
    owned = AiohttpTransport()
    yield owned
    await owned.aclose()


def issue_request() -> Request:
    return protocol().build_request(ENDPOINTS["factura/emitere"], invoice())


def connector_error() -> aiohttp.ClientConnectorError:
    fields: dict[str, Any] = dict.fromkeys(ConnectionKey._fields)
    fields.update(host="api-testuat.fgo.ro", port=443, is_ssl=True)
    return aiohttp.ClientConnectorError(
        ConnectionKey(**fields), ConnectionRefusedError(111, "Connection refused")
    )


async def test_success(mocked: aioresponses, transport: AiohttpTransport) -> None:
    reply = {"Success": True, "Factura": {"Numar": "001", "Serie": "BV"}}
    mocked.post(ISSUE_URL, status=200, body=json.dumps(reply), headers={"X-Vendor": "fgo"})
    request = issue_request()
    raw = await transport.send(request, timeout=12.5)
    assert raw.status == 200
    assert json.loads(raw.body) == reply
    assert raw.headers["X-Vendor"] == "fgo"
    (sent,) = mocked.requests[("POST", URL(ISSUE_URL))]
    assert sent.kwargs["data"] == request.body
    assert sent.kwargs["headers"] == dict(request.headers)
    assert sent.kwargs["allow_redirects"] is False
    assert sent.kwargs["timeout"].total == 12.5
    assert sent.kwargs["timeout"].sock_connect == 10.0


@pytest.mark.parametrize("status", [201, 400, 403, 409, 429, 500, 503])
async def test_status_and_body_pass_through(
    mocked: aioresponses, transport: AiohttpTransport, status: int
) -> None:
    mocked.post(ISSUE_URL, status=status, body=b"<html>page</html>", headers={"Retry-After": "3"})
    raw = await transport.send(issue_request(), timeout=5)
    assert raw == RawResponse(status=status, headers=raw.headers, body=b"<html>page</html>")
    assert raw.headers["Retry-After"] == "3"


async def test_get_without_a_body(mocked: aioresponses, transport: AiohttpTransport) -> None:
    url = f"{BASE_URL}/nomenclator/judet"
    mocked.get(url, status=200, body=b'{"Success": true, "List": []}')
    request = protocol().build_nomenclature_request(nomenclature_endpoint("judet"))
    raw = await transport.send(request)
    assert raw.status == 200
    (sent,) = mocked.requests[("GET", URL(url))]
    assert sent.kwargs["data"] is None
    assert sent.kwargs["timeout"].total == DEFAULT_TIMEOUT


async def test_connection_refused_was_not_sent(
    mocked: aioresponses, transport: AiohttpTransport
) -> None:
    mocked.post(ISSUE_URL, exception=connector_error())
    request = issue_request()
    with pytest.raises(FgoConnectError) as caught:
        await transport.send(request, timeout=5)
    assert caught.value.sent is False
    assert caught.value.outcome_known is True
    assert caught.value.identity == request.identity
    assert "could not connect" in caught.value.message


async def test_an_invalid_url_was_not_sent(
    mocked: aioresponses, transport: AiohttpTransport
) -> None:
    mocked.post(ISSUE_URL, exception=aiohttp.InvalidURL(ISSUE_URL))
    with pytest.raises(FgoConnectError) as caught:
        await transport.send(issue_request(), timeout=5)
    assert caught.value.sent is False


async def test_connect_timeout_was_not_sent(
    mocked: aioresponses, transport: AiohttpTransport
) -> None:
    mocked.post(ISSUE_URL, exception=aiohttp.ConnectionTimeoutError("connect"))
    with pytest.raises(FgoConnectError) as caught:
        await transport.send(issue_request(), timeout=5)
    assert caught.value.sent is False


@pytest.mark.parametrize(
    "failure", [asyncio.TimeoutError(), aiohttp.ServerTimeoutError("read")], ids=type
)
async def test_timeout_may_have_been_processed(
    mocked: aioresponses, transport: AiohttpTransport, failure: Exception
) -> None:
    mocked.post(ISSUE_URL, exception=failure)
    with pytest.raises(FgoTimeoutError) as caught:
        await transport.send(issue_request(), timeout=7)
    assert caught.value.sent is True
    assert caught.value.outcome_known is False
    assert "7 s" in caught.value.message


async def test_aioresponses_timeout_flag(mocked: aioresponses, transport: AiohttpTransport) -> None:
    mocked.post(ISSUE_URL, timeout=True)
    with pytest.raises(FgoTimeoutError):
        await transport.send(issue_request(), timeout=1)


@pytest.mark.parametrize(
    "failure",
    [
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientPayloadError("truncated"),
        aiohttp.ClientOSError(104, "Connection reset by peer"),
    ],
    ids=type,
)
async def test_broken_connection_after_sending(
    mocked: aioresponses, transport: AiohttpTransport, failure: Exception
) -> None:
    mocked.post(ISSUE_URL, exception=failure)
    with pytest.raises(FgoConnectionLostError) as caught:
        await transport.send(issue_request(), timeout=5)
    assert caught.value.sent is True
    assert caught.value.outcome_known is False
    assert type(failure).__name__ in caught.value.message


async def test_transport_errors_do_not_chain_aiohttp_internals(
    mocked: aioresponses, transport: AiohttpTransport
) -> None:
    mocked.post(ISSUE_URL, exception=aiohttp.ServerDisconnectedError())
    with pytest.raises(FgoTransportError) as caught:
        await transport.send(issue_request(), timeout=5)
    # Neither cause nor context: aiohttp's frames hold the signed body, and tools that walk
    # __context__ (error trackers) would carry it along.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


async def test_app_session_is_used_and_not_closed(mocked: aioresponses) -> None:
    mocked.post(ISSUE_URL, status=200, body=b"{}")
    async with aiohttp.ClientSession() as session:
        app_transport = AiohttpTransport(session)
        await app_transport.send(issue_request(), timeout=5)
        await app_transport.aclose()
        assert not session.closed
    assert len(mocked.requests[("POST", URL(ISSUE_URL))]) == 1


async def test_owned_session_is_created_once_and_closed(
    mocked: aioresponses, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[aiohttp.ClientSession] = []
    real = aiohttp.ClientSession

    def recording(*args: Any, **kwargs: Any) -> aiohttp.ClientSession:
        session = real(*args, **kwargs)
        created.append(session)
        return session

    monkeypatch.setattr(aiohttp, "ClientSession", recording)
    mocked.post(ISSUE_URL, status=200, body=b"{}", repeat=True)
    owned = AiohttpTransport()
    assert created == []  # nothing is created before the first call
    await owned.send(issue_request(), timeout=5)
    await owned.send(issue_request(), timeout=5)
    assert len(created) == 1
    assert not created[0].closed
    await owned.aclose()
    assert created[0].closed


async def test_closing_an_unused_transport_is_fine() -> None:
    await AiohttpTransport().aclose()


async def test_a_closed_transport_refuses_to_send(mocked: aioresponses) -> None:
    mocked.post(ISSUE_URL, status=200, body=b"{}")
    closed = AiohttpTransport()
    await closed.aclose()
    request = issue_request()
    with pytest.raises(FgoClosedError) as caught:
        await closed.send(request, timeout=5)
    assert caught.value.identity == request.identity
    assert ("POST", URL(ISSUE_URL)) not in mocked.requests


# -- the base-URL rule -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://api.fgo.ro/v1",
        "https://api-testuat.fgo.ro/v1/",
        "http://127.0.0.1:8089/v1",
        "http://127.5.5.5/v1",
        "http://[::1]:8089/v1",
        "http://localhost:8089/v1",
        "http://LOCALHOST/v1",
    ],
)
def test_base_urls_that_are_accepted(url: str) -> None:
    assert check_base_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://api.fgo.ro/v1",
        "http://10.0.0.5:8089/v1",
        "http://localhost.example.com/v1",
        "http://0.0.0.0:8089/v1",
    ],
)
def test_plain_http_off_loopback_is_refused(url: str) -> None:
    with pytest.raises(FgoConfigurationError, match="allow_insecure_http"):
        check_base_url(url)
    assert check_base_url(url, allow_insecure_http=True) == url


@pytest.mark.parametrize("url", ["ftp://api.fgo.ro/v1", "api.fgo.ro/v1", "https://", ""])
def test_what_is_not_an_http_url_is_refused(url: str) -> None:
    with pytest.raises(FgoConfigurationError, match="not an http"):
        check_base_url(url, allow_insecure_http=True)


# -- the mock transport ----------------------------------------------------------------------------


async def test_mock_transport_with_a_sync_handler() -> None:
    mock = MockTransport(lambda request: RawResponse(status=201, body=request.url.encode()))
    request = issue_request()
    raw = await mock.send(request)
    assert raw == RawResponse(status=201, body=ISSUE_URL.encode())
    assert mock.requests == [request]


async def test_mock_transport_with_an_async_handler() -> None:
    async def handler(request: Request) -> RawResponse:
        await asyncio.sleep(0)
        return RawResponse(status=200, headers={"A": "b"})

    raw = await MockTransport(handler).send(issue_request(), timeout=1)
    assert raw.headers == {"A": "b"}
    assert raw.body == b""


async def test_mock_transport_handler_may_raise() -> None:
    def handler(request: Request) -> RawResponse:
        raise FgoConnectError("refused", identity=request.identity)

    mock = MockTransport(handler)
    with pytest.raises(FgoConnectError):
        await mock.send(issue_request())
    assert len(mock.requests) == 1


async def test_mock_transport_refuses_a_wrong_answer() -> None:
    mock = MockTransport(lambda request: {"Success": True})  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match="not a RawResponse"):
        await mock.send(issue_request())


async def test_mock_transport_close() -> None:
    mock = MockTransport(lambda request: RawResponse(status=200))
    assert not mock.closed
    await mock.aclose()
    assert mock.closed


def test_both_transports_follow_the_protocol() -> None:
    assert isinstance(AiohttpTransport(), Transport)
    assert isinstance(MockTransport(lambda request: RawResponse(status=200)), Transport)
