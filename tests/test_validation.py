"""Every local check of validation.py: what it refuses, what it warns about, where it points."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fgo_async import codec
from fgo_async.errors import FgoValidationError, FgoValidationWarning, Problem
from fgo_async.models import (
    ArticleCodes,
    ArticleQuery,
    AwbAssignment,
    ChangedArticlesQuery,
    Customer,
    Invoice,
    InvoiceLine,
    InvoiceRef,
    NoParameters,
    PageRequest,
    Payment,
    PaymentDeletion,
    ReceiptRef,
    Reversal,
)
from fgo_async.validation import (
    MAX_LENGTHS,
    check_cnp,
    check_cui,
    check_iban,
    ensure_valid,
    find_problems,
    is_romania,
)
from tests._helpers import company, customer, invoice, line


def cui_control(body: str) -> int:
    """The CUI check digit, computed from the right with the key 753217532 (ANAF's rule)."""
    key = "753217532"
    total = sum(int(d) * int(k) for d, k in zip(reversed(body), reversed(key), strict=False))
    rest = total * 10 % 11
    return 0 if rest == 10 else rest


def cnp_control(body: str) -> int:
    """The CNP check digit with the key 279146358279."""
    rest = sum(int(d) * int(k) for d, k in zip(body, "279146358279", strict=True)) % 11
    return 1 if rest == 10 else rest


def rules(problems: list[Problem]) -> set[tuple[str, str]]:
    return {(p.field, p.rule) for p in problems}


def errors_of(model: Any) -> set[tuple[str, str]]:
    return rules([p for p in find_problems(model) if not p.warning])


def warnings_of(model: Any) -> set[tuple[str, str]]:
    return rules([p for p in find_problems(model) if p.warning])


# -- CUI, CNP, IBAN, Romania ----------------------------------------------------------------------


def test_reference_check_digits_agree_with_known_cuis() -> None:
    # CUIs as published; the reference computes their last digit independently.
    for cui in ("18547290", "2864518", "14399840", "14837428"):
        assert cui_control(cui[:-1]) == int(cui[-1]), cui


@pytest.mark.parametrize(
    "value", ["18547290", "2864518", "RO18547290", "ro18547290", "RO 18547290", " 14399840 "]
)
def test_valid_cuis(value: str) -> None:
    assert check_cui(value)


@pytest.mark.parametrize(
    "value",
    ["18547291", "2864519", "", "RO", "0123456", "1", "12345678901", "1854729O", "DE18547290"],
)
def test_invalid_cuis(value: str) -> None:
    assert not check_cui(value)


@given(st.integers(min_value=1, max_value=10**9 - 1), st.integers(min_value=1, max_value=9))
def test_cui_check_digit_property(number: int, shift: int) -> None:
    body = str(number)
    control = cui_control(body)
    assert check_cui(body + str(control))
    assert check_cui("RO" + body + str(control))
    assert not check_cui(body + str((control + shift) % 10))


def test_reference_cnp() -> None:
    # 1 (a man born in the 1900s), 980101 (1 January 1998), 42 (Bucharest), 001, check digit 2.
    assert cnp_control("198010142001") == 2
    assert check_cnp("1980101420012")
    assert not check_cnp("1980101420014")


@given(
    st.integers(min_value=1, max_value=9),
    st.integers(min_value=0, max_value=10**11 - 1),
    st.integers(min_value=1, max_value=9),
)
def test_cnp_check_digit_property(first: int, rest: int, shift: int) -> None:
    body = f"{first}{rest:011d}"
    control = cnp_control(body)
    assert check_cnp(body + str(control))
    assert not check_cnp(body + str((control + shift) % 10))


@pytest.mark.parametrize(
    "value", ["", "198010142001", "19801014200140", "0980101420014", "19801014200a4"]
)
def test_malformed_cnps(value: str) -> None:
    assert not check_cnp(value)


@pytest.mark.parametrize(
    "value", ["RO49AAAA1B31007593840000", "RO49 AAAA 1B31 0075 9384 0000", "GB82WEST12345698765432"]
)
def test_valid_ibans(value: str) -> None:
    assert check_iban(value)


@pytest.mark.parametrize(
    "value", ["RO49AAAA1B31007593840001", "RO48AAAA1B31007593840000", "49RO", "x"]
)
def test_invalid_ibans(value: str) -> None:
    assert not check_iban(value)


@pytest.mark.parametrize(
    "value", ["Romania", "România", "ROMÂNIA", "romania", " Romania ", "RO", "ro", "ROU"]
)
def test_spellings_of_romania(value: str) -> None:
    assert is_romania(value)


@pytest.mark.parametrize("value", [None, "", "Moldova", "Republica Moldova", "Germania", "ROM"])
def test_other_countries(value: str | None) -> None:
    assert not is_romania(value)


# -- an invoice: every problem at once, with paths and wire names --------------------------------


def test_all_problems_of_one_invoice_are_reported_together() -> None:
    bad = Invoice(
        series="",
        external_id="x" * 37,
        currency="ron",
        customer=Customer(name="Exemplu SRL", type="PJ", country="România", tax_id="18547291"),
        lines=[
            line(quantity=0),
            line(unit="bucati"),
            line(unit_price="19.999", total_price="24.19"),
        ],
    )
    with pytest.raises(FgoValidationError) as caught:
        ensure_valid(bad)
    error = caught.value
    found = {(p.field, p.rule, p.wire_name) for p in error.problems}
    assert found == {
        ("series", "required", "Serie"),
        ("external_id", "max_length", "IdExtern"),
        ("currency", "iso_4217", "Valuta"),
        ("customer.county", "required", "Client[Judet]"),
        ("customer.tax_id", "cui_check_digit", "Client[CodUnic]"),
        ("lines[0].quantity", "not_zero", "Continut[0][NrProduse]"),
        ("lines[1].unit", "max_length", "Continut[1][UM]"),
        ("lines[2].unit_price", "one_price", "Continut[2][PretUnitar]"),
        ("lines[2].unit_price", "decimal_places", "Continut[2][PretUnitar]"),
    }
    assert error.model == "Invoice"
    assert "lines[2].unit_price" in error.fields
    assert "lines[2].unit_price" in str(error)
    assert "Invoice is not valid" in str(error)
    assert not any(p.warning for p in error.problems)


def test_a_valid_invoice_has_no_problems() -> None:
    assert find_problems(invoice()) == []
    assert find_problems(invoice(customer=company())) == []
    ensure_valid(invoice())


# -- required fields -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "problem"),
    [
        (invoice(series=""), ("series", "required")),
        (invoice(series="   "), ("series", "required")),
        (invoice(customer=customer(name="")), ("customer.name", "required")),
        (invoice(customer=customer(country="")), ("customer.country", "required")),
        (
            invoice(customer=customer(country="Romania", county=None)),
            ("customer.county", "required"),
        ),
        (invoice(lines=[line(name="")]), ("lines[0].name", "required")),
        (invoice(lines=[line(), line(unit=" ")]), ("lines[1].unit", "required")),
        (invoice(lines=[]), ("lines", "required")),
    ],
)
def test_required_fields(model: Invoice, problem: tuple[str, str]) -> None:
    assert errors_of(model) == {problem}


def test_country_is_required_for_foreign_customers_too() -> None:
    foreign = customer(country=None, county=None)
    assert errors_of(invoice(customer=foreign)) == {("customer.country", "required")}


@pytest.mark.parametrize("country", ["Romania", "România", "ROMÂNIA", "RO", "rou", " romania "])
def test_county_is_required_for_every_spelling_of_romania(country: str) -> None:
    assert errors_of(invoice(customer=customer(country=country, county=None))) == {
        ("customer.county", "required")
    }


@pytest.mark.parametrize("country", ["Germania", "Republica Moldova", "Bulgaria"])
def test_county_is_optional_abroad(country: str) -> None:
    assert errors_of(invoice(customer=customer(country=country, county=None))) == set()


# -- maximum lengths -----------------------------------------------------------------------------

_TEXT_LIMITS = [
    (cls, field, limit)
    for cls in (Invoice, Customer, InvoiceLine)
    for field, limit in MAX_LENGTHS[cls].items()
    if field != "type"  # an enum of two-letter codes: it cannot be longer
]


def _with(cls: type[Any], field: str, value: str) -> Invoice:
    if field == "currency":
        value = "X" * len(value)  # an upper-case code, so that only the length can be wrong
    if cls is Invoice:
        return invoice(**{field: value})
    if cls is Customer:
        return invoice(customer=customer(**{field: value}))
    return invoice(lines=[line(**{field: value})])


def _path(cls: type[Any], field: str) -> str:
    return {Invoice: field, Customer: f"customer.{field}", InvoiceLine: f"lines[0].{field}"}[cls]


@pytest.mark.parametrize(
    ("cls", "field", "limit"),
    _TEXT_LIMITS,
    ids=[f"{cls.__name__}.{field}" for cls, field, _ in _TEXT_LIMITS],
)
def test_maximum_lengths(cls: type[Any], field: str, limit: int) -> None:
    too_long = _with(cls, field, "1" * (limit + 1))
    at_limit = _with(cls, field, "1" * limit)
    path = _path(cls, field)
    assert (path, "max_length") in errors_of(too_long)
    assert (path, "max_length") not in errors_of(at_limit)


def test_documented_limits() -> None:
    assert MAX_LENGTHS[Invoice]["external_id"] == 36
    assert MAX_LENGTHS[Customer]["name"] == 255
    assert MAX_LENGTHS[InvoiceLine]["unit"] == 5
    assert MAX_LENGTHS[InvoiceLine]["description"] == 4000
    assert MAX_LENGTHS[AwbAssignment]["awb"] == 128


def test_external_id_of_36_characters_is_fine_37_is_not() -> None:
    assert errors_of(invoice(external_id="a" * 36)) == set()
    assert errors_of(invoice(external_id="a" * 37)) == {("external_id", "max_length")}


# -- lines ----------------------------------------------------------------------------------------


def test_exactly_one_price() -> None:
    neither = invoice(lines=[line(unit_price=None)])
    both = invoice(lines=[line(total_price="24.19")])
    assert errors_of(neither) == {("lines[0].unit_price", "one_price")}
    assert errors_of(both) == {("lines[0].unit_price", "one_price")}
    assert errors_of(invoice(lines=[line(unit_price=None, total_price="24.19")])) == set()


def test_quantity_must_not_be_zero_but_may_be_negative() -> None:
    assert errors_of(invoice(lines=[line(quantity="0.000")])) == {("lines[0].quantity", "not_zero")}
    assert errors_of(invoice(lines=[line(quantity=-2)])) == set()


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"quantity": "1.2345"}, ("lines[0].quantity", "decimal_places")),
        ({"unit_price": "19.999"}, ("lines[0].unit_price", "decimal_places")),
        ({"unit_price": None, "total_price": "24.191"}, ("lines[0].total_price", "decimal_places")),
    ],
)
def test_decimal_places(overrides: dict[str, Any], problem: tuple[str, str]) -> None:
    assert errors_of(invoice(lines=[line(**overrides)])) == {problem}


@pytest.mark.parametrize(
    "overrides",
    [
        {"quantity": "1.234"},
        {"quantity": "1.2340000"},  # trailing zeros are not places
        {"unit_price": "19.990"},
        {"unit_price": "1E+3"},
        {"unit_price": None, "total_price": "24.19"},
    ],
)
def test_allowed_decimal_places(overrides: dict[str, Any]) -> None:
    assert errors_of(invoice(lines=[line(**overrides)])) == set()


def test_unit_price_must_not_be_negative() -> None:
    assert errors_of(invoice(lines=[line(unit_price="-1")])) == {
        ("lines[0].unit_price", "not_negative")
    }


@pytest.mark.parametrize("rate", ["0.21", "0.5", "101", "-1"])
def test_vat_rate_must_be_a_percentage(rate: str) -> None:
    assert errors_of(invoice(lines=[line(vat_rate=rate)])) == {("lines[0].vat_rate", "percentage")}


@pytest.mark.parametrize("rate", ["0", "1", "6.1", "9", "21", "100"])
def test_vat_rates_that_are_percentages(rate: str) -> None:
    assert errors_of(invoice(lines=[line(vat_rate=rate)])) == set()


# -- the invoice itself ----------------------------------------------------------------------------


def test_currency_must_be_an_iso_code() -> None:
    assert errors_of(invoice(currency="lei")) == {("currency", "iso_4217")}
    assert errors_of(invoice(currency="EUR")) == set()


def test_due_date_not_before_issue_date() -> None:
    early = invoice(issue_date=datetime.date(2025, 8, 2), due_date=datetime.date(2025, 8, 1))
    assert errors_of(early) == {("due_date", "after_issue_date")}
    same = invoice(issue_date=datetime.date(2025, 8, 2), due_date=datetime.date(2025, 8, 2))
    assert errors_of(same) == set()


def test_check_duplicate_without_a_key_is_a_warning() -> None:
    assert warnings_of(invoice(check_duplicate=True)) == {("check_duplicate", "needs_key")}
    assert warnings_of(invoice(check_duplicate=True, external_id="1042")) == set()
    assert warnings_of(invoice(check_duplicate=True, number="7")) == set()


def _refused(build: Callable[[], object]) -> set[tuple[str, str, str | None]]:
    with pytest.raises(FgoValidationError) as caught:
        build()
    return {(p.field, p.rule, p.wire_name) for p in caught.value.problems}


def test_text_fields_must_be_text() -> None:
    # On construction, before anything can be queued: "001" is not 1, and a number loses zeros.
    assert _refused(lambda: invoice(number=7)) == {("number", "string", "Numar")}
    assert _refused(lambda: customer(phone=740000000)) == {("phone", "string", "Client[Telefon]")}
    assert _refused(lambda: line(article_code=12)) == {("article_code", "string", "CodArticol")}
    assert _refused(lambda: InvoiceRef(series="BV", number=1)) == {("number", "string", "Numar")}


def test_text_checks_hold_after_the_codec_has_read_the_models() -> None:
    # cattrs resolves the models' annotations in place; the checks must not depend on their form.
    codec.to_wire(invoice())
    assert _refused(lambda: invoice(number=7)) == {("number", "string", "Numar")}
    assert _refused(lambda: customer(email=1)) == {("email", "string", "Client[Email]")}


def test_wrong_types_for_customer_and_lines() -> None:
    assert _refused(lambda: invoice(customer={"name": "x"})) == {("customer", "type", "Client")}
    not_a_line = _refused(lambda: invoice(lines=[line(), {"name": "x"}]))
    assert not_a_line == {("lines[1]", "type", "Continut[1]")}


def test_wrong_types_in_a_model_built_without_validators_are_found_with_their_paths() -> None:
    with attrs.validators.disabled():
        bad = Invoice(
            series=7,
            customer=customer(phone=7),
            lines=[line(unit_price=1.5), {"name": "x"}, line(quantity=0)],
        )
    with pytest.raises(FgoValidationError) as caught:
        ensure_valid(bad)
    assert {(p.field, p.rule, p.wire_name) for p in caught.value.problems} == {
        ("series", "string", "Serie"),
        ("lines[1]", "type", "Continut[1]"),
        ("customer.phone", "string", "Client[Telefon]"),
        ("lines[0].unit_price", "decimal", "Continut[0][PretUnitar]"),
        ("lines[2].quantity", "not_zero", "Continut[2][NrProduse]"),  # the well-typed line
    }


# -- the customer ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -1])
def test_customer_external_id_must_be_a_positive_int(value: int) -> None:
    model = invoice(customer=customer(external_id=value))
    assert ("customer.external_id", "positive_int") in errors_of(model)
    problem = next(p for p in find_problems(model) if p.rule == "positive_int")
    assert problem.wire_name == "Client[IdExtern]"


@pytest.mark.parametrize("value", [True, "5", 1.5, 2**63])
def test_customer_external_id_must_be_an_int(value: Any) -> None:
    refused = _refused(lambda: customer(external_id=value))
    assert refused == {("external_id", "integer", "Client[IdExtern]")}


def test_customer_external_id_positive_is_fine() -> None:
    assert errors_of(invoice(customer=customer(external_id=5))) == set()


@pytest.mark.parametrize("country", ["Romania", "România", "RO"])
def test_romanian_company_needs_a_valid_cui(country: str) -> None:
    bad = invoice(customer=company(country=country, tax_id="18547291"))
    assert errors_of(bad) == {("customer.tax_id", "cui_check_digit")}
    missing = invoice(customer=company(country=country, tax_id=None))
    assert errors_of(missing) == {("customer.tax_id", "required")}
    assert errors_of(invoice(customer=company(country=country, tax_id="RO 18547290"))) == set()


def test_validate_tax_id_false_skips_the_cui_check() -> None:
    assert errors_of(invoice(customer=company(tax_id="18547291"), validate_tax_id=False)) == set()
    assert errors_of(invoice(customer=company(tax_id=None), validate_tax_id=False)) == set()
    assert errors_of(invoice(customer=company(tax_id="18547291"), validate_tax_id=True)) == {
        ("customer.tax_id", "cui_check_digit")
    }


def test_foreign_company_cui_is_not_checked() -> None:
    foreign = company(country="Germania", county=None, tax_id="DE123456789")
    assert errors_of(invoice(customer=foreign)) == set()


def test_invalid_cnp_is_a_warning_only() -> None:
    person = customer(tax_id="1980101420015")
    assert errors_of(invoice(customer=person)) == set()
    assert warnings_of(invoice(customer=person)) == {("customer.tax_id", "cnp_check_digit")}
    with pytest.warns(FgoValidationWarning, match="CNP") as record:
        ensure_valid(invoice(customer=person))
    warning = record[0].message
    assert isinstance(warning, FgoValidationWarning)
    assert warning.problem.wire_name == "Client[CodUnic]"


def test_valid_cnp_no_warning() -> None:
    assert find_problems(invoice(customer=customer(tax_id="1980101420012"))) == []


def test_invalid_iban_is_a_warning() -> None:
    model = invoice(customer=customer(bank_account="RO49AAAA1B31007593840001"))
    assert warnings_of(model) == {("customer.bank_account", "iban_check_digits")}
    with pytest.warns(FgoValidationWarning, match="IBAN"):
        ensure_valid(model)
    assert find_problems(invoice(customer=customer(bank_account="RO49AAAA1B31007593840000"))) == []


def test_warnings_do_not_hide_errors() -> None:
    model = invoice(series="", customer=customer(tax_id="1980101420015"))
    with pytest.raises(FgoValidationError) as caught:
        ensure_valid(model)
    assert caught.value.fields == ("series",)


# -- the other request models ----------------------------------------------------------------------

REF = InvoiceRef(series="BV", number="001")
PAID_AT = datetime.datetime(2025, 8, 1, 12)


def payment(**overrides: Any) -> Payment:
    fields: dict[str, Any] = {
        "invoice": REF,
        "payment_type": "Card",
        "amount": "10",
        "paid_at": PAID_AT,
    }
    fields.update(overrides)
    return Payment(**fields)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (REF, set()),
        (InvoiceRef(series="", number=""), {("series", "required"), ("number", "required")}),
        (InvoiceRef(series="B" * 51, number="1"), {("series", "max_length")}),
        (ReceiptRef(series="CH", number=""), {("number", "required")}),
        (payment(), set()),
        (payment(amount=0), {("amount", "not_zero")}),
        (payment(amount="1.001"), {("amount", "decimal_places")}),
        (payment(payment_type=""), {("payment_type", "required")}),
        (payment(paid_at=None), {("paid_at", "required")}),
        (payment(invoice=InvoiceRef(series="BV", number="")), {("invoice.number", "required")}),
        (
            PaymentDeletion(invoice=REF, receipt=ReceiptRef(series="", number="3")),
            {("receipt.series", "required")},
        ),
        (Reversal(invoice=REF, series="S" * 51), {("series", "max_length")}),
        (Reversal(invoice=InvoiceRef(series="", number="1")), {("invoice.series", "required")}),
        (AwbAssignment(invoice=REF, awb=""), {("awb", "required")}),
        (AwbAssignment(invoice=REF, awb="A" * 129), {("awb", "max_length")}),
        (ArticleQuery(code=""), {("code", "required")}),
        (ArticleQuery(code="C" * 129), {("code", "max_length")}),
        (ArticleCodes(codes=[]), {("codes", "required")}),
        (ArticleCodes(codes=[str(i) for i in range(31)]), {("codes", "max_items")}),
        (ArticleCodes(codes=[str(i) for i in range(30)]), set()),
        (ArticleCodes(codes=["A", " "]), {("codes[1]", "required")}),
        (ChangedArticlesQuery(hours=0), {("hours", "range")}),
        (ChangedArticlesQuery(hours=171), {("hours", "range")}),
        (ChangedArticlesQuery(hours=170, until_hours=0), set()),
        (ChangedArticlesQuery(hours=24, until_hours=24), {("until_hours", "range")}),
        (ChangedArticlesQuery(hours=24, until_hours=-1), {("until_hours", "range")}),
        (PageRequest(page=0, page_size=10), {("page", "minimum")}),
        (PageRequest(page=1, page_size=0), {("page_size", "minimum")}),
        (NoParameters(), set()),
    ],
    ids=repr,
)
def test_other_request_models(model: Any, expected: set[tuple[str, str]]) -> None:
    assert errors_of(model) == expected


@pytest.mark.parametrize(
    ("model", "wire_names"),
    [
        (
            payment(invoice=InvoiceRef(series="", number="")),
            {"invoice.series": "SerieFactura", "invoice.number": "NumarFactura"},
        ),
        (
            PaymentDeletion(
                invoice=InvoiceRef(series="", number=""), receipt=ReceiptRef(series="", number="")
            ),
            {
                "invoice.series": "SerieFactura",
                "invoice.number": "NumarFactura",
                "receipt.series": "SerieIncasare",
                "receipt.number": "NumarIncasare",
            },
        ),
        (
            Reversal(invoice=InvoiceRef(series="", number="")),
            {"invoice.series": "Serie", "invoice.number": "Numar"},
        ),
        (
            AwbAssignment(invoice=InvoiceRef(series="", number=""), awb=""),
            {"invoice.series": "Serie", "invoice.number": "Numar", "awb": "AWB"},
        ),
        (InvoiceRef(series="", number=""), {"series": "Serie", "number": "Numar"}),
        (payment(amount=0), {"amount": "SumaIncasata"}),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, dict) else "",
)
def test_problems_name_the_key_the_vendor_receives(model: Any, wire_names: dict[str, str]) -> None:
    assert {p.field: p.wire_name for p in find_problems(model)} == wire_names


def test_unknown_models_have_no_problems() -> None:
    assert find_problems(object()) == []


def test_ensure_valid_names_the_model() -> None:
    with pytest.raises(FgoValidationError, match="Payment is not valid") as caught:
        ensure_valid(payment(amount=0))
    assert caught.value.problems == (
        Problem(field="amount", rule="not_zero", message="must not be 0", wire_name="SumaIncasata"),
    )


def test_decimal_places_counts_exactly() -> None:
    assert errors_of(payment(amount=Decimal("10.10"))) == set()


def test_warnings_point_at_the_caller() -> None:
    with pytest.warns(FgoValidationWarning) as record:
        ensure_valid(invoice(customer=customer(tax_id="1980101420015")))
    assert record[0].filename == __file__
