"""The invoice a caller issues: the invoice itself, its customer and its lines, and references."""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable
from decimal import Decimal

import attrs

from ..errors import FgoValidationError, Problem
from . import _fields
from ._fields import DecimalInput, wire


class CustomerType(str, enum.Enum):
    """The vendor's customer types (``nomenclator/tipclient``)."""

    #: A person (persoana fizica).
    PF = "PF"
    #: A company (persoana juridica).
    PJ = "PJ"

    def __str__(self) -> str:
        return self.value


class DocumentType:
    """Common values of ``TipFactura`` (``nomenclator/tipfactura`` has the full list)."""

    INVOICE = "Factura"
    PROFORMA = "Proforma"
    ORDER = "Comanda"
    ESTIMATE = "Deviz"


class Currency:
    """Common currency codes (``nomenclator/valuta`` has the full list)."""

    RON = "RON"
    EUR = "EUR"
    USD = "USD"
    GBP = "GBP"


def _customer_type(value: CustomerType | str) -> CustomerType:
    if isinstance(value, CustomerType):
        return value
    try:
        return CustomerType(str(value).strip().upper())
    except ValueError:
        raise FgoValidationError(
            [
                Problem(
                    field="type",
                    rule="choice",
                    wire_name="Client[Tip]",
                    message=f"{value!r} is not a customer type; use 'PF' or 'PJ'",
                )
            ]
        ) from None


def _lines(value: Iterable[InvoiceLine]) -> tuple[InvoiceLine, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Customer:
    """The customer of an invoice (``Client[...]`` on the wire).

    ``country`` is required by the vendor since v7.0, and ``county`` when the country is
    Romania. ``tax_id`` is the CUI of a company or the CNP of a person.
    """

    name: str = attrs.field(metadata=wire("Denumire"))
    type: CustomerType = attrs.field(converter=_customer_type, metadata=wire("Tip"))
    country: str = attrs.field(metadata=wire("Tara"))
    county: str | None = attrs.field(default=None, metadata=wire("Judet"))
    locality: str | None = attrs.field(default=None, metadata=wire("Localitate"))
    address: str | None = attrs.field(default=None, metadata=wire("Adresa"))
    tax_id: str | None = attrs.field(default=None, metadata=wire("CodUnic"))
    trade_register: str | None = attrs.field(default=None, metadata=wire("NrRegCom"))
    email: str | None = attrs.field(default=None, metadata=wire("Email"))
    phone: str | None = attrs.field(default=None, metadata=wire("Telefon"))
    external_id: int | None = attrs.field(default=None, metadata=wire("IdExtern"))
    bank_account: str | None = attrs.field(default=None, metadata=wire("ContBancar"))
    vat_payer: bool | None = attrs.field(default=None, metadata=wire("PlatitorTVA"))


@attrs.frozen(kw_only=True)
class InvoiceLine:
    """One line of an invoice (``Continut[i][...]`` on the wire).

    Give exactly one of ``unit_price`` (VAT excluded; FGO computes the total) and
    ``total_price`` (VAT and quantity included; FGO computes the unit price). A negative
    ``quantity`` makes a discount or return line. ``vat_rate`` is a percentage (``21``).
    """

    name: str = attrs.field(metadata=wire("Denumire"))
    quantity: Decimal = attrs.field(converter=_fields.quantity, metadata=wire("NrProduse"))
    unit: str = attrs.field(metadata=wire("UM"))
    vat_rate: Decimal = attrs.field(converter=_fields.vat_rate, metadata=wire("CotaTVA"))
    unit_price: Decimal | None = attrs.field(
        default=None, converter=_fields.unit_price, metadata=wire("PretUnitar")
    )
    total_price: Decimal | None = attrs.field(
        default=None, converter=_fields.total_price, metadata=wire("PretTotal")
    )
    article_code: str | None = attrs.field(default=None, metadata=wire("CodArticol"))
    warehouse_code: str | None = attrs.field(default=None, metadata=wire("CodGestiune"))
    cost_center: str | None = attrs.field(default=None, metadata=wire("CodCentruCost"))
    description: str | None = attrs.field(default=None, metadata=wire("Descriere"))


@attrs.frozen(kw_only=True)
class Invoice:
    """An invoice, proforma, order or estimate to issue (``factura/emitere``).

    ``external_id`` is the shop's order id (``IdExtern``, at most 36 characters); with
    ``check_duplicate=True`` the vendor refuses a second invoice for it, which is what makes
    retrying an issue call after a lost reply safe.
    """

    series: str = attrs.field(metadata=wire("Serie"))
    customer: Customer = attrs.field(metadata=wire("Client"))
    lines: tuple[InvoiceLine, ...] = attrs.field(converter=_lines, metadata=wire("Continut"))
    number: str | None = attrs.field(default=None, metadata=wire("Numar"))
    document_type: str | None = attrs.field(default=None, metadata=wire("TipFactura"))
    currency: str | None = attrs.field(default=None, metadata=wire("Valuta"))
    issue_date: datetime.date | None = attrs.field(default=None, metadata=wire("DataEmitere"))
    due_date: datetime.date | None = attrs.field(default=None, metadata=wire("DataScadenta"))
    text: str | None = attrs.field(default=None, metadata=wire("Text"))
    explanations: str | None = attrs.field(default=None, metadata=wire("Explicatii"))
    # v7.0 renamed it; v3.2's "TvaIncasare" is still read back, never sent.
    vat_on_collection: bool | None = attrs.field(
        default=None, metadata=wire("TvaLaIncasare", "TvaIncasare")
    )
    check_duplicate: bool | None = attrs.field(default=None, metadata=wire("VerificareDuplicat"))
    validate_tax_id: bool | None = attrs.field(default=None, metadata=wire("ValideazaCodUnicRo"))
    external_id: str | None = attrs.field(default=None, metadata=wire("IdExtern"))

    @property
    def can_deduplicate(self) -> bool:
        """True when the vendor can recognise a repeat of this invoice, so a retry is safe."""
        if not self.check_duplicate:
            return False
        return bool(self.external_id) or bool(self.series and self.number)


@attrs.frozen(kw_only=True)
class InvoiceRef:
    """An issued document: its series and its number exactly as the vendor returned it."""

    series: str = attrs.field(metadata=wire("Serie"))
    number: str = attrs.field(metadata=wire("Numar"))

    def __str__(self) -> str:
        return f"{self.series}-{self.number}"


@attrs.frozen(kw_only=True)
class ReceiptRef:
    """A recorded payment (a receipt): its series and number."""

    series: str = attrs.field(metadata=wire("Serie"))
    number: str = attrs.field(metadata=wire("Numar"))

    def __str__(self) -> str:
        return f"{self.series}-{self.number}"


__all__ = [
    "Currency",
    "Customer",
    "CustomerType",
    "DecimalInput",
    "DocumentType",
    "Invoice",
    "InvoiceLine",
    "InvoiceRef",
    "ReceiptRef",
]
