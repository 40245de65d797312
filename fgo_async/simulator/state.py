"""The simulator's in-memory books: companies with their documents, payments, articles, customers.

Plain mutable attrs classes, for the method handlers to change and for tests to inspect
(``sim.company("12345678").documents``). Nothing here knows about HTTP, timing or the wire.

A company keeps indexes over its lists (documents by order id, articles by code and name,
customers by order id, tax id and name), so that one with 100,000 invoices, articles or
customers answers a call as fast as one with ten.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterator
from decimal import Decimal

import attrs

__all__ = [
    "Company",
    "Document",
    "DocumentKind",
    "DocumentStatus",
    "Line",
    "Plan",
    "Receipt",
    "StockChange",
    "StoredArticle",
    "StoredCustomer",
    "Warehouse",
    "tax_key",
]


class Plan(str, enum.Enum):
    """The vendor's subscriptions; some methods exist only on the higher ones."""

    PRO = "Pro"
    PREMIUM = "Premium"
    ENTERPRISE = "Enterprise"


class DocumentKind(str, enum.Enum):
    """The register a document is numbered in. The special VAT regimes are invoices."""

    INVOICE = "Factura"
    PROFORMA = "Proforma"
    ORDER = "Comanda"
    ESTIMATE = "Deviz"

    @property
    def moves_stock(self) -> bool:
        """Only invoices take goods out of stock; proformas, orders and estimates promise."""
        return self is DocumentKind.INVOICE


class DocumentStatus(str, enum.Enum):
    """Where a document stands."""

    ISSUED = "issued"
    CANCELLED = "cancelled"
    DELETED = "deleted"
    REVERSED = "reversed"


@attrs.define(kw_only=True)
class Line:
    """One line of a document, with the amounts FGO computed from it."""

    name: str
    unit: str
    quantity: Decimal
    vat_rate: Decimal
    unit_price: Decimal
    net: Decimal
    vat: Decimal
    total: Decimal
    article_code: str | None = None
    warehouse_code: str | None = None
    description: str | None = None


@attrs.define(kw_only=True)
class StoredCustomer:
    """A customer saved from an invoice, found again by IdExtern, CodUnic, or name and county."""

    name: str
    type: str
    country: str
    county: str | None = None
    locality: str | None = None
    address: str | None = None
    tax_id: str | None = None
    trade_register: str | None = None
    email: str | None = None
    phone: str | None = None
    external_id: int | None = None
    bank: str | None = None
    bank_account: str | None = None


@attrs.define(kw_only=True)
class Receipt:
    """A payment recorded on a document (a receipt, ``chitanta``)."""

    series: str
    number: str
    amount: Decimal
    paid_at: datetime.datetime
    payment_type: str
    currency: str
    document: Document = attrs.field(repr=False)
    #: The proforma or order the payment was made on, when it produced ``document``.
    origin: Document | None = attrs.field(default=None, repr=False)
    account: str | None = None


@attrs.define(kw_only=True, eq=False)
class Document:
    """An invoice, proforma, order or estimate. ``total`` includes VAT."""

    kind: DocumentKind
    document_type: str
    series: str
    number: str
    issue_date: datetime.date
    due_date: datetime.date | None
    currency: str
    customer: StoredCustomer
    lines: list[Line]
    total: Decimal
    link: str
    payment_link: str = ""
    status: DocumentStatus = DocumentStatus.ISSUED
    external_id: str | None = None
    #: VAT on collection as the call sent it; None when it was not sent.
    vat_on_collection: bool | None = None
    #: The names the call sent it under: ``("TvaLaIncasare",)`` (v7.0's name),
    #: ``("TvaIncasare",)`` (v3.2's), both, or none.
    vat_on_collection_names: tuple[str, ...] = ()
    awb: str | None = None
    text: str | None = None
    explanations: str | None = None
    #: Loop time of issue, for the identical-invoice (HTTP 409) window.
    issued_at: float = 0.0
    #: The content fingerprint the identical-invoice check compares.
    fingerprint: str = attrs.field(default="", repr=False)
    receipts: list[Receipt] = attrs.field(factory=list, repr=False)
    reversal_of: Document | None = attrs.field(default=None, repr=False)
    reversed_by: Document | None = attrs.field(default=None, repr=False)
    #: The proforma or order this invoice was produced from by a payment.
    origin: Document | None = attrs.field(default=None, repr=False)
    #: The invoices produced from this proforma or order.
    associated: list[Document] = attrs.field(factory=list, repr=False)

    @property
    def paid(self) -> Decimal:
        """The sum of the payments recorded on this document or made on its proforma."""
        return sum((r.amount for r in self.receipts), Decimal("0"))

    @property
    def ref(self) -> tuple[str, str]:
        """``(series, number)``."""
        return self.series, self.number


@attrs.define(kw_only=True)
class StoredArticle:
    """An article, created on first use by an invoice line or added by a test."""

    name: str
    code: str | None
    unit: str
    unit_price: Decimal
    vat_rate: Decimal
    stock: Decimal = Decimal("0")
    barcode: str | None = None


@attrs.define(kw_only=True)
class StockChange:
    """One entry of the article change log that ``articol/articolemodificate`` reads."""

    at: datetime.datetime
    article: StoredArticle


@attrs.define(kw_only=True)
class Warehouse:
    """A stock management unit (``gestiune``)."""

    code: str
    name: str


def _default_warehouses() -> list[Warehouse]:
    return [Warehouse(code="G1", name="Gestiune principala")]


def tax_key(tax_id: str) -> str:
    """A CUI as FGO compares it: ``RO 18547290`` and ``18547290`` are one company."""
    return tax_id.upper().removeprefix("RO").strip()


@attrs.define(kw_only=True)
class Company:
    """One issuing company: its key, plan, default series, and everything it issued.

    The private key stays out of ``repr``. ``invoice_series`` is where the invoices produced
    by a payment on a proforma or an order are numbered; ``receipt_series`` numbers receipts
    when a payment names no ``SerieChitanta``.
    """

    cod_unic: str
    private_key: str = attrs.field(repr=False)
    plan: Plan = Plan.ENTERPRISE
    invoice_series: str = "FCT"
    receipt_series: str = "CH"
    warehouses: list[Warehouse] = attrs.field(factory=_default_warehouses)
    documents: dict[tuple[DocumentKind, str, str], Document] = attrs.field(factory=dict, repr=False)
    deleted: list[Document] = attrs.field(factory=list, repr=False)
    articles: list[StoredArticle] = attrs.field(factory=list, repr=False)
    customers: list[StoredCustomer] = attrs.field(factory=list, repr=False)
    change_log: list[StockChange] = attrs.field(factory=list, repr=False)
    #: The next automatic number of each (register, series).
    counters: dict[tuple[DocumentKind, str], int] = attrs.field(factory=dict, repr=False)
    receipt_counters: dict[str, int] = attrs.field(factory=dict, repr=False)
    # The indexes: documents are filed and unfiled through file() and unfile(); the article
    # and customer indexes catch up with their lists when these grew (a test may append).
    _order_ids: dict[tuple[DocumentKind, str], Document] = attrs.field(
        factory=dict, init=False, repr=False, eq=False
    )
    _article_codes: dict[str, StoredArticle] = attrs.field(
        factory=dict, init=False, repr=False, eq=False
    )
    _article_names: dict[str, StoredArticle] = attrs.field(
        factory=dict, init=False, repr=False, eq=False
    )
    _articles_indexed: int = attrs.field(default=0, init=False, repr=False, eq=False)
    _customer_keys: dict[tuple[str, object], list[StoredCustomer]] = attrs.field(
        factory=dict, init=False, repr=False, eq=False
    )
    _customers_indexed: int = attrs.field(default=-1, init=False, repr=False, eq=False)

    def file(self, document: Document) -> None:
        """Put ``document`` in the books (replacing one of the same register and number)."""
        self.documents[(document.kind, document.series, document.number)] = document
        if document.external_id:
            self._order_ids.setdefault((document.kind, document.external_id), document)

    def unfile(self, document: Document) -> None:
        """Take ``document`` out of the books (it is deleted)."""
        del self.documents[(document.kind, document.series, document.number)]
        key = (document.kind, document.external_id or "")
        if self._order_ids.get(key) is document:
            del self._order_ids[key]
            # Another document of the same order id, if any, is found from now on.
            for other in self.documents.values():
                if (other.kind, other.external_id) == key:
                    self._order_ids[key] = other
                    break

    def with_order_id(self, kind: DocumentKind, external_id: str) -> Document | None:
        """The first live document of register ``kind`` issued with ``IdExtern``, or None."""
        return self._order_ids.get((kind, external_id))

    def find(self, series: str, number: str, kind: DocumentKind | None = None) -> Document | None:
        """The live document with this series and number; invoices are looked at first."""
        kinds = (kind,) if kind is not None else tuple(DocumentKind)
        for each in kinds:
            found = self.documents.get((each, series, number))
            if found is not None:
                return found
        return None

    def receipts(self) -> Iterator[Receipt]:
        """Every payment recorded, in order."""
        seen: set[int] = set()
        for document in self.documents.values():
            for receipt in document.receipts:
                if id(receipt) not in seen:
                    seen.add(id(receipt))
                    yield receipt

    def find_article(
        self, code: str | None = None, name: str | None = None
    ) -> StoredArticle | None:
        """The article with this code or, failing that, with exactly this name (the first
        one stored, when several have it)."""
        if len(self.articles) != self._articles_indexed:
            self._index_articles()
        if code:
            return self._article_codes.get(code)
        if name:
            return self._article_names.get(name)
        return None

    def _index_articles(self) -> None:
        if len(self.articles) < self._articles_indexed:  # the list was cut: start again
            self._article_codes.clear()
            self._article_names.clear()
            self._articles_indexed = 0
        for article in self.articles[self._articles_indexed :]:
            if article.code:
                self._article_codes.setdefault(article.code, article)
            if article.name:
                self._article_names.setdefault(article.name, article)
        self._articles_indexed = len(self.articles)

    def customers_with(self, kind: str, value: object) -> list[StoredCustomer]:
        """The customers, in the order they were saved, whose ``kind`` is ``value``: kind
        ``"external_id"``, ``"tax"`` (by :func:`tax_key`) or ``"name"``."""
        if self._customers_indexed != len(self.customers):
            self._index_customers()
        return self._customer_keys.get((kind, value), [])

    def customers_changed(self) -> None:
        """Say that a customer's name, tax id or external id changed: the index is rebuilt."""
        self._customers_indexed = -1

    def _index_customers(self) -> None:
        self._customer_keys.clear()
        for customer in self.customers:
            keys: list[tuple[str, object]] = [("name", customer.name)]
            if customer.external_id is not None:
                keys.append(("external_id", customer.external_id))
            if customer.tax_id:
                keys.append(("tax", tax_key(customer.tax_id)))
            for key in keys:
                self._customer_keys.setdefault(key, []).append(customer)
        self._customers_indexed = len(self.customers)
