"""The invoice a caller issues: the invoice itself, its customer and its lines, and references."""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, ClassVar

import attrs

from . import _checks as checks
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


_CUSTOMER_TYPES = {member.value: member for member in CustomerType}


def _customer_type(value: CustomerType | str) -> Any:
    # "PF", "pf" and " Pf " are all PF; anything else is left for the validator to refuse.
    if isinstance(value, str) and len(value) <= 10:
        return _CUSTOMER_TYPES.get(value.strip().upper(), value)
    return value


def _is_customer_type(owner: Any, field: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, CustomerType):
        return
    message = f"{checks.describe(value)} is not a customer type; use 'PF' or 'PJ'"
    raise checks.refusal(owner, field, "required" if value is None else "choice", message)


def _lines(value: Iterable[InvoiceLine]) -> Any:
    return checks.to_tuple(value)


@attrs.frozen(kw_only=True)
class Customer:
    """The customer of an invoice (``Client[...]`` on the wire).

    ``country`` is required by the vendor since v7.0, and ``county`` when the country is
    Romania. ``tax_id`` is the CUI of a company or the CNP of a person.
    """

    #: The key the vendor nests a customer under: its fields are Client[Denumire]...
    _wire_parent: ClassVar[str] = "Client"

    name: str = attrs.field(metadata=wire("Denumire"), validator=checks.text)
    type: CustomerType = attrs.field(
        metadata=wire("Tip"), converter=_customer_type, validator=_is_customer_type
    )
    country: str = attrs.field(metadata=wire("Tara"), validator=checks.text)
    county: str | None = attrs.field(default=None, metadata=wire("Judet"), validator=checks.text)
    locality: str | None = attrs.field(
        default=None, metadata=wire("Localitate"), validator=checks.text
    )
    address: str | None = attrs.field(default=None, metadata=wire("Adresa"), validator=checks.text)
    tax_id: str | None = attrs.field(default=None, metadata=wire("CodUnic"), validator=checks.text)
    trade_register: str | None = attrs.field(
        default=None, metadata=wire("NrRegCom"), validator=checks.text
    )
    email: str | None = attrs.field(default=None, metadata=wire("Email"), validator=checks.text)
    phone: str | None = attrs.field(default=None, metadata=wire("Telefon"), validator=checks.text)
    external_id: int | None = attrs.field(
        default=None, metadata=wire("IdExtern"), validator=checks.integer
    )
    bank_account: str | None = attrs.field(
        default=None, metadata=wire("ContBancar"), validator=checks.text
    )
    vat_payer: bool | None = attrs.field(
        default=None, metadata=wire("PlatitorTVA"), validator=checks.boolean
    )


@attrs.frozen(kw_only=True)
class InvoiceLine:
    """One line of an invoice (``Continut[i][...]`` on the wire).

    Give exactly one of ``unit_price`` (VAT excluded; FGO computes the total) and
    ``total_price`` (VAT and quantity included; FGO computes the unit price). A negative
    ``quantity`` makes a discount or return line. ``vat_rate`` is a percentage (``21``).
    """

    name: str = attrs.field(metadata=wire("Denumire"), validator=checks.text)
    quantity: Decimal = attrs.field(
        metadata=wire("NrProduse"), converter=checks.to_decimal, validator=checks.decimal
    )
    unit: str = attrs.field(metadata=wire("UM"), validator=checks.text)
    vat_rate: Decimal = attrs.field(
        metadata=wire("CotaTVA"), converter=checks.to_decimal, validator=checks.decimal
    )
    unit_price: Decimal | None = attrs.field(
        default=None,
        metadata=wire("PretUnitar"),
        converter=checks.to_decimal,
        validator=checks.decimal,
    )
    total_price: Decimal | None = attrs.field(
        default=None,
        metadata=wire("PretTotal"),
        converter=checks.to_decimal,
        validator=checks.decimal,
    )
    article_code: str | None = attrs.field(
        default=None, metadata=wire("CodArticol"), validator=checks.text
    )
    warehouse_code: str | None = attrs.field(
        default=None, metadata=wire("CodGestiune"), validator=checks.text
    )
    cost_center: str | None = attrs.field(
        default=None, metadata=wire("CodCentruCost"), validator=checks.text
    )
    description: str | None = attrs.field(
        default=None, metadata=wire("Descriere"), validator=checks.text
    )


@attrs.frozen(kw_only=True)
class Invoice:
    """An invoice, proforma, order or estimate to issue (``factura/emitere``).

    ``external_id`` is the shop's order id (``IdExtern``, at most 36 characters); with
    ``check_duplicate=True`` the vendor refuses a second invoice for it, which is what makes
    retrying an issue call after a lost reply safe.
    """

    series: str = attrs.field(metadata=wire("Serie"), validator=checks.text)
    customer: Customer = attrs.field(
        metadata=wire("Client"), validator=checks.instance_of(Customer)
    )
    lines: tuple[InvoiceLine, ...] = attrs.field(
        metadata=wire("Continut"), converter=_lines, validator=checks.tuple_of(InvoiceLine)
    )
    number: str | None = attrs.field(default=None, metadata=wire("Numar"), validator=checks.text)
    document_type: str | None = attrs.field(
        default=None, metadata=wire("TipFactura"), validator=checks.text
    )
    currency: str | None = attrs.field(default=None, metadata=wire("Valuta"), validator=checks.text)
    issue_date: datetime.date | None = attrs.field(
        default=None, metadata=wire("DataEmitere"), converter=checks.to_date, validator=checks.date
    )
    due_date: datetime.date | None = attrs.field(
        default=None, metadata=wire("DataScadenta"), converter=checks.to_date, validator=checks.date
    )
    text: str | None = attrs.field(default=None, metadata=wire("Text"), validator=checks.text)
    explanations: str | None = attrs.field(
        default=None, metadata=wire("Explicatii"), validator=checks.text
    )
    # v7.0 renamed it; v3.2's "TvaIncasare" is still read back, never sent.
    vat_on_collection: bool | None = attrs.field(
        default=None, metadata=wire("TvaLaIncasare", "TvaIncasare"), validator=checks.boolean
    )
    check_duplicate: bool | None = attrs.field(
        default=None, metadata=wire("VerificareDuplicat"), validator=checks.boolean
    )
    validate_tax_id: bool | None = attrs.field(
        default=None, metadata=wire("ValideazaCodUnicRo"), validator=checks.boolean
    )
    external_id: str | None = attrs.field(
        default=None, metadata=wire("IdExtern"), validator=checks.text
    )

    @property
    def can_deduplicate(self) -> bool:
        """True when the vendor can recognise a repeat of this invoice, so a retry is safe."""
        if not self.check_duplicate:
            return False
        return bool(self.external_id) or bool(self.series and self.number)


@attrs.frozen(kw_only=True)
class InvoiceRef:
    """An issued document: its series and its number exactly as the vendor returned it."""

    series: str = attrs.field(metadata=wire("Serie"), validator=checks.text)
    number: str = attrs.field(metadata=wire("Numar"), validator=checks.text)

    def __str__(self) -> str:
        return f"{self.series}-{self.number}"


@attrs.frozen(kw_only=True)
class ReceiptRef:
    """A recorded payment (a receipt): its series and number."""

    series: str = attrs.field(metadata=wire("Serie"), validator=checks.text)
    number: str = attrs.field(metadata=wire("Numar"), validator=checks.text)

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
