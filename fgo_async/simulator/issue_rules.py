"""The vendor's rules for ``factura/emitere``: read an issue payload, or refuse it as FGO would.

:func:`read_invoice` checks a decoded payload in the vendor's order (series, customer, lengths,
nomenclators, the CUI, the lines) and answers the first problem as a
:class:`~fgo_async.simulator.messages.Refusal` with a Romanian message, as the vendor answers one
problem at a time. What passes comes back as a :class:`RequestedInvoice` with every line's amounts
computed. The maximum lengths are the library's own table
(:data:`fgo_async.validation.MAX_LENGTHS`), read under the wire names, so that the client and
the simulator cannot disagree about them.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from ..models import Customer, Invoice, InvoiceLine
from ..models._fields import WIRE_KEY
from ..validation import MAX_LENGTHS, check_cnp, check_cui
from . import billing, messages, nomenclators
from .assumptions import STRICT, Assumptions
from .messages import Refusal
from .state import DocumentKind, StoredCustomer
from .wire import boolean, decimal, integer, text

__all__ = [
    "VAT_ON_COLLECTION_NAMES",
    "RequestedInvoice",
    "RequestedLine",
    "document_kind",
    "read_date",
    "read_invoice",
]

#: The names of "VAT on collection": v7.0's ``TvaLaIncasare`` (the vendor's authoritative
#: name) and v3.2's ``TvaIncasare``. Both are accepted; the first wins when both are sent.
VAT_ON_COLLECTION_NAMES = ("TvaLaIncasare", "TvaIncasare")

_KINDS = {
    "factura": DocumentKind.INVOICE,
    "proforma": DocumentKind.PROFORMA,
    "comanda": DocumentKind.ORDER,
    "deviz": DocumentKind.ESTIMATE,
}


def _wire_limits(model: type[Any]) -> dict[str, int]:
    names = {field.name: field.metadata.get(WIRE_KEY) for field in attrs.fields(model)}
    return {names[field]: limit for field, limit in MAX_LENGTHS[model].items() if names[field]}


_INVOICE_LIMITS = _wire_limits(Invoice)
_CUSTOMER_LIMITS = _wire_limits(Customer)
_LINE_LIMITS = _wire_limits(InvoiceLine)


@attrs.frozen(kw_only=True)
class RequestedLine:
    """An invoice line as asked for, with its amounts computed."""

    name: str
    unit: str
    quantity: Decimal
    vat_rate: Decimal
    amounts: billing.LineAmounts
    article_code: str | None
    warehouse_code: str | None
    description: str | None
    #: The price exactly as sent, for the identical-invoice fingerprint.
    price_text: str


@attrs.frozen(kw_only=True)
class RequestedInvoice:
    """An issue call that passed the vendor's checks."""

    kind: DocumentKind
    document_type: str
    series: str
    number: str | None
    currency: str
    issue_date: datetime.date
    due_date: datetime.date | None
    text: str | None
    explanations: str | None
    check_duplicate: bool
    external_id: str | None
    #: VAT on collection, as sent (None when not sent).
    vat_on_collection: bool | None
    #: Which of :data:`VAT_ON_COLLECTION_NAMES` the call sent, in that order.
    vat_on_collection_names: tuple[str, ...]
    customer: StoredCustomer
    #: The customer's CUI/CNP can be used to find the customer again (a bad CNP is ignored).
    tax_id_usable: bool
    lines: tuple[RequestedLine, ...]

    @property
    def total(self) -> Decimal:
        """The value of the document, VAT included."""
        return billing.document_total(line.amounts.total for line in self.lines)

    def fingerprint(self) -> str:
        """What makes two issue calls "identical" for the HTTP 409 check."""
        parts: list[str] = [
            self.kind.value,
            self.document_type,
            self.currency,
            self.issue_date.isoformat(),
            self.external_id or "",
            self.customer.name,
            self.customer.tax_id or "",
        ]
        for line in self.lines:
            parts += [
                line.name,
                line.article_code or "",
                str(line.quantity),
                line.price_text,
                str(line.vat_rate),
                line.unit,
            ]
        return "\x1f".join(parts)


def document_kind(document_type: str) -> DocumentKind:
    """The register of a ``TipFactura`` value; the special VAT regimes are invoices."""
    return _KINDS.get(document_type.casefold(), DocumentKind.INVOICE)


def read_date(value: Any, field: str) -> datetime.date | None:
    """A ``yyyy-mm-dd`` date (a time after it is ignored), None when absent."""
    raw = text(value)
    if raw is None or not raw.strip():
        return None
    try:
        return datetime.date.fromisoformat(raw.strip()[:10])
    except ValueError:
        raise Refusal(f"{field}: data {raw} nu are formatul yyyy-mm-dd.") from None


def _optional_text(data: Mapping[str, Any], key: str) -> str | None:
    value = text(data.get(key))
    return value if value is not None and value.strip() else None


def _check_lengths(data: Mapping[str, Any], limits: Mapping[str, int], prefix: str) -> None:
    for key, limit in limits.items():
        value = text(data.get(key))
        if value is not None and len(value) > limit:
            name = f"{prefix}[{key}]" if prefix else key
            raise Refusal(f"Campul {name} depaseste lungimea maxima de {limit} caractere.")


def _lookup(value: str | None, table: tuple[tuple[str, str], ...], field: str, default: str) -> str:
    if value is None:
        return default
    found = nomenclators.lookup(table, value)
    if found is None:
        raise Refusal(messages.not_in_nomenclator(field, value))
    return found[1]


def read_invoice(
    payload: Mapping[str, Any],
    *,
    today: datetime.date,
    assumptions: Assumptions = STRICT,
) -> RequestedInvoice:
    """Check an issue payload as the vendor does; the first problem is refused.

    VAT rates are checked against those in force on the issue date (``today`` by default).
    """
    series = _optional_text(payload, "Serie")
    if series is None:
        raise Refusal(messages.required("Serie"))
    client = payload.get("Client")
    if not isinstance(client, Mapping):
        raise Refusal(messages.required("Client[Denumire]"))
    customer, romanian, tax_id_usable = _read_customer(client, payload)
    _check_lengths(payload, _INVOICE_LIMITS, "")
    document_type = _lookup(
        _optional_text(payload, "TipFactura"), nomenclators.DOCUMENT_TYPES, "TipFactura", "Factura"
    )
    currency = _lookup(
        _optional_text(payload, "Valuta"), nomenclators.CURRENCIES, "Valuta", "RON"
    ).upper()
    issue_date = read_date(payload.get("DataEmitere"), "DataEmitere") or today
    due_date = read_date(payload.get("DataScadenta"), "DataScadenta")
    if assumptions.due_after_issue and due_date is not None and due_date < issue_date:
        raise Refusal("DataScadenta nu poate fi anterioara datei emiterii.")
    lines = _read_lines(payload.get("Continut"), romanian, issue_date)
    vat_names = tuple(n for n in VAT_ON_COLLECTION_NAMES if payload.get(n) not in (None, ""))
    return RequestedInvoice(
        kind=document_kind(document_type),
        document_type=document_type,
        series=series,
        number=_optional_text(payload, "Numar"),
        currency=currency,
        issue_date=issue_date,
        due_date=due_date,
        text=_optional_text(payload, "Text"),
        explanations=_optional_text(payload, "Explicatii"),
        check_duplicate=bool(boolean(payload.get("VerificareDuplicat"), False)),
        external_id=_optional_text(payload, "IdExtern"),
        vat_on_collection=boolean(payload.get(vat_names[0])) if vat_names else None,
        vat_on_collection_names=vat_names,
        customer=customer,
        tax_id_usable=tax_id_usable,
        lines=lines,
    )


def _read_customer(
    client: Mapping[str, Any], payload: Mapping[str, Any]
) -> tuple[StoredCustomer, bool, bool]:
    name = _optional_text(client, "Denumire")
    if name is None:
        raise Refusal(messages.required("Client[Denumire]"))
    kind = (_optional_text(client, "Tip") or "").upper()
    if not kind:
        raise Refusal(messages.required("Client[Tip]"))
    if kind not in {"PF", "PJ"}:
        raise Refusal(messages.not_in_nomenclator("Client[Tip]", kind))
    country = _optional_text(client, "Tara")
    if country is None:
        raise Refusal(messages.required("Client[Tara]"))
    if nomenclators.find_country(country) is None:
        raise Refusal(messages.not_in_nomenclator("Client[Tara]", country))
    romanian = nomenclators.is_romania(country)
    county = _optional_text(client, "Judet")
    if romanian:
        if county is None:
            raise Refusal(messages.required("Client[Judet]", " cand tara clientului este Romania"))
        if nomenclators.find_county(county) is None:
            raise Refusal(messages.not_in_nomenclator("Client[Judet]", county))
    _check_lengths(client, _CUSTOMER_LIMITS, "Client")
    external_id = None
    if client.get("IdExtern") not in (None, ""):
        external_id = integer(client.get("IdExtern"), "Client[IdExtern]")
        if external_id is None or external_id <= 0:
            raise Refusal("Client[IdExtern] trebuie sa fie un numar intreg mai mare decat 0.")
    tax_id = _optional_text(client, "CodUnic")
    tax_id_usable = tax_id is not None
    validate = boolean(payload.get("ValideazaCodUnicRo"), True)
    if romanian and kind == "PJ" and validate and (tax_id is None or not check_cui(tax_id)):
        raise Refusal(
            f"Client[CodUnic]: codul unic {tax_id or ''} nu este valid. Daca nu doriti "
            "validarea, transmiteti ValideazaCodUnicRo=false."
        )
    if romanian and kind == "PF" and tax_id is not None and not check_cnp(tax_id):
        # The vendor ignores an invalid CNP: neither searched for nor saved.
        tax_id, tax_id_usable = None, False
    customer = StoredCustomer(
        name=name,
        type=kind,
        country=country,
        county=county,
        locality=_optional_text(client, "Localitate"),
        address=_optional_text(client, "Adresa"),
        tax_id=tax_id,
        trade_register=_optional_text(client, "NrRegCom"),
        email=_optional_text(client, "Email"),
        phone=_optional_text(client, "Telefon"),
        external_id=external_id,
        bank_account=_optional_text(client, "ContBancar"),
    )
    return customer, romanian, tax_id_usable


def _read_lines(value: Any, romanian: bool, issued: datetime.date) -> tuple[RequestedLine, ...]:
    if not isinstance(value, list) or not value:
        raise Refusal(
            messages.required("Continut", ": factura trebuie sa aiba cel putin un articol")
        )
    lines = []
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise Refusal(f"Continut[{index}] nu este un articol.")
        lines.append(_read_line(item, f"Continut[{index}]", romanian, issued))
    return tuple(lines)


def _read_line(
    item: Mapping[str, Any], where: str, romanian: bool, issued: datetime.date
) -> RequestedLine:
    name = _optional_text(item, "Denumire")
    if name is None:
        raise Refusal(messages.required(f"{where}[Denumire]"))
    unit = _optional_text(item, "UM")
    if unit is None:
        raise Refusal(messages.required(f"{where}[UM]"))
    _check_lengths(item, _LINE_LIMITS, where)
    quantity = decimal(item.get("NrProduse"), f"{where}[NrProduse]")
    if quantity is None:
        raise Refusal(messages.required(f"{where}[NrProduse]"))
    if quantity == 0:
        raise Refusal(f"{where}[NrProduse]: cantitatea trebuie sa fie diferita de 0.")
    vat_text = text(item.get("CotaTVA"))
    vat_rate = decimal(item.get("CotaTVA"), f"{where}[CotaTVA]")
    if vat_text is None or vat_rate is None:
        raise Refusal(messages.required(f"{where}[CotaTVA]"))
    allowed = {value for _, value in nomenclators.vat_rates_on(issued)}
    if romanian and vat_text.strip() not in allowed:
        # The vendor compares the text: 21.0 is not 21 ("valoarea 21,0 nu exista").
        raise Refusal(messages.not_in_nomenclator(f"{where}[CotaTVA]", vat_text.strip()))
    if not 0 <= vat_rate <= 100:
        raise Refusal(messages.not_in_nomenclator(f"{where}[CotaTVA]", vat_text.strip()))
    unit_price_raw, total_raw = item.get("PretUnitar"), item.get("PretTotal")
    has_unit = unit_price_raw not in (None, "")
    has_total = total_raw not in (None, "")
    if has_unit == has_total:
        raise Refusal(
            f"{where}: se transmite fie PretUnitar (calcul clasic), fie PretTotal "
            "(calcul invers), nu amandoua."
            if has_unit
            else f"{where}: lipseste pretul; transmiteti PretUnitar sau PretTotal."
        )
    if has_unit:
        price = decimal(unit_price_raw, f"{where}[PretUnitar]")
        if price is None:
            raise Refusal(f"{where}[PretUnitar]: valoarea {text(unit_price_raw)} nu este un numar.")
        if price < 0:
            raise Refusal(
                f"{where}[PretUnitar]: pretul unitar trebuie sa fie pozitiv; pentru o valoare "
                "negativa transmiteti NrProduse negativ."
            )
        amounts = billing.from_unit_price(quantity, price, vat_rate)
        price_text = f"u{price}"
    else:
        total = decimal(total_raw, f"{where}[PretTotal]")
        if total is None:
            raise Refusal(f"{where}[PretTotal]: valoarea {text(total_raw)} nu este un numar.")
        amounts = billing.from_total(quantity, total, vat_rate)
        price_text = f"t{total}"
    return RequestedLine(
        name=name,
        unit=unit,
        quantity=quantity,
        vat_rate=vat_rate,
        amounts=amounts,
        article_code=_optional_text(item, "CodArticol"),
        warehouse_code=_optional_text(item, "CodGestiune"),
        description=_optional_text(item, "Descriere"),
        price_text=price_text,
    )
