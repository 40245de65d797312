"""Local checks run before a call is sent or queued, so that bad input costs no rate-limit slot.

Pure functions: :func:`check_cui`, :func:`check_cnp` and :func:`check_iban` answer one question
each; :func:`find_problems` lists every problem of a request model (all the problems of one
invoice together, each with its field path such as ``lines[2].unit_price`` and the vendor's name
of the field); :func:`ensure_valid` raises :class:`~fgo_async.errors.FgoValidationError` for the
errors and emits :class:`~fgo_async.errors.FgoValidationWarning` for what the vendor tolerates;
:func:`check_argument` checks one plain argument of a client method.

The kind of each value (a string, a Decimal, a date) is checked by the models themselves when
they are built (:mod:`fgo_async.models._checks`); here it is checked again only so that a model
built around those checks is reported, not crashed on, and the rules run on the rest.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, NoReturn

import attrs

from .errors import FgoValidationError, FgoValidationWarning, Problem
from .models import (
    ArticleCodes,
    ArticleQuery,
    AwbAssignment,
    ChangedArticlesQuery,
    Customer,
    CustomerType,
    Invoice,
    InvoiceLine,
    InvoiceRef,
    PageRequest,
    Payment,
    PaymentDeletion,
    ReceiptRef,
    Reversal,
)
from .models._checks import describe, type_problems
from .models._fields import FLATTEN_KEY, WIRE_KEY
from .signing import flatten_diacritics

__all__ = [
    "MAX_LENGTHS",
    "check_argument",
    "check_cnp",
    "check_cui",
    "check_iban",
    "ensure_valid",
    "find_problems",
    "is_romania",
]

#: The vendor's maximum lengths (its API documents, v7.0), by model and field.
MAX_LENGTHS: dict[type[Any], dict[str, int]] = {
    Invoice: {
        "series": 50, "number": 50, "document_type": 50, "currency": 3, "text": 2000,
        "explanations": 2000, "external_id": 36,
    },
    Customer: {
        "name": 255, "tax_id": 128, "trade_register": 128, "email": 100, "phone": 100,
        "country": 128, "county": 100, "locality": 100, "address": 500, "type": 2,
        "bank_account": 100,
    },
    InvoiceLine: {
        "name": 1000, "article_code": 128, "warehouse_code": 128, "description": 4000, "unit": 5,
    },
    InvoiceRef: {"series": 50, "number": 50},
    ReceiptRef: {"series": 50, "number": 50},
    Payment: {"payment_type": 50, "receipt_series": 50, "account": 50, "document_type": 50},
    Reversal: {"series": 50, "number": 50},
    AwbAssignment: {"awb": 128},
    ArticleQuery: {"code": 128},
}  # fmt: skip

#: Decimal places the vendor keeps: prices XXXX.XX, quantities XXXX.XXX.
PRICE_PLACES = 2
QUANTITY_PLACES = 3
MAX_ARTICLE_CODES = 30
MAX_CHANGED_HOURS = 170

_ROMANIA = {"romania", "ro", "rou"}
_CUI_KEY = (7, 5, 3, 2, 1, 7, 5, 3, 2)
_CNP_KEY = (2, 7, 9, 1, 4, 6, 3, 5, 8, 2, 7, 9)


def is_romania(country: str | None) -> bool:
    """True for the ways the vendor's nomenclator and shops spell Romania (``RO``, ``România``)."""
    if country is None:
        return False
    return flatten_diacritics(country).strip().casefold() in _ROMANIA


def check_cui(value: str) -> bool:
    """True when ``value`` is a Romanian company tax id (CUI/CIF) with a correct check digit.

    An ``RO`` prefix (VAT payers) and spaces are allowed: ``RO 18547290`` is valid.
    """
    text = re.sub(r"\s+", "", value).upper()
    text = text.removeprefix("RO")
    if not text.isdigit() or not 2 <= len(text) <= 10 or text[0] == "0":
        return False
    body, control = text[:-1].rjust(9, "0"), int(text[-1])
    checksum = sum(int(d) * k for d, k in zip(body, _CUI_KEY, strict=True)) * 10 % 11
    return (0 if checksum == 10 else checksum) == control


def check_cnp(value: str) -> bool:
    """True when ``value`` is a Romanian personal numeric code (CNP) with a correct check digit."""
    text = value.strip()
    if len(text) != 13 or not text.isdigit() or text[0] == "0":
        return False
    checksum = sum(int(d) * k for d, k in zip(text[:12], _CNP_KEY, strict=True)) % 11
    return (1 if checksum == 10 else checksum) == int(text[12])


def check_iban(value: str) -> bool:
    """True when ``value`` is an IBAN with correct check digits (ISO 13616, mod 97)."""
    text = re.sub(r"\s+", "", value).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{1,30}", text):
        return False
    rearranged = text[4:] + text[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _wire_name(model: type[Any], field: str) -> str | None:
    for attribute in attrs.fields(model):
        if attribute.name == field:
            name = attribute.metadata.get(WIRE_KEY)
            return name if isinstance(name, str) else None
    return None


def _places(value: Decimal) -> int:
    """The decimal places of ``value``, trailing zeros not counted: ``19.990`` has 2."""
    # A Decimal's text is "19.990" unless it is tiny or huge ("1E-7"): counting after the
    # point is several times quicker than normalize().as_tuple(), and this runs for every price.
    text = str(value)
    if "E" in text or "e" in text:
        exponent = value.normalize().as_tuple().exponent
        return -exponent if isinstance(exponent, int) and exponent < 0 else 0
    point = text.find(".")
    return 0 if point < 0 else len(text[point + 1 :].rstrip("0"))


@attrs.define
class _Findings:
    """Collects problems, prefixing field paths as it goes down into nested models."""

    problems: list[Problem] = attrs.field(factory=list)

    def add(
        self,
        path: str,
        wire_name: str | None,
        rule: str,
        message: str,
        *,
        warning: bool = False,
    ) -> None:
        self.problems.append(
            Problem(field=path, rule=rule, message=message, wire_name=wire_name, warning=warning)
        )


def _path(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _wire_path(prefix: str | None, name: str | None) -> str | None:
    if name is None:
        return None
    return f"{prefix}[{name}]" if prefix else name


class _Scope:
    """One model being checked, with its Python and wire path prefixes."""

    def __init__(
        self,
        findings: _Findings,
        model: Any,
        path: str = "",
        wire: str | None = None,
        flat_names: Mapping[str, str] | None = None,
    ):
        self.findings = findings
        self.model = model
        self.path = path
        self.wire = wire
        self.flat_names = flat_names

    def add(self, field: str, rule: str, message: str, *, warning: bool = False) -> None:
        # ``field`` may name an item of a list: lines[2] is Continut[2] on the wire.
        name, bracket, index = field.partition("[")
        if self.flat_names is not None:
            wire_name = self.flat_names.get(name)
        else:
            wire_name = _wire_path(self.wire, _wire_name(type(self.model), name))
        if wire_name is not None and bracket:
            wire_name = f"{wire_name}[{index}"
        self.findings.add(_path(self.path, field), wire_name, rule, message, warning=warning)

    def well_typed(self) -> bool:
        """Report each field of the wrong kind; True when there is none, so the rules may run.

        The models refuse such values on construction; they can only come from a model built
        with attrs' validators disabled or altered behind its back.
        """
        problems = type_problems(self.model)
        for problem in problems:
            self.add(problem.field, problem.rule, problem.message)
        return not problems

    def required(self, *fields: str) -> None:
        for field in fields:
            value = getattr(self.model, field)
            if value is None or (isinstance(value, str) and not value.strip()):
                self.add(field, "required", "is required")

    def lengths(self) -> None:
        for field, limit in MAX_LENGTHS.get(type(self.model), {}).items():
            value = getattr(self.model, field)
            if isinstance(value, str) and len(value) > limit:
                self.add(field, "max_length", f"is {len(value)} characters long; at most {limit}")

    def places(self, field: str, places: int) -> None:
        value = getattr(self.model, field)
        if isinstance(value, Decimal) and _places(value) > places:
            self.add(field, "decimal_places", f"{value} has more than {places} decimal places")


def _flat_scope(findings: _Findings, parent: Any, field: str) -> _Scope:
    """The scope of a reference the vendor receives as flat keys (``NumarFactura``)."""
    names = attrs.fields_dict(type(parent))[field].metadata.get(FLATTEN_KEY, {})
    return _Scope(findings, getattr(parent, field), field, flat_names=names)


def _check_ref(scope: _Scope) -> None:
    if not scope.well_typed():
        return
    scope.required("series", "number")
    scope.lengths()


def _check_customer(scope: _Scope, validate_tax_id: bool | None) -> None:
    customer: Customer = scope.model
    if not scope.well_typed():
        return
    scope.required("name", "country")
    scope.lengths()
    romanian = is_romania(customer.country)
    if romanian:
        scope.required("county")
    if customer.external_id is not None and customer.external_id <= 0:
        scope.add("external_id", "positive_int", "must be a whole number greater than 0")
    tax_id = customer.tax_id.strip() if isinstance(customer.tax_id, str) else ""
    if romanian and customer.type is CustomerType.PJ and validate_tax_id is not False:
        if not tax_id:
            scope.add(
                "tax_id",
                "required",
                "is required for a Romanian company (or set validate_tax_id=False)",
            )
        elif not check_cui(tax_id):
            scope.add(
                "tax_id",
                "cui_check_digit",
                f"{tax_id!r} is not a valid Romanian CUI (wrong check digit or form)",
            )
    if romanian and customer.type is CustomerType.PF and tax_id and not check_cnp(tax_id):
        scope.add(
            "tax_id",
            "cnp_check_digit",
            f"{tax_id!r} is not a valid CNP; FGO will ignore it",
            warning=True,
        )
    if (
        isinstance(customer.bank_account, str)
        and customer.bank_account.strip()
        and not (check_iban(customer.bank_account))
    ):
        scope.add(
            "bank_account", "iban_check_digits", "is not a valid IBAN (check digits)", warning=True
        )


def _check_line(scope: _Scope) -> None:
    line: InvoiceLine = scope.model
    if not scope.well_typed():
        return
    scope.required("name", "unit")
    scope.lengths()
    if line.quantity == 0:
        scope.add("quantity", "not_zero", "must not be 0 (use a negative quantity for a return)")
    scope.places("quantity", QUANTITY_PLACES)
    if (line.unit_price is None) == (line.total_price is None):
        scope.add(
            "unit_price",
            "one_price",
            "give exactly one of unit_price (VAT excluded) and total_price (VAT included)",
        )
    if line.unit_price is not None and line.unit_price < 0:
        scope.add(
            "unit_price",
            "not_negative",
            "must not be negative; put the sign on the quantity instead",
        )
    scope.places("unit_price", PRICE_PLACES)
    scope.places("total_price", PRICE_PLACES)
    if not 0 <= line.vat_rate <= 100:
        scope.add("vat_rate", "percentage", f"{line.vat_rate} is not a percentage from 0 to 100")
    elif 0 < line.vat_rate < 1:
        scope.add(
            "vat_rate",
            "percentage",
            f"{line.vat_rate} looks like a fraction; send the percentage (21, not 0.21)",
        )


def _check_invoice(findings: _Findings, invoice: Invoice) -> None:
    scope = _Scope(findings, invoice)
    if scope.well_typed():
        _check_invoice_fields(scope, invoice)
    # A customer or a line of the wrong kind was reported above; the others are checked.
    customer: object = invoice.customer
    if isinstance(customer, Customer):
        _check_customer(_Scope(findings, customer, "customer", "Client"), invoice.validate_tax_id)
    lines: object = invoice.lines
    if isinstance(lines, tuple):
        for index, line in enumerate(lines):
            if isinstance(line, InvoiceLine):
                _check_line(_Scope(findings, line, f"lines[{index}]", f"Continut[{index}]"))


def _check_invoice_fields(scope: _Scope, invoice: Invoice) -> None:
    scope.required("series")
    scope.lengths()
    if invoice.currency is not None and not re.fullmatch(r"[A-Z]{3}", invoice.currency):
        scope.add("currency", "iso_4217", f"{invoice.currency!r} is not a 3-letter currency code")
    if invoice.check_duplicate and not invoice.can_deduplicate:
        scope.add(
            "check_duplicate",
            "needs_key",
            "has no effect without external_id, or series and number together",
            warning=True,
        )
    if invoice.due_date and invoice.issue_date and invoice.due_date < invoice.issue_date:
        scope.add("due_date", "after_issue_date", "is before the issue date")
    if not invoice.lines:
        scope.add("lines", "required", "an invoice needs at least one line")


def _check_payment(findings: _Findings, payment: Payment) -> None:
    scope = _Scope(findings, payment)
    if not scope.well_typed():
        return
    _check_ref(_flat_scope(findings, payment, "invoice"))
    scope.required("payment_type", "paid_at")
    scope.lengths()
    if payment.amount == 0:
        scope.add("amount", "not_zero", "must not be 0")
    scope.places("amount", PRICE_PLACES)


def _iter_problems(model: Any) -> Iterator[Problem]:
    findings = _Findings()
    if isinstance(model, Invoice):
        _check_invoice(findings, model)
    elif isinstance(model, (InvoiceRef, ReceiptRef)):
        _check_ref(_Scope(findings, model))
    elif isinstance(model, Payment):
        _check_payment(findings, model)
    elif isinstance(model, (PaymentDeletion, Reversal, AwbAssignment)):
        _check_operation(findings, model)
    elif isinstance(model, ArticleQuery):
        scope = _Scope(findings, model)
        if scope.well_typed():
            scope.required("code")
            scope.lengths()
    elif isinstance(model, ArticleCodes):
        _check_codes(_Scope(findings, model))
    elif isinstance(model, ChangedArticlesQuery):
        _check_window(_Scope(findings, model))
    elif isinstance(model, PageRequest):
        scope = _Scope(findings, model)
        if scope.well_typed():
            if model.page < 1:
                scope.add("page", "minimum", "pages count from 1")
            if model.page_size < 1:
                scope.add("page_size", "minimum", "must be at least 1")
    yield from findings.problems


def _check_operation(
    findings: _Findings, model: PaymentDeletion | Reversal | AwbAssignment
) -> None:
    """A deletion of a payment, a reversal or an AWB: the references they name, and their own."""
    scope = _Scope(findings, model)
    if not scope.well_typed():
        return
    _check_ref(_flat_scope(findings, model, "invoice"))
    if isinstance(model, PaymentDeletion):
        _check_ref(_flat_scope(findings, model, "receipt"))
    elif isinstance(model, AwbAssignment):
        scope.required("awb")
    scope.lengths()


def _check_codes(scope: _Scope) -> None:
    if not scope.well_typed():
        return
    codes: tuple[str, ...] = scope.model.codes
    if not codes:
        scope.add("codes", "required", "give at least one article code")
    if len(codes) > MAX_ARTICLE_CODES:
        scope.add(
            "codes",
            "max_items",
            f"{len(codes)} codes; the vendor takes at most {MAX_ARTICLE_CODES} per call",
        )
    for index, code in enumerate(codes):
        if not code.strip():
            scope.add(f"codes[{index}]", "required", "must be a non-empty string")


def _check_window(scope: _Scope) -> None:
    query: ChangedArticlesQuery = scope.model
    if not scope.well_typed():
        return
    if not 1 <= query.hours <= MAX_CHANGED_HOURS:
        scope.add("hours", "range", f"must be from 1 to {MAX_CHANGED_HOURS}")
    if query.until_hours is not None and not 0 <= query.until_hours < query.hours:
        scope.add("until_hours", "range", "must be from 0 to less than hours")


def find_problems(model: Any) -> list[Problem]:
    """Every problem of a request model, errors and warnings, in the order of its fields."""
    return list(_iter_problems(model))


def ensure_valid(model: Any, *, stacklevel: int | None = None) -> None:
    """Raise FgoValidationError listing every error of ``model``; warn about the rest.

    The warnings point at the caller ``stacklevel`` frames above this function (1: its
    caller), or by default at the first frame outside fgo_async: the application's line.
    """
    problems = find_problems(model)
    errors = [p for p in problems if not p.warning]
    if errors:
        raise FgoValidationError(errors, model=type(model).__name__)
    for problem in problems:
        level = stacklevel + 1 if stacklevel is not None else _outside_the_package()
        warnings.warn(FgoValidationWarning(problem), stacklevel=level)


_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _outside_the_package() -> int:
    """The ``stacklevel``, seen from :func:`ensure_valid`, of the first frame that is not
    fgo_async's own (however many of the library's coroutines lie between)."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def check_argument(
    name: str,
    value: object,
    kind: type[Any] | tuple[type[Any], ...],
    *,
    optional: bool = False,
    minimum: int | None = None,
) -> None:
    """Raise FgoValidationError naming the argument ``name`` when ``value`` is not a ``kind``.

    For the plain arguments of the client's methods (``print_invoice(ref)``, ``article(code)``,
    ``articles(page_size=...)``), checked before anything is built or queued. A bool is not an
    int here, a string is not an ``Iterable`` of codes, ``None`` passes only when ``optional``,
    and ``minimum`` bounds a number from below.

    >>> check_argument("ref", "BV-1", InvoiceRef)
    Traceback (most recent call last):
    fgo_async.errors.FgoValidationError: invalid input: ref: must be an InvoiceRef, not 'BV-1'
    """
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if value is None:
        if optional:
            return
        _refuse_argument(name, "required", "is required")
    wrong = (
        not isinstance(value, kinds)
        or (isinstance(value, bool) and bool not in kinds)
        or (isinstance(value, (str, bytes)) and Iterable in kinds and str not in kinds)
    )
    if wrong:
        names = " or ".join(k.__name__ for k in kinds)
        article = "an" if names[0] in "AEIOU" else "a"
        _refuse_argument(name, "type", f"must be {article} {names}, not {describe(value)}")
    if minimum is not None and isinstance(value, int) and value < minimum:
        _refuse_argument(name, "minimum", f"must be at least {minimum}, not {value}")


def _refuse_argument(name: str, rule: str, message: str) -> NoReturn:
    raise FgoValidationError([Problem(field=name, rule=rule, message=message)])
