"""Requests for the vendor methods other than issuing: payments, reversals, AWBs, lookups."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs

from . import _checks as checks
from ._fields import flatten, wire
from .invoice import InvoiceRef, ReceiptRef


@attrs.frozen(kw_only=True)
class Payment:
    """A payment to record on an invoice, proforma or order (``factura/incasare``).

    ``payment_type`` comes from ``nomenclator/tipincasare`` (for example ``"Card"``);
    ``paid_at`` is sent as ``yyyy-mm-dd hh:mm:ss``. A payment on an order or a proforma makes
    the vendor issue the invoice for it (v6.9).
    """

    invoice: InvoiceRef = attrs.field(
        metadata=flatten(series="SerieFactura", number="NumarFactura"),
        validator=checks.instance_of(InvoiceRef),
    )
    payment_type: str = attrs.field(metadata=wire("TipIncasare"), validator=checks.text)
    amount: Decimal = attrs.field(
        metadata=wire("SumaIncasata"), converter=checks.to_decimal, validator=checks.decimal
    )
    paid_at: datetime.datetime = attrs.field(
        metadata=wire("DataIncasare"), converter=checks.to_date_time, validator=checks.date_time
    )
    receipt_series: str | None = attrs.field(
        default=None, metadata=wire("SerieChitanta"), validator=checks.text
    )
    account: str | None = attrs.field(
        default=None, metadata=wire("ContIncasare"), validator=checks.text
    )
    document_type: str | None = attrs.field(
        default=None, metadata=wire("TipFactura"), validator=checks.text
    )


@attrs.frozen(kw_only=True)
class PaymentDeletion:
    """The payment (receipt) to delete from an invoice (``factura/stergereincasare``)."""

    invoice: InvoiceRef = attrs.field(
        metadata=flatten(series="SerieFactura", number="NumarFactura"),
        validator=checks.instance_of(InvoiceRef),
    )
    receipt: ReceiptRef = attrs.field(
        metadata=flatten(series="SerieIncasare", number="NumarIncasare"),
        validator=checks.instance_of(ReceiptRef),
    )


@attrs.frozen(kw_only=True)
class Reversal:
    """A reversal (storno) of an invoice (``factura/stornare``).

    ``series`` and ``number`` are those wanted for the reversal invoice; the vendor picks them
    when they are not given. ``issue_date`` defaults to the day of the call on the vendor's side.
    """

    invoice: InvoiceRef = attrs.field(
        metadata=flatten(series="Serie", number="Numar"), validator=checks.instance_of(InvoiceRef)
    )
    series: str | None = attrs.field(
        default=None, metadata=wire("SerieStorno"), validator=checks.text
    )
    number: str | None = attrs.field(
        default=None, metadata=wire("NumarStorno"), validator=checks.text
    )
    issue_date: datetime.date | None = attrs.field(
        default=None, metadata=wire("DataEmitere"), converter=checks.to_date, validator=checks.date
    )


@attrs.frozen(kw_only=True)
class AwbAssignment:
    """A courier AWB number to attach to an invoice (``factura/awb``)."""

    invoice: InvoiceRef = attrs.field(
        metadata=flatten(series="Serie", number="Numar"), validator=checks.instance_of(InvoiceRef)
    )
    awb: str = attrs.field(metadata=wire("AWB"), validator=checks.text)


@attrs.frozen(kw_only=True)
class PageRequest:
    """One page of a paged list (``articol/list``, ``client/list``); pages count from 1."""

    page: int = attrs.field(metadata=wire("NrPagina"), validator=checks.integer)
    page_size: int = attrs.field(metadata=wire("NrArticole"), validator=checks.integer)


@attrs.frozen(kw_only=True)
class ArticleQuery:
    """One article by its code (``articol/get``)."""

    code: str = attrs.field(metadata=wire("CodArticol"), validator=checks.text)


def _codes(value: Iterable[str]) -> Any:
    return checks.to_tuple(value)


@attrs.frozen(kw_only=True)
class ArticleCodes:
    """Several articles by their codes, at most 30 (``articol/getlist``)."""

    codes: tuple[str, ...] = attrs.field(
        metadata=wire("Coduri"), converter=_codes, validator=checks.tuple_of(str)
    )


@attrs.frozen(kw_only=True)
class ChangedArticlesQuery:
    """The window of ``articol/articolemodificate``: from ``hours`` ago to ``until_hours`` ago."""

    hours: int = attrs.field(default=24, metadata=wire("NumarOre"), validator=checks.integer)
    until_hours: int | None = attrs.field(
        default=None, metadata=wire("NumarOrePanaLa"), validator=checks.integer
    )


@attrs.frozen(kw_only=True)
class NoParameters:
    """The body of a method that takes nothing but the credentials (``articol/gestiune``)."""


__all__ = [
    "ArticleCodes",
    "ArticleQuery",
    "AwbAssignment",
    "ChangedArticlesQuery",
    "NoParameters",
    "PageRequest",
    "Payment",
    "PaymentDeletion",
    "Reversal",
]
