"""The table of vendor methods: path, HTTP verb, rate bucket, hash input, retry class, types.

This is the one place that says how each method of the vendor's API behaves. The protocol core
builds requests and decodes replies from it, the scheduler takes the bucket and the retry class
from it, and the simulator serves the same paths.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Generic, TypeVar

import attrs

from . import models
from .errors import FgoValidationError, Problem

__all__ = [
    "ARTICLE",
    "ARTICLES_BY_CODE",
    "ARTICLE_PAGE",
    "ASSOCIATED_INVOICES",
    "AWB",
    "CANCEL_INVOICE",
    "CHANGED_ARTICLES",
    "CUSTOMER_PAGE",
    "DELETE_INVOICE",
    "DELETE_PAYMENT",
    "ENDPOINTS",
    "INVOICE_STATUS",
    "ISSUE_INVOICE",
    "PAYMENT",
    "PRINT_INVOICE",
    "REVERSE_INVOICE",
    "VENDOR_LIMITS",
    "WAREHOUSES",
    "Bucket",
    "Endpoint",
    "RetryClass",
    "get_key",
    "nomenclature_endpoint",
]


class Bucket(str, enum.Enum):
    """The vendor's rate-limit families: calls of one bucket and company share a limit."""

    FACTURA = "factura"
    ARTICOL = "articol"
    ARTICOL_LIST = "articol-list"
    ARTICOL_MODIFICATE = "articol-modificate"
    CLIENT = "client"
    NOMENCLATOR = "nomenclator"

    def __str__(self) -> str:
        return self.value


#: The vendor's limits: the least time, in seconds, between the starts of two calls of one
#: bucket and company (the vendor's documents; the client and nomenclator numbers are our
#: decisions). The scheduler's RatePolicy and the simulator both start from this table.
VENDOR_LIMITS: Mapping[Bucket, float] = MappingProxyType(
    {
        Bucket.FACTURA: 1.0,
        Bucket.ARTICOL: 5.0,
        Bucket.ARTICOL_LIST: 30.0,
        Bucket.ARTICOL_MODIFICATE: 30 * 60.0,
        Bucket.CLIENT: 5.0,
        Bucket.NOMENCLATOR: 1.0,
    }
)


class RetryClass(str, enum.Enum):
    """What repeating a call whose reply was lost would do."""

    #: Reads nothing but reads: always safe to repeat.
    READ_ONLY = "read-only"
    #: Creates an invoice: safe to repeat only when the vendor can deduplicate it.
    CREATE = "create"
    #: A repeat records a second payment or a second reversal: never repeated after a lost reply.
    NOT_REPEATABLE = "not-repeatable"
    #: A repeat fails or changes nothing (delete, cancel, AWB): repeated, and its answer reported.
    REPEATABLE = "repeatable"


def get_key(mapping: Mapping[str, Any], name: str) -> Any:
    """``mapping[name]``, matching the key without regard to case; None when absent."""
    if name in mapping:
        return mapping[name]
    wanted = name.lower()
    for key, value in mapping.items():
        if str(key).lower() == wanted:
            return value
    return None


def _whole(reply: Mapping[str, Any]) -> Any:
    return reply


def _part(name: str) -> Callable[[Mapping[str, Any]], Any]:
    def extract(reply: Mapping[str, Any]) -> Any:
        return get_key(reply, name)

    extract.__name__ = f"part_{name}"
    return extract


def _issued(reply: Mapping[str, Any]) -> Any:
    # The stock info sits beside "Factura", not inside it.
    invoice = get_key(reply, "Factura")
    if not isinstance(invoice, Mapping):
        return invoice
    return {**invoice, "InfoStoc": get_key(reply, "InfoStoc")}


RequestT = TypeVar("RequestT")
ResultT = TypeVar("ResultT")


@attrs.frozen(kw_only=True)
class Endpoint(Generic[RequestT, ResultT]):
    """One vendor method, typed by the model it takes and the model it answers.

    ``hash_input`` is the path, in the wire payload, of the text hashed with the credentials
    (``("Client", "Denumire")``), or ``None`` for the methods whose hash has no third part.
    ``extract`` picks the part of a successful reply that becomes ``result_type``.
    """

    name: str
    http_method: str
    bucket: Bucket
    retry_class: RetryClass
    request_type: type[RequestT] | None
    result_type: type[ResultT]
    hash_input: tuple[str, ...] | None = None
    extract: Callable[[Mapping[str, Any]], Any] = _whole
    signed: bool = True

    @property
    def path(self) -> str:
        """The path below the root URL (``factura/emitere``)."""
        return self.name

    @property
    def read_only(self) -> bool:
        """True when the method only reads."""
        return self.retry_class is RetryClass.READ_ONLY


def _invoice_method(
    name: str,
    retry_class: RetryClass,
    result_type: type[ResultT],
    *,
    request_type: type[RequestT],
    hash_input: tuple[str, ...] = ("Numar",),
    extract: Callable[[Mapping[str, Any]], Any] = _whole,
) -> Endpoint[RequestT, ResultT]:
    return Endpoint(
        name=f"factura/{name}",
        http_method="POST",
        bucket=Bucket.FACTURA,
        retry_class=retry_class,
        request_type=request_type,
        result_type=result_type,
        hash_input=hash_input,
        extract=extract,
    )


def _article_method(
    name: str,
    bucket: Bucket,
    request_type: type[RequestT],
    result_type: type[ResultT],
    extract: Callable[[Mapping[str, Any]], Any],
) -> Endpoint[RequestT, ResultT]:
    return Endpoint(
        name=name,
        http_method="POST",
        bucket=bucket,
        retry_class=RetryClass.READ_ONLY,
        request_type=request_type,
        result_type=result_type,
        extract=extract,
    )


def nomenclature_endpoint(name: str) -> Endpoint[None, models.Nomenclature]:
    """The endpoint of one nomenclator (``judet``, ``tva``...): a GET, no company, no hash."""
    if name not in models.NOMENCLATURE_NAMES:
        known = ", ".join(models.NOMENCLATURE_NAMES)
        raise FgoValidationError(
            [
                Problem(
                    field="name",
                    rule="choice",
                    message=f"unknown nomenclator {name!r}; the vendor has {known}",
                )
            ],
            model="nomenclature",
        )
    return Endpoint(
        name=f"nomenclator/{name}",
        http_method="GET",
        bucket=Bucket.NOMENCLATOR,
        retry_class=RetryClass.READ_ONLY,
        request_type=None,
        result_type=models.Nomenclature,
        signed=False,
    )


Ref = models.InvoiceRef

ISSUE_INVOICE = _invoice_method(
    "emitere",
    RetryClass.CREATE,
    models.IssuedInvoice,
    request_type=models.Invoice,
    hash_input=("Client", "Denumire"),
    extract=_issued,
)
PRINT_INVOICE = _invoice_method(
    "print", RetryClass.READ_ONLY, models.InvoiceLink, request_type=Ref, extract=_part("Factura")
)
DELETE_INVOICE = _invoice_method(
    "stergere", RetryClass.REPEATABLE, models.Confirmation, request_type=Ref
)
CANCEL_INVOICE = _invoice_method(
    "anulare", RetryClass.REPEATABLE, models.Confirmation, request_type=Ref
)
INVOICE_STATUS = _invoice_method(
    "getstatus",
    RetryClass.READ_ONLY,
    models.InvoiceStatus,
    request_type=Ref,
    extract=_part("Factura"),
)
PAYMENT = _invoice_method(
    "incasare",
    RetryClass.NOT_REPEATABLE,
    models.PaymentReceipt,
    request_type=models.Payment,
    hash_input=("NumarFactura",),
)
DELETE_PAYMENT = _invoice_method(
    "stergereincasare",
    RetryClass.REPEATABLE,
    models.Confirmation,
    request_type=models.PaymentDeletion,
    hash_input=("NumarFactura",),
)
REVERSE_INVOICE = _invoice_method(
    "stornare",
    RetryClass.NOT_REPEATABLE,
    models.InvoiceLink,
    request_type=models.Reversal,
    extract=_part("Factura"),
)
AWB = _invoice_method(
    "awb", RetryClass.REPEATABLE, models.Confirmation, request_type=models.AwbAssignment
)
ASSOCIATED_INVOICES = _invoice_method(
    "listfacturiasociate", RetryClass.READ_ONLY, models.AssociatedInvoices, request_type=Ref
)
ARTICLE_PAGE = _article_method(
    "articol/list", Bucket.ARTICOL_LIST, models.PageRequest, models.ArticlePage, _part("Result")
)
ARTICLE = _article_method(
    "articol/get", Bucket.ARTICOL, models.ArticleQuery, models.Article, _part("Result")
)
ARTICLES_BY_CODE = _article_method(
    "articol/getlist", Bucket.ARTICOL, models.ArticleCodes, models.Articles, _whole
)
CHANGED_ARTICLES = _article_method(
    "articol/articolemodificate",
    Bucket.ARTICOL_MODIFICATE,
    models.ChangedArticlesQuery,
    models.ChangedArticles,
    _whole,
)
WAREHOUSES = _article_method(
    "articol/gestiune", Bucket.ARTICOL, models.NoParameters, models.Warehouses, _part("Result")
)
CUSTOMER_PAGE: Endpoint[models.PageRequest, models.CustomerPage] = Endpoint(
    name="client/list",
    http_method="POST",
    bucket=Bucket.CLIENT,
    retry_class=RetryClass.READ_ONLY,
    request_type=models.PageRequest,
    result_type=models.CustomerPage,
    extract=_part("Result"),
)

_TABLE: tuple[Endpoint[Any, Any], ...] = (
    ISSUE_INVOICE,
    PRINT_INVOICE,
    DELETE_INVOICE,
    CANCEL_INVOICE,
    INVOICE_STATUS,
    PAYMENT,
    DELETE_PAYMENT,
    REVERSE_INVOICE,
    AWB,
    ASSOCIATED_INVOICES,
    ARTICLE_PAGE,
    ARTICLE,
    ARTICLES_BY_CODE,
    CHANGED_ARTICLES,
    WAREHOUSES,
    CUSTOMER_PAGE,
    *(nomenclature_endpoint(name) for name in models.NOMENCLATURE_NAMES),
)

#: Every vendor method by its name (``"factura/emitere"``).
ENDPOINTS: Mapping[str, Endpoint[Any, Any]] = {endpoint.name: endpoint for endpoint in _TABLE}
