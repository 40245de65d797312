"""The sans-I/O core: building requests, and what every reply means."""

from __future__ import annotations

import datetime
import email.utils
import json
import re
from decimal import Decimal
from typing import Any

import pytest

from fgo_async.endpoints import ENDPOINTS, Bucket, RetryClass, get_key, nomenclature_endpoint
from fgo_async.errors import FgoError, FgoRateLimitedError, FgoValidationError
from fgo_async.models import (
    Article,
    ArticlePage,
    Articles,
    AssociatedInvoices,
    ChangedArticles,
    Confirmation,
    CustomerPage,
    InvoiceLink,
    InvoiceRef,
    InvoiceStatus,
    IssuedInvoice,
    Nomenclature,
    PaymentReceipt,
    Warehouses,
)
from fgo_async.protocol import (
    ReplyPatterns,
    Request,
    first_line,
    identify,
    parse_response,
    parse_retry_after,
)
from tests._helpers import BASE_URL, COD_UNIC, PLATFORM_URL, body_of, invoice, protocol
from tests._replies import ERROR_REPLIES, ErrorReply, payload_for

# -- building requests -----------------------------------------------------------------------------


def test_build_request_for_an_invoice() -> None:
    request = protocol().build_request(ENDPOINTS["factura/emitere"], invoice())
    assert request.method == "POST"
    assert request.url == f"{BASE_URL}/factura/emitere"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"] == "fgo_async"
    body = body_of(request)
    assert list(body)[:2] == ["CodUnic", "Hash"]
    assert list(body)[-1] == "PlatformaUrl"
    assert body["PlatformaUrl"] == PLATFORM_URL
    assert body["Client"]["Denumire"] == "Ionescu Popescu"
    assert body["Continut"][0]["PretUnitar"] == Decimal("19.99")
    assert request.endpoint is ENDPOINTS["factura/emitere"]


def test_build_request_in_form_encoding() -> None:
    request = protocol(wire_format="form").build_request(ENDPOINTS["factura/emitere"], invoice())
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    text = request.body.decode("ascii")
    assert "Client%5BDenumire%5D=Ionescu+Popescu" in text
    assert "Continut%5B0%5D%5BPretUnitar%5D=19.99" in text
    assert "PlatformaUrl=https%3A%2F%2Fshop.example.ro" in text


def test_base_url_trailing_slash_is_dropped() -> None:
    request = protocol(base_url=BASE_URL + "/").build_request(
        ENDPOINTS["factura/print"], InvoiceRef(series="BV", number="1")
    )
    assert request.url == f"{BASE_URL}/factura/print"


def test_build_request_refuses_the_wrong_model() -> None:
    with pytest.raises(TypeError, match="factura/emitere takes a Invoice, not a InvoiceRef"):
        protocol().build_request(ENDPOINTS["factura/emitere"], InvoiceRef(series="B", number="1"))


def test_missing_customer_name_cannot_be_signed() -> None:
    with pytest.raises(FgoValidationError) as caught:
        protocol().build_request(
            ENDPOINTS["factura/emitere"],
            invoice(customer=invoice().customer.__class__(name="", type="PF", country="Germania")),
        )
    assert caught.value.problems[0].field == "Client/Denumire"
    assert caught.value.model == "Invoice"


@pytest.mark.parametrize(
    ("county", "url"),
    [
        (None, f"{BASE_URL}/nomenclator/localitati"),
        ("Brașov", f"{BASE_URL}/nomenclator/localitati?judet=Bra%C8%99ov"),
        ("Satu Mare", f"{BASE_URL}/nomenclator/localitati?judet=Satu+Mare"),
    ],
)
def test_nomenclature_request_is_a_get_with_a_query(county: str | None, url: str) -> None:
    request = protocol().build_nomenclature_request(nomenclature_endpoint("localitati"), county)
    assert request.method == "GET"
    assert request.url == url
    assert request.body == b""
    assert "Content-Type" not in request.headers
    assert request.identity.method == "nomenclator/localitati"
    assert request.identity.company is None


def test_unknown_nomenclature() -> None:
    with pytest.raises(FgoValidationError, match="unknown nomenclator 'orase'") as caught:
        nomenclature_endpoint("orase")
    assert caught.value.fields == ("name",)
    assert isinstance(caught.value, ValueError)


def test_request_repr_hides_body_and_headers() -> None:
    request = protocol().build_request(ENDPOINTS["factura/emitere"], invoice())
    text = repr(request)
    assert "Hash" not in text
    assert body_of(request)["Hash"] not in text
    assert request.describe() == f"POST factura/emitere company {COD_UNIC} BV (Ionescu Popescu)"


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        (
            "factura/emitere",
            {
                "series": "BV",
                "number": None,
                "external_id": "1042",
                "customer_name": "Ionescu Popescu",
            },
        ),
        ("factura/print", {"series": "BV", "number": "001", "external_id": None}),
        ("factura/incasare", {"series": "BV", "number": "001"}),
        ("factura/stornare", {"series": "BV", "number": "001"}),
        ("articol/get", {"series": None, "number": None, "customer_name": None}),
    ],
)
def test_identify(method: str, expected: dict[str, Any]) -> None:
    identity = identify(ENDPOINTS[method], payload_for(method), COD_UNIC)
    assert identity.method == method
    assert identity.company == COD_UNIC
    for name, value in expected.items():
        assert getattr(identity, name) == value


# -- the endpoint table ----------------------------------------------------------------------------

EXPECTED_TABLE = {
    # name: (verb, bucket, retry class)
    "factura/emitere": ("POST", Bucket.FACTURA, RetryClass.CREATE),
    "factura/print": ("POST", Bucket.FACTURA, RetryClass.READ_ONLY),
    "factura/stergere": ("POST", Bucket.FACTURA, RetryClass.REPEATABLE),
    "factura/anulare": ("POST", Bucket.FACTURA, RetryClass.REPEATABLE),
    "factura/getstatus": ("POST", Bucket.FACTURA, RetryClass.READ_ONLY),
    "factura/incasare": ("POST", Bucket.FACTURA, RetryClass.NOT_REPEATABLE),
    "factura/stergereincasare": ("POST", Bucket.FACTURA, RetryClass.REPEATABLE),
    "factura/stornare": ("POST", Bucket.FACTURA, RetryClass.NOT_REPEATABLE),
    "factura/awb": ("POST", Bucket.FACTURA, RetryClass.REPEATABLE),
    "factura/listfacturiasociate": ("POST", Bucket.FACTURA, RetryClass.READ_ONLY),
    "articol/list": ("POST", Bucket.ARTICOL_LIST, RetryClass.READ_ONLY),
    "articol/get": ("POST", Bucket.ARTICOL, RetryClass.READ_ONLY),
    "articol/getlist": ("POST", Bucket.ARTICOL, RetryClass.READ_ONLY),
    "articol/articolemodificate": ("POST", Bucket.ARTICOL_MODIFICATE, RetryClass.READ_ONLY),
    "articol/gestiune": ("POST", Bucket.ARTICOL, RetryClass.READ_ONLY),
    "client/list": ("POST", Bucket.CLIENT, RetryClass.READ_ONLY),
    **{
        f"nomenclator/{name}": ("GET", Bucket.NOMENCLATOR, RetryClass.READ_ONLY)
        for name in ("tara", "judet", "tva", "banca", "tipincasare", "tipfactura")
    },
    **{
        f"nomenclator/{name}": ("GET", Bucket.NOMENCLATOR, RetryClass.READ_ONLY)
        for name in ("tipclient", "valuta", "localitati")
    },
}


def test_endpoint_table_matches_the_spec() -> None:
    actual = {name: (e.http_method, e.bucket, e.retry_class) for name, e in ENDPOINTS.items()}
    assert actual == EXPECTED_TABLE
    for name, endpoint in ENDPOINTS.items():
        assert endpoint.path == name
        assert endpoint.read_only is (endpoint.retry_class is RetryClass.READ_ONLY)
        assert endpoint.signed is (not name.startswith("nomenclator/"))
    assert str(Bucket.ARTICOL_LIST) == "articol-list"


def test_get_key_ignores_case() -> None:
    assert get_key({"Factura": 1}, "Factura") == 1
    assert get_key({"factura": 2}, "Factura") == 2
    assert get_key({}, "Factura") is None


# -- Retry-After -----------------------------------------------------------------------------------

NOW = datetime.datetime(2025, 8, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, None),
        ({"Retry-After": "120"}, 120.0),
        ({"retry-after": " 1.5 "}, 1.5),
        ({"RETRY-AFTER": "-3"}, 0.0),
        ({"Retry-After": "Fri, 01 Aug 2025 12:00:30 GMT"}, 30.0),
        ({"Retry-After": "Fri, 01 Aug 2025 11:00:00 GMT"}, 0.0),
        ({"Retry-After": "Fri, 01 Aug 2025 12:01:00"}, 60.0),  # no zone: read as UTC
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": ""}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    assert parse_retry_after(headers, now=NOW) == seconds


def test_retry_after_date_against_the_real_clock() -> None:
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=300)
    value = parse_retry_after({"Retry-After": email.utils.format_datetime(later, usegmt=True)})
    assert value is not None
    assert 200 < value <= 300


# -- what each reply means -------------------------------------------------------------------------


def _request(method: str, **protocol_options: Any) -> Request:
    return protocol(**protocol_options).build_request(ENDPOINTS[method], payload_for(method))


@pytest.mark.parametrize("row", ERROR_REPLIES, ids=lambda row: row.id)
def test_error_replies(row: ErrorReply) -> None:
    request = _request(row.method)
    with pytest.raises(row.error) as caught:
        parse_response(request, row.status, row.headers, row.body)
    error = caught.value
    assert type(error) is row.error
    assert error.outcome_known is row.outcome_known
    assert error.identity == request.identity
    assert error.method == row.method
    if row.message is not None:
        assert error.message == row.message
        assert str(error).endswith(row.message)
    assert str(error).startswith(row.method)
    if hasattr(error, "status"):
        assert error.status == row.status
    if hasattr(error, "raw") and "raw" not in row.attributes:
        assert error.raw == row.raw
    for name, value in row.attributes.items():
        assert getattr(error, name) == value, name


def test_server_error_keeps_the_start_of_the_page() -> None:
    row = next(r for r in ERROR_REPLIES if r.id == "http-500-html")
    with pytest.raises(FgoError) as caught:
        parse_response(_request(row.method), row.status, row.headers, row.body)
    assert getattr(caught.value, "body_excerpt", "").startswith("<html><head><title>500")


def test_body_excerpt_is_bounded() -> None:
    body = b"<html>" + b"x" * 10_000
    with pytest.raises(FgoError) as caught:
        parse_response(_request("factura/print"), 502, {}, body)
    assert len(getattr(caught.value, "body_excerpt", "")) == 300


def test_403_message_names_the_status_and_the_page() -> None:
    row = next(r for r in ERROR_REPLIES if r.id == "http-403-cdn-html")
    with pytest.raises(FgoError) as caught:
        parse_response(_request(row.method), row.status, row.headers, row.body)
    assert caught.value.message.startswith("HTTP 403: <!DOCTYPE html>")


def test_every_row_of_the_error_table_is_distinct() -> None:
    ids = [row.id for row in ERROR_REPLIES]
    assert len(ids) == len(set(ids))
    kinds = {row.error.__name__ for row in ERROR_REPLIES}
    assert kinds == {
        "FgoApiError",
        "FgoAuthenticationError",
        "FgoNotFoundError",
        "FgoIssueTimeoutError",
        "FgoRateLimitedError",
        "FgoDuplicateError",
        "FgoServerError",
        "FgoDecodeError",
    }


def test_reply_patterns_can_be_overridden() -> None:
    patterns = ReplyPatterns(throttle=re.compile("incetinire"))
    body = json.dumps({"Success": False, "Message": "incetinire temporara"}).encode()
    with pytest.raises(FgoRateLimitedError):
        parse_response(_request("articol/list"), 200, {}, body, patterns=patterns)
    # With the default patterns it is a plain refusal.
    with pytest.raises(FgoError) as caught:
        parse_response(_request("articol/list"), 200, {}, body)
    assert type(caught.value).__name__ == "FgoApiError"


# -- successful replies of every method ------------------------------------------------------------

SUCCESSES: dict[str, tuple[dict[str, Any], Any]] = {
    "factura/emitere": (
        {
            "Success": True,
            "Message": "",
            "Factura": {"Numar": "001", "Serie": "BV", "Link": "https://x/1", "LinkPlata": None},
            "InfoStoc": [{"CodConta": "371", "Nume": "Carte", "Stoc": "4"}],
        },
        IssuedInvoice,
    ),
    "factura/print": (
        {"Success": True, "Factura": {"Numar": "001", "Serie": "BV", "Link": "https://x/1"}},
        InvoiceLink,
    ),
    "factura/stergere": ({"Success": True, "Message": "Stearsa"}, Confirmation),
    "factura/anulare": ({"Success": True, "Message": "Anulata"}, Confirmation),
    "factura/getstatus": (
        {"Success": True, "Factura": {"Numar": "001", "Serie": "BV", "Valoare": "10"}},
        InvoiceStatus,
    ),
    "factura/incasare": (
        {"Success": True, "Incasare": {"Numar": "1", "Serie": "CH"}},
        PaymentReceipt,
    ),
    "factura/stergereincasare": ({"Success": True, "Message": ""}, Confirmation),
    "factura/stornare": (
        {"Success": True, "Factura": {"Numar": "002", "Serie": "BV", "Link": "https://x/2"}},
        InvoiceLink,
    ),
    "factura/awb": ({"Success": True}, Confirmation),
    "factura/listfacturiasociate": (
        {"Success": True, "Facturi": [{"Numar": "9", "Serie": "BV"}]},
        AssociatedInvoices,
    ),
    "articol/list": (
        {
            "Success": True,
            "Result": {"Total": 1, "NrPagina": 1, "NrArticole": 10, "List": [{"Nume": "A"}]},
        },
        ArticlePage,
    ),
    "articol/get": ({"Success": True, "Result": {"Nume": "A", "CotaTva": 0.19}}, Article),
    "articol/getlist": ({"Success": True, "Result": [{"Nume": "A"}]}, Articles),
    "articol/articolemodificate": ({"Success": True, "Result": [{"Nume": "A"}]}, ChangedArticles),
    "articol/gestiune": (
        {"Success": True, "Result": {"List": [{"CodGestiune": "G", "Nume": "Depozit"}]}},
        Warehouses,
    ),
    "client/list": (
        {"Success": True, "Result": {"Total": 1, "List": [{"Nume": "Exemplu"}]}},
        CustomerPage,
    ),
}


def test_every_signed_method_has_a_success_case() -> None:
    assert set(SUCCESSES) == {name for name, e in ENDPOINTS.items() if e.signed}


@pytest.mark.parametrize("method", sorted(SUCCESSES))
def test_successful_replies(method: str) -> None:
    data, result_type = SUCCESSES[method]
    result = parse_response(_request(method), 200, {}, json.dumps(data).encode())
    assert type(result) is result_type
    assert result.raw == json.loads(json.dumps(data), parse_float=Decimal)  # the whole reply


def test_success_reads_the_parts_of_the_reply() -> None:
    data, _ = SUCCESSES["factura/emitere"]
    issued = parse_response(_request("factura/emitere"), 200, {}, json.dumps(data).encode())
    assert issued.ref == InvoiceRef(series="BV", number="001")
    assert issued.link == "https://x/1"
    assert issued.payment_link is None
    assert issued.stock[0].stock == Decimal(4)
    article = parse_response(
        _request("articol/get"), 200, {}, json.dumps(SUCCESSES["articol/get"][0]).encode()
    )
    assert article.vat_rate == Decimal(19)


def test_success_as_a_string() -> None:
    body = json.dumps({"success": "True", "message": "ok"}).encode()
    assert parse_response(_request("factura/awb"), 200, {}, body) == Confirmation(message="ok")


def test_nomenclature_reply() -> None:
    request = protocol().build_nomenclature_request(nomenclature_endpoint("judet"))
    body = json.dumps(
        {
            "Success": True,
            "List": [{"Nume": "Brasov", "Valoare": "BV"}, {"Nume": "Cluj", "Cod": "CJ"}],
        }
    ).encode()
    result = parse_response(request, 200, {}, body)
    assert isinstance(result, Nomenclature)
    assert [(i.name, i.value) for i in result] == [("Brasov", "BV"), ("Cluj", "CJ")]


def test_a_dotnet_stack_trace_stays_in_the_raw_reply_only() -> None:
    row = next(r for r in ERROR_REPLIES if r.id == "auth-in-http-500-with-a-dotnet-trace")
    with pytest.raises(FgoError) as caught:
        parse_response(_request(row.method), row.status, row.headers, row.body)
    assert "Fgo.PublicApi" not in str(caught.value)
    assert "System.Exception" not in str(caught.value)
    raw = getattr(caught.value, "raw", None)
    assert raw is not None
    assert "Fgo.PublicApi.Controllers" in raw["Message"]


def test_first_line_drops_the_trace_and_the_exception_type() -> None:
    assert first_line("System.Exception: Eroare.\r\n   at X.Y()") == "Eroare."
    assert first_line("Fgo.Api.FgoValidationException: Campul X.\n at Z") == "Campul X."
    assert first_line("Mesaj simplu") == "Mesaj simplu"
    assert first_line("   ") == ""
