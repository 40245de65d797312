"""What the invoice methods answer: the issued invoice, links, status, payments, confirmations.

Every reply model keeps the vendor's reply in ``raw`` (left out of ``repr`` and equality) for
debugging; the typed fields are decoded tolerantly (money from strings or numbers).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from ._fields import ItemsMixin, local_field, raw_field, wire
from .invoice import InvoiceRef, ReceiptRef


@attrs.frozen(kw_only=True)
class StockInfo:
    """The stock left of an article after an invoice (``InfoStoc``, since v6.4)."""

    account_code: str | None = attrs.field(default=None, metadata=wire("CodConta"))
    name: str | None = attrs.field(default=None, metadata=wire("Nume"))
    stock: Decimal | None = attrs.field(default=None, metadata=wire("Stoc"))
    raw: Mapping[str, Any] = raw_field()


@attrs.frozen(kw_only=True)
class IssuedInvoice:
    """An invoice the vendor issued: its series and number, its PDF link and payment link.

    ``deduplicated`` is True when this call did not make the invoice but found it: an earlier
    attempt whose reply was lost had issued it, and the vendor's duplicate check named it.
    """

    series: str = attrs.field(metadata=wire("Serie"))
    number: str = attrs.field(metadata=wire("Numar"))
    link: str | None = attrs.field(default=None, metadata=wire("Link"))
    payment_link: str | None = attrs.field(default=None, metadata=wire("LinkPlata"))
    stock: tuple[StockInfo, ...] = attrs.field(default=(), metadata=wire("InfoStoc"))
    deduplicated: bool = local_field(
        False, "True when an earlier attempt made the invoice and this call found it"
    )
    raw: Mapping[str, Any] = raw_field()

    @property
    def ref(self) -> InvoiceRef:
        """The reference to use in later calls (print, status, payments, reversal)."""
        return InvoiceRef(series=self.series, number=self.number)


@attrs.frozen(kw_only=True)
class InvoiceLink:
    """A document and its PDF link (from ``print``, ``stornare``, or a payment that issued it)."""

    series: str = attrs.field(metadata=wire("Serie"))
    number: str = attrs.field(metadata=wire("Numar"))
    link: str | None = attrs.field(default=None, metadata=wire("Link"))
    raw: Mapping[str, Any] = raw_field()

    @property
    def ref(self) -> InvoiceRef:
        """The reference of the document."""
        return InvoiceRef(series=self.series, number=self.number)


@attrs.frozen(kw_only=True)
class PaymentRecord:
    """One payment recorded on an invoice (``Incasari`` of ``getstatus``)."""

    amount: Decimal | None = attrs.field(default=None, metadata=wire("SumaIncasata"))
    date: datetime.date | None = attrs.field(default=None, metadata=wire("DataIncasare"))
    currency: str | None = attrs.field(default=None, metadata=wire("Valuta"))
    raw: Mapping[str, Any] = raw_field()


@attrs.frozen(kw_only=True)
class InvoiceStatus:
    """The value of an invoice, the amount paid, and the payments (``factura/getstatus``)."""

    series: str | None = attrs.field(default=None, metadata=wire("Serie"))
    number: str | None = attrs.field(default=None, metadata=wire("Numar"))
    total: Decimal | None = attrs.field(default=None, metadata=wire("Valoare"))
    paid: Decimal | None = attrs.field(default=None, metadata=wire("ValoareAchitata"))
    payments: tuple[PaymentRecord, ...] = attrs.field(default=(), metadata=wire("Incasari"))
    raw: Mapping[str, Any] = raw_field()

    @property
    def balance(self) -> Decimal | None:
        """What is left to pay, when the vendor gave both the total and the amount paid."""
        if self.total is None or self.paid is None:
            return None
        return self.total - self.paid

    @property
    def is_paid(self) -> bool:
        """True when the amount paid covers the total."""
        balance = self.balance
        return balance is not None and balance <= 0


@attrs.frozen(kw_only=True)
class PaymentReceipt:
    """A recorded payment: its receipt, and the invoice it produced from an order or proforma."""

    receipt: ReceiptRef | None = attrs.field(default=None, metadata=wire("Incasare"))
    invoice: InvoiceLink | None = attrs.field(default=None, metadata=wire("Factura"))
    raw: Mapping[str, Any] = raw_field()


@attrs.frozen(kw_only=True)
class Confirmation:
    """The answer of a method that only confirms (delete, cancel, AWB, delete payment)."""

    message: str | None = attrs.field(default=None, metadata=wire("Message"))
    raw: Mapping[str, Any] = raw_field()


@attrs.frozen(kw_only=True)
class AssociatedInvoice:
    """An invoice issued from a proforma (``factura/listfacturiasociate``)."""

    series: str | None = attrs.field(default=None, metadata=wire("Serie"))
    number: str | None = attrs.field(default=None, metadata=wire("Numar"))
    total: Decimal | None = attrs.field(default=None, metadata=wire("Valoare"))
    paid: Decimal | None = attrs.field(default=None, metadata=wire("ValoareAchitata"))
    issue_date: datetime.date | None = attrs.field(default=None, metadata=wire("DataEmitere"))
    link: str | None = attrs.field(default=None, metadata=wire("Link"))
    raw: Mapping[str, Any] = raw_field()


@attrs.frozen(kw_only=True)
class AssociatedInvoices(ItemsMixin[AssociatedInvoice]):
    """The invoices issued from one proforma; iterate it like a tuple."""

    items: tuple[AssociatedInvoice, ...] = attrs.field(default=(), metadata=wire("Facturi"))
    raw: Mapping[str, Any] = raw_field()


__all__ = [
    "AssociatedInvoice",
    "AssociatedInvoices",
    "Confirmation",
    "InvoiceLink",
    "InvoiceStatus",
    "IssuedInvoice",
    "PaymentReceipt",
    "PaymentRecord",
    "StockInfo",
]
