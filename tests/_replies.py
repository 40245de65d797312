"""The table of error replies: what the vendor (or its CDN) may answer, and what it must become."""

from __future__ import annotations

import json
from typing import Any

import attrs

from fgo_async.errors import (
    FgoApiError,
    FgoAuthenticationError,
    FgoDecodeError,
    FgoDuplicateError,
    FgoError,
    FgoIssueTimeoutError,
    FgoNotFoundError,
    FgoRateLimitedError,
    FgoServerError,
)
from fgo_async.models import InvoiceRef

ISSUE_TIMEOUT = (
    "Timpul maxim pentru emiterea unei facturi a expirat. Factura nu a fost emisa si este "
    "necesar sa reincercati. [{code}]"
)
#: The live vendor's answer to credentials it does not accept, in production and on test.
AUTH_PRODUCTION = (
    "Combinatia utilizator/companie nu este autorizata pentru utilizare API. Verificati "
    "starea acestuia in Setari -> Utilizatori [12345678]."
)
AUTH_TEST = "Codul unic nu exista sau nu este asociat."
DOTNET_TRACE = (
    "System.Exception: Codul unic nu exista sau nu este asociat.\r\n   at "
    "Fgo.PublicApi.Controllers.FacturaController.Emitere(FacturaRequest request) in "
    "C:\\build\\Fgo.PublicApi\\Controllers\\FacturaController.cs:line 88\r\n   at "
    "lambda_method(Closure , Object , Object[] )"
)
OOPS = "Ne pare rau, a intervenit o eroare"
HTML_500 = b"<html><head><title>500 Internal Server Error</title></head><body>nginx</body></html>"
HTML_403 = (
    b"<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head>"
    b"<body>Sorry, you have been blocked</body></html>"
)


def _json(data: Any) -> bytes:
    return json.dumps(data).encode("utf-8")


@attrs.frozen(kw_only=True)
class ErrorReply:
    """One reply and the error it must raise, with the attributes that error must carry."""

    id: str
    status: int
    body: bytes
    error: type[FgoError]
    outcome_known: bool
    method: str = "factura/emitere"
    headers: dict[str, str] = attrs.field(factory=dict)
    attributes: dict[str, Any] = attrs.field(factory=dict)
    message: str | None = None

    @property
    def raw(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


ERROR_REPLIES = [
    ErrorReply(
        id="success-false",
        status=200,
        body=_json({"Success": False, "Message": "Seria BX nu este definita"}),
        error=FgoApiError,
        outcome_known=True,
        message="Seria BX nu este definita",
        attributes={"status": 200},
    ),
    ErrorReply(
        id="success-false-without-message",
        status=200,
        body=_json({"Success": False, "Message": None}),
        error=FgoApiError,
        outcome_known=True,
        message="the vendor refused the call without a message",
    ),
    ErrorReply(
        id="success-false-string",
        status=200,
        body=_json({"success": "false", "message": "Nu exista factura"}),
        error=FgoApiError,
        outcome_known=True,
        method="factura/getstatus",
        message="Nu exista factura",
    ),
    ErrorReply(
        id="success-false-read-method",
        status=200,
        body=_json({"Success": False, "Message": "Metoda disponibila doar pentru Enterprise"}),
        error=FgoApiError,
        outcome_known=True,
        method="articol/list",
        message="Metoda disponibila doar pentru Enterprise",
    ),
    ErrorReply(
        id="issue-timeout",
        status=200,
        body=_json({"Success": False, "Message": ISSUE_TIMEOUT.format(code=3)}),
        error=FgoIssueTimeoutError,
        outcome_known=True,
        message=ISSUE_TIMEOUT.format(code=3),
        attributes={"code": 3},
    ),
    ErrorReply(
        id="issue-timeout-code-7",
        status=200,
        body=_json({"Success": False, "Message": ISSUE_TIMEOUT.format(code=7)}),
        error=FgoIssueTimeoutError,
        outcome_known=True,
        attributes={"code": 7},
    ),
    ErrorReply(
        id="issue-timeout-without-code",
        status=200,
        body=_json(
            {"Success": False, "Message": "TIMPUL MAXIM pentru emiterea unei facturi a expirat."}
        ),
        error=FgoIssueTimeoutError,
        outcome_known=True,
        attributes={"code": None},
    ),
    ErrorReply(
        id="throttle-message-in-200",
        status=200,
        body=_json({"Success": False, "Message": "Prea multe apeluri. Reincercati mai tarziu."}),
        error=FgoRateLimitedError,
        outcome_known=True,
        method="articol/list",
        attributes={"retry_after": None, "status": 200},
    ),
    ErrorReply(
        id="duplicate-message-in-200",
        status=200,
        body=_json(
            {
                "Success": False,
                "Message": "Factura pentru comanda 1042 a fost deja emisa: seria BV numarul 001",
            }
        ),
        error=FgoDuplicateError,
        outcome_known=True,
        attributes={"existing": InvoiceRef(series="BV", number="001")},
    ),
    ErrorReply(
        id="http-409",
        status=409,
        body=_json(
            {"Success": False, "Message": "Factura a fost deja emisa: seria BV numarul 001"}
        ),
        error=FgoDuplicateError,
        outcome_known=True,
        message="Factura a fost deja emisa: seria BV numarul 001",
        attributes={"existing": InvoiceRef(series="BV", number="001"), "status": 409},
    ),
    ErrorReply(
        id="http-409-series-si-number",
        status=409,
        body=_json({"Success": False, "Message": "Duplicat: Seria: FCT-B, si Numarul: 0042"}),
        error=FgoDuplicateError,
        outcome_known=True,
        attributes={"existing": InvoiceRef(series="FCT-B", number="0042")},
    ),
    ErrorReply(
        id="http-409-empty",
        status=409,
        body=b"",
        error=FgoDuplicateError,
        outcome_known=True,
        message="an identical invoice was just issued (HTTP 409)",
        attributes={"existing": None, "status": 409},
    ),
    ErrorReply(
        id="http-429-retry-after-seconds",
        status=429,
        headers={"Retry-After": "7"},
        body=b"",
        error=FgoRateLimitedError,
        outcome_known=True,
        attributes={"retry_after": 7.0, "status": 429},
    ),
    ErrorReply(
        id="http-429-retry-after-lower-case",
        status=429,
        headers={"retry-after": "2.5"},
        body=_json({"Success": False, "Message": "Too many requests"}),
        error=FgoRateLimitedError,
        outcome_known=True,
        message="Too many requests",
        attributes={"retry_after": 2.5},
    ),
    ErrorReply(
        id="http-429-retry-after-past-date",
        status=429,
        headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"},
        body=b"",
        error=FgoRateLimitedError,
        outcome_known=True,
        attributes={"retry_after": 0.0},
    ),
    ErrorReply(
        id="http-429-without-retry-after",
        status=429,
        body=b"<html>Too Many Requests</html>",
        error=FgoRateLimitedError,
        outcome_known=True,
        message="throttled by the vendor (HTTP 429)",
        attributes={"retry_after": None, "raw": None},
    ),
    ErrorReply(
        id="http-500-html",
        status=500,
        body=HTML_500,
        error=FgoServerError,
        outcome_known=False,
        attributes={"status": 500, "sent": True},
    ),
    ErrorReply(
        id="http-503-json",
        status=503,
        body=_json({"Success": False, "Message": "Mentenanta"}),
        error=FgoServerError,
        outcome_known=False,
        method="factura/print",
        attributes={"status": 503},
    ),
    ErrorReply(
        id="http-403-cdn-html",
        status=403,
        body=HTML_403,
        error=FgoApiError,
        outcome_known=True,
        method="factura/print",
        attributes={"status": 403, "raw": None},
    ),
    ErrorReply(
        id="http-400-json-without-success",
        status=400,
        body=_json({"Message": "Cerere invalida"}),
        error=FgoApiError,
        outcome_known=True,
        message="Cerere invalida",
        attributes={"status": 400},
    ),
    ErrorReply(
        id="http-404-success-true",
        status=404,
        body=_json({"Success": True, "Message": "Not found"}),
        error=FgoApiError,
        outcome_known=True,
        message="Not found",
        attributes={"status": 404},
    ),
    ErrorReply(
        id="broken-json",
        status=200,
        body=b'{"Success": true, "Factura": {"Numar": "00',
        error=FgoDecodeError,
        outcome_known=False,
        attributes={"status": 200, "body_excerpt": '{"Success": true, "Factura": {"Numar": "00'},
    ),
    ErrorReply(
        id="empty-body",
        status=200,
        body=b"",
        error=FgoDecodeError,
        outcome_known=False,
        message="an empty reply (HTTP 200)",
    ),
    ErrorReply(
        id="whitespace-body",
        status=200,
        body=b"  \r\n",
        error=FgoDecodeError,
        outcome_known=False,
        message="an empty reply (HTTP 200)",
    ),
    ErrorReply(
        id="html-in-200",
        status=200,
        body=HTML_403,
        error=FgoDecodeError,
        outcome_known=False,
        message="a reply that is not the vendor's JSON (HTTP 200)",
    ),
    ErrorReply(
        id="json-without-success",
        status=200,
        body=_json({"Factura": {"Numar": "001", "Serie": "BV"}}),
        error=FgoDecodeError,
        outcome_known=False,
    ),
    ErrorReply(
        id="json-array",
        status=200,
        body=_json([{"Success": True}]),
        error=FgoDecodeError,
        outcome_known=False,
    ),
    ErrorReply(
        id="result-missing",
        status=200,
        body=_json({"Success": True, "Message": ""}),
        error=FgoDecodeError,
        outcome_known=False,
    ),
    ErrorReply(
        id="result-of-wrong-shape",
        status=200,
        body=_json({"Success": True, "Factura": {"Numar": "001", "Serie": "BV", "Valoare": "x"}}),
        error=FgoDecodeError,
        outcome_known=False,
        method="factura/getstatus",
    ),
    ErrorReply(
        id="result-missing-required-key",
        status=200,
        body=_json({"Success": True, "Factura": {"Serie": "BV"}}),
        error=FgoDecodeError,
        outcome_known=False,
    ),
    ErrorReply(
        id="result-list-not-object",
        status=200,
        body=_json({"Success": True, "Result": ["x"]}),
        error=FgoDecodeError,
        outcome_known=False,
        method="articol/get",
    ),
    ErrorReply(
        id="auth-production-wording",
        status=200,
        body=_json({"Success": False, "Message": AUTH_PRODUCTION}),
        error=FgoAuthenticationError,
        outcome_known=True,
        message=AUTH_PRODUCTION,
    ),
    ErrorReply(
        id="auth-test-wording",
        status=200,
        body=_json({"Success": False, "Message": AUTH_TEST}),
        error=FgoAuthenticationError,
        outcome_known=True,
        method="factura/print",
        message=AUTH_TEST,
    ),
    ErrorReply(
        id="auth-in-http-500-with-a-dotnet-trace",
        status=500,
        body=_json({"Success": False, "Message": DOTNET_TRACE}),
        error=FgoAuthenticationError,
        outcome_known=True,
        message=AUTH_TEST,  # the first line, without the exception's type; the trace stays raw
    ),
    ErrorReply(
        id="not-found",
        status=200,
        body=_json(
            {"Success": False, "Message": "Documentul cu seria BV si numarul 9 nu a fost gasit."}
        ),
        error=FgoNotFoundError,
        outcome_known=True,
        method="factura/getstatus",
        message="Documentul cu seria BV si numarul 9 nu a fost gasit.",
    ),
    ErrorReply(
        id="oops-in-http-500-is-a-server-error",
        status=500,
        body=_json({"Success": False, "Message": OOPS}),
        error=FgoServerError,
        outcome_known=False,
        message=f"the vendor failed (HTTP 500): {OOPS}",
        attributes={"status": 500},
    ),
    ErrorReply(
        id="oops-in-http-200-is-a-server-error",
        status=200,
        body=_json({"Success": False, "Message": OOPS}),
        error=FgoServerError,
        outcome_known=False,
        message=f"the vendor failed (HTTP 200): {OOPS}",
        attributes={"status": 200},
    ),
    ErrorReply(
        id="duplicate-with-a-factura-object",
        status=200,
        body=_json(
            {
                "Success": False,
                "Message": "Factura seria BV numarul 0042 exista deja salvata.",
                "Factura": {"Serie": "BV", "Numar": "0042", "Link": "https://x/f.pdf"},
            }
        ),
        error=FgoDuplicateError,
        outcome_known=True,
        attributes={
            "existing": InvoiceRef(series="BV", number="0042"),
            "existing_link": "https://x/f.pdf",
        },
    ),
    ErrorReply(
        id="duplicate-factura-object-wins-over-the-message",
        status=200,
        body=_json(
            {
                "Success": False,
                "Message": "Factura seria XX numarul 1 exista deja salvata.",
                "Factura": {"Serie": "BV", "Numar": "0042"},
            }
        ),
        error=FgoDuplicateError,
        outcome_known=True,
        attributes={"existing": InvoiceRef(series="BV", number="0042"), "existing_link": None},
    ),
    ErrorReply(
        id="duplicate-named-in-the-message-only",
        status=200,
        body=_json(
            {"Success": False, "Message": "Factura seria BV numarul 7 exista deja salvata."}
        ),
        error=FgoDuplicateError,
        outcome_known=True,
        attributes={"existing": InvoiceRef(series="BV", number="7"), "existing_link": None},
    ),
]


def payload_for(method: str) -> Any:
    """A valid request model for a signed vendor method."""
    import datetime

    from fgo_async.models import (
        ArticleCodes,
        ArticleQuery,
        AwbAssignment,
        ChangedArticlesQuery,
        NoParameters,
        PageRequest,
        Payment,
        PaymentDeletion,
        ReceiptRef,
        Reversal,
    )
    from tests._helpers import invoice

    ref = InvoiceRef(series="BV", number="001")
    payloads: dict[str, Any] = {
        "factura/emitere": invoice(external_id="1042"),
        "factura/print": ref,
        "factura/stergere": ref,
        "factura/anulare": ref,
        "factura/getstatus": ref,
        "factura/listfacturiasociate": ref,
        "factura/stornare": Reversal(invoice=ref),
        "factura/awb": AwbAssignment(invoice=ref, awb="AWB1"),
        "factura/incasare": Payment(
            invoice=ref,
            payment_type="Card",
            amount="10",
            paid_at=datetime.datetime(2025, 8, 1, 12),
        ),
        "factura/stergereincasare": PaymentDeletion(
            invoice=ref, receipt=ReceiptRef(series="CH", number="1")
        ),
        "articol/list": PageRequest(page=1, page_size=10),
        "articol/get": ArticleQuery(code="A1"),
        "articol/getlist": ArticleCodes(codes=["A1"]),
        "articol/articolemodificate": ChangedArticlesQuery(),
        "articol/gestiune": NoParameters(),
        "client/list": PageRequest(page=1, page_size=10),
    }
    return payloads[method]
