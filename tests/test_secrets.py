"""No error, repr, traceback or log line ever shows the private key or a computed Hash."""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import traceback
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses

from fgo_async import (
    Environment,
    FgoClient,
    FgoError,
    FgoValidationWarning,
    InvoiceRef,
    Payment,
    RawResponse,
)
from fgo_async.endpoints import ENDPOINTS
from fgo_async.errors import FgoConnectionLostError, FgoTimeoutError
from fgo_async.protocol import Request
from fgo_async.signing import Credentials, compute_hash
from tests._helpers import (
    BASE_URL,
    COD_UNIC,
    ONE_ATTEMPT,
    SECRET_KEY,
    client,
    customer,
    invoice,
    protocol,
)
from tests._replies import ERROR_REPLIES, ErrorReply, payload_for
from tests.test_transport import connector_error


def texts_of(error: BaseException) -> list[str]:
    """Every text a user may see of an error: str, repr, the traceback, and its attributes."""
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    texts.append(repr(vars(error)))
    for name in ("identity", "raw", "body_excerpt", "problems", "existing", "cause"):
        if hasattr(error, name):
            texts.append(repr(getattr(error, name)))
    cause = getattr(error, "cause", None)
    if isinstance(cause, BaseException):
        texts.extend(texts_of(cause))
    for earlier in getattr(error, "retry_history", ()):
        texts.extend(texts_of(earlier))
    return texts


def hashes_of(requests: list[Request]) -> set[str]:
    found = set()
    for request in requests:
        if request.body:
            found.add(json.loads(request.body)["Hash"])
    return found


def assert_clean(texts: list[str], hashes: set[str]) -> None:
    """Fail when a text holds the key or a Hash, without printing either in the report."""
    __tracebackhide__ = True  # pytest would print the arguments, secrets included
    assert hashes, "the test must have computed at least one Hash"
    secrets = [SECRET_KEY, *hashes, *(digest.lower() for digest in hashes)]
    for text in texts:
        leaked = any(secret in text for secret in secrets)
        if leaked:
            for secret in secrets:
                text = text.replace(secret, "<SECRET>")
        assert not leaked, f"a secret leaked into: {text[:2000]}"


async def _call(fgo: FgoClient, method: str) -> None:
    """Call the client method of a vendor method, with the payload of ``payload_for``."""
    payload = payload_for(method)
    if method == "factura/emitere":
        await fgo.issue_invoice(payload)
    elif method == "factura/incasare":
        await fgo.add_payment(payload)
    elif method == "factura/getstatus":
        await fgo.invoice_status(payload)
    elif method == "factura/print":
        await fgo.print_invoice(payload)
    elif method == "articol/get":
        await fgo.article(payload.code)
    elif method == "articol/list":
        [page async for page in fgo.articles(page_size=payload.page_size)]
    else:
        raise AssertionError(f"no client call for {method}")


@pytest.mark.parametrize("row", ERROR_REPLIES, ids=lambda row: row.id)
async def test_error_replies_never_show_secrets(
    row: ErrorReply, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fgo, transport = client(
        lambda request: RawResponse(status=row.status, headers=row.headers, body=row.body),
        retry_policy=ONE_ATTEMPT,
    )
    async with fgo:
        with pytest.raises(FgoError) as caught:
            await _call(fgo, row.method)
    assert_clean([*texts_of(caught.value), caplog.text], hashes_of(transport.requests))


@pytest.mark.parametrize(
    "failure",
    [connector_error(), asyncio.TimeoutError(), aiohttp.ServerDisconnectedError()],
    ids=type,
)
@pytest.mark.parametrize("method", ["factura/emitere", "factura/incasare", "factura/print"])
async def test_transport_failures_never_show_secrets(
    mocked: aioresponses, failure: Exception, method: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    mocked.post(f"{BASE_URL}/{method}", exception=failure)
    async with FgoClient(
        cod_unic=COD_UNIC,
        private_key=SECRET_KEY,
        platform_url="https://shop.example.ro",
        environment=Environment.TEST,
        retry_policy=ONE_ATTEMPT,
    ) as fgo:
        with pytest.raises(FgoError) as caught:
            await _call(fgo, method)
    sent = [call.kwargs["data"] for calls in mocked.requests.values() for call in calls]
    hashes = {json.loads(body)["Hash"] for body in sent}
    assert_clean([*texts_of(caught.value), caplog.text], hashes)


async def test_retried_failures_never_show_secrets() -> None:
    attempts: list[Exception] = [FgoTimeoutError("slow"), FgoConnectionLostError("reset")]

    def failing(request: Request) -> RawResponse:
        raise attempts.pop(0) if attempts else FgoTimeoutError("slow again")

    from fgo_async import RetryPolicy

    fgo, transport = client(failing, retry_policy=RetryPolicy(max_attempts=3, backoff_base=0.0))
    async with fgo:
        with pytest.raises(FgoError) as caught:
            await fgo.issue_invoice(invoice(external_id="1042", check_duplicate=True))
    assert len(caught.value.retry_history) == 2
    assert_clean(texts_of(caught.value), hashes_of(transport.requests))


async def test_local_errors_never_show_secrets() -> None:
    name_hash = compute_hash(COD_UNIC, SECRET_KEY, "Ionescu Popescu")
    errors: list[BaseException] = []
    fgo, transport = client(lambda request: RawResponse(status=200))
    async with fgo:
        for bad in (
            fgo.issue_invoice(invoice(series="", customer=customer(tax_id=SECRET_KEY))),
            fgo.print_invoice(InvoiceRef(series="BV", number="")),
            fgo.add_payment(
                Payment(
                    invoice=InvoiceRef(series="BV", number="1"),
                    payment_type="",
                    amount=0,
                    paid_at=datetime.datetime(2025, 8, 1),
                )
            ),
            fgo.nomenclature("localitati"),
            fgo.nomenclature("orase"),
        ):
            with pytest.raises(FgoError) as caught:
                await bad
            errors.append(caught.value)
    with pytest.raises(FgoError) as closed:
        await fgo.set_awb(InvoiceRef(series="BV", number="1"), "A")
    errors.append(closed.value)
    with pytest.raises(FgoError) as unsigned:
        protocol().build_request(ENDPOINTS["factura/print"], InvoiceRef(series="BV", number=""))
    errors.append(unsigned.value)
    assert transport.requests == []
    texts = [text for error in errors for text in texts_of(error)]
    # The customer's tax id is shown on purpose; only the key of the *company* is secret.
    texts = [text.replace(f"'{SECRET_KEY}' is not a valid", "") for text in texts]
    assert_clean(texts, {name_hash})


async def test_configuration_errors_never_show_the_key() -> None:
    for settings in (
        {"environment": None, "base_url": "http://api.fgo.ro/v1"},
        {"platform_url": "shop"},
        {"timeout": 0},
    ):
        with pytest.raises(FgoError) as caught:
            FgoClient(
                **{
                    "cod_unic": COD_UNIC,
                    "private_key": SECRET_KEY,
                    "platform_url": "https://shop.example.ro",
                    "environment": Environment.TEST,
                    **settings,
                }
            )
        assert_clean(texts_of(caught.value), {compute_hash(COD_UNIC, SECRET_KEY)})


async def test_reprs_never_show_secrets() -> None:
    fgo, transport = client(
        lambda request: RawResponse(
            status=200, body=b'{"Success": true, "Factura": {"Numar": "1", "Serie": "BV"}}'
        )
    )
    async with fgo:
        await fgo.issue_invoice(invoice())
        view = fgo.with_options(interactive=True)
        request = transport.requests[0]
        texts: list[Any] = [
            repr(fgo),
            repr(view),
            repr(request),
            request.describe(),
            repr(request.identity),
            repr(protocol()),  # the protocol core holds the credentials
            repr(Credentials(cod_unic=COD_UNIC, private_key=SECRET_KEY)),
        ]
    assert_clean(texts, hashes_of(transport.requests))


def test_validation_warnings_never_show_secrets() -> None:
    from fgo_async.validation import ensure_valid

    with pytest.warns(FgoValidationWarning) as record:
        ensure_valid(invoice(customer=customer(tax_id="1980101420015")))
    assert_clean([str(w.message) for w in record], {compute_hash(COD_UNIC, SECRET_KEY)})
