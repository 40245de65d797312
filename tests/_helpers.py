"""Shared builders for the tests: recognisable credentials, sample models, canned replies."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from fgo_async import (
    Customer,
    Environment,
    FgoClient,
    Invoice,
    InvoiceLine,
    MockTransport,
    RawResponse,
    RetryPolicy,
)
from fgo_async.endpoints import Bucket
from fgo_async.protocol import FgoProtocol, Request
from fgo_async.scheduling import RatePolicy, Scheduler
from fgo_async.signing import Credentials

#: The SPEC's test vector.
SPEC_COD_UNIC = "2864518"
SPEC_KEY = "1234567890"
SPEC_HASH = "8C3A7726804C121C6933F7D68494B439463996E2"

#: Credentials that are easy to find in any text that leaks them.
COD_UNIC = "18547290"
SECRET_KEY = "SECRET-KEY-must-never-leak-7f3a9c"

PLATFORM_URL = "https://shop.example.ro"
BASE_URL = Environment.TEST.base_url

#: A policy that never retries: error paths stay one attempt, with no backoff pause.
ONE_ATTEMPT = RetryPolicy(max_attempts=1)


def protocol(**overrides: Any) -> FgoProtocol:
    """A protocol core for the recognisable test company."""
    settings: dict[str, Any] = {
        "credentials": Credentials(cod_unic=COD_UNIC, private_key=SECRET_KEY),
        "platform_url": PLATFORM_URL,
        "base_url": BASE_URL,
    }
    settings.update(overrides)
    return FgoProtocol(**settings)


def customer(**overrides: Any) -> Customer:
    """A valid Romanian person."""
    fields: dict[str, Any] = {
        "name": "Ionescu Popescu",
        "type": "PF",
        "country": "Romania",
        "county": "Brasov",
    }
    fields.update(overrides)
    return Customer(**fields)


def company(**overrides: Any) -> Customer:
    """A valid Romanian company (CUI 18547290 has a correct check digit)."""
    fields: dict[str, Any] = {
        "name": "Exemplu Comert SRL",
        "type": "PJ",
        "country": "Romania",
        "county": "Cluj",
        "tax_id": "RO18547290",
    }
    fields.update(overrides)
    return Customer(**fields)


def line(**overrides: Any) -> InvoiceLine:
    """A valid line: one book at 19.99 plus 21 % VAT."""
    fields: dict[str, Any] = {
        "name": "Carte",
        "quantity": 1,
        "unit": "buc",
        "vat_rate": 21,
        "unit_price": "19.99",
    }
    fields.update(overrides)
    return InvoiceLine(**fields)


def invoice(**overrides: Any) -> Invoice:
    """A valid invoice with one line."""
    fields: dict[str, Any] = {"series": "BV", "customer": customer(), "lines": [line()]}
    fields.update(overrides)
    return Invoice(**fields)


def reply(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> RawResponse:
    """A raw reply whose body is ``data`` as JSON (Decimals written as numbers)."""
    body = json.dumps(data, default=_decimal_as_number).encode("utf-8")
    return RawResponse(status=status, headers=dict(headers or {}), body=body)


def _decimal_as_number(value: object) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


def body_of(request: Request) -> dict[str, Any]:
    """The JSON body of a request, numbers read exactly."""
    data = json.loads(request.body, parse_float=Decimal)
    assert isinstance(data, dict)
    return data


def client(handler: Callable[[Request], Any], **options: Any) -> tuple[FgoClient, MockTransport]:
    """A client of the recognisable company on a mock transport, and the transport."""
    transport = MockTransport(handler)
    settings: dict[str, Any] = {
        "cod_unic": COD_UNIC,
        "private_key": SECRET_KEY,
        "platform_url": PLATFORM_URL,
        "environment": Environment.TEST,
        "transport": transport,
        "scheduler": unpaced_scheduler(),
    }
    settings.update(options)
    return FgoClient(**settings), transport


def unpaced_scheduler() -> Scheduler:
    """A scheduler with no spacing and a near-instant retry backoff.

    Client tests are about what is sent and how replies are read; the spacing of calls has its
    own tests on virtual time (tests/scheduling), where waiting costs nothing.
    """
    return Scheduler(
        rate_policy=RatePolicy(intervals=dict.fromkeys(Bucket, 0.0), margin=0.0),
        retry_policy=RetryPolicy(backoff_base=0.001, backoff_max=0.001),
    )


TODAY = datetime.date(2025, 8, 1)
