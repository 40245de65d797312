"""The models themselves: converters on construction, immutability, helpers a user calls."""

from __future__ import annotations

import datetime
import enum
import json
from decimal import Decimal
from typing import Any

import attrs
import pytest

from fgo_async import (
    ArticlePage,
    ChangedArticle,
    ChangedArticles,
    Currency,
    CustomerType,
    DocumentType,
    FgoValidationError,
    Invoice,
    InvoiceLink,
    InvoiceRef,
    InvoiceStatus,
    IssuedInvoice,
    Nomenclature,
    NomenclatureItem,
    Payment,
    ReceiptRef,
    codec,
)
from fgo_async.models import (
    ArticleCodes,
    ArticleQuery,
    ChangedArticlesQuery,
    PageRequest,
    Reversal,
)
from fgo_async.validation import find_problems
from tests._helpers import customer, invoice, line

REF = InvoiceRef(series="BV", number="1")
PAID = datetime.datetime(2025, 8, 1)


class CurrencyEnum(str, enum.Enum):
    """A caller's own str enum: a str, sent as its value."""

    EUR = "EUR"


class DocumentTypeEnum(str, enum.Enum):
    """An enum that is not CustomerType, although it has a member called PF."""

    PF = "persoana fizica"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("19.99", "19.99"), (" 19.99 ", "19.99"), (21, "21"), (Decimal("1E+2"), "100"), ("-1", "-1")],
)
def test_money_accepts_decimals_ints_and_strings(value: Any, expected: str) -> None:
    assert line(unit_price=value).unit_price == Decimal(expected)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("unit_price", 19.99, "a float is not accepted"),
        ("quantity", True, "a bool is not accepted"),
        ("vat_rate", "douazeci", "is not a number"),
        ("quantity", "NaN", "not a finite number"),
        ("unit_price", "Infinity", "not a finite number"),
        ("total_price", [1], "a list is not a number"),
    ],
)
def test_dangerous_numbers_are_refused_on_construction(
    field: str, value: Any, message: str
) -> None:
    overrides: dict[str, Any] = {field: value}
    if field == "total_price":
        overrides["unit_price"] = None
    with pytest.raises(FgoValidationError, match=message) as caught:
        line(**overrides)
    assert caught.value.fields == (field,)


def test_payment_amount_is_converted() -> None:
    payment = Payment(
        invoice=InvoiceRef(series="BV", number="1"),
        payment_type="Card",
        amount="167.69",
        paid_at=datetime.datetime(2025, 8, 1),
    )
    assert payment.amount == Decimal("167.69")
    with pytest.raises(FgoValidationError, match="amount"):
        attrs.evolve(payment, amount=1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["PF", "pf", " Pf ", CustomerType.PF])
def test_customer_type_from_strings(value: Any) -> None:
    assert customer(type=value).type is CustomerType.PF
    assert str(CustomerType.PJ) == "PJ"


def test_unknown_customer_type_is_refused_with_its_wire_name() -> None:
    with pytest.raises(FgoValidationError) as caught:
        customer(type="SRL")
    assert caught.value.problems[0].wire_name == "Client[Tip]"
    assert caught.value.problems[0].rule == "choice"


def test_lines_and_codes_become_tuples() -> None:
    model = invoice(lines=[line(), line(name="B")])
    assert isinstance(model.lines, tuple)
    assert ArticleCodes(codes=iter(["A", "B"])).codes == ("A", "B")


def test_models_are_frozen_and_keyword_only() -> None:
    model = invoice()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        model.series = "X"  # type: ignore[misc]
    with pytest.raises(TypeError):
        InvoiceRef("BV", "1")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, False),
        ({"check_duplicate": True}, False),
        ({"check_duplicate": True, "external_id": "1042"}, True),
        ({"check_duplicate": True, "number": "7"}, True),
        ({"check_duplicate": False, "external_id": "1042"}, False),
        ({"external_id": "1042"}, False),
    ],
)
def test_can_deduplicate(overrides: dict[str, Any], expected: bool) -> None:
    assert invoice(**overrides).can_deduplicate is expected


def test_references_print_as_series_dash_number() -> None:
    assert str(InvoiceRef(series="BV", number="001")) == "BV-001"
    assert str(ReceiptRef(series="CH", number="7")) == "CH-7"


def test_result_refs() -> None:
    ref = InvoiceRef(series="BV", number="001")
    assert IssuedInvoice(series="BV", number="001").ref == ref
    assert InvoiceLink(series="BV", number="001").ref == ref


@pytest.mark.parametrize(
    ("total", "paid", "balance", "is_paid"),
    [
        ("100", "40", "60", False),
        ("100", "100", "0", True),
        ("100", "120", "-20", True),
        (None, "10", None, False),
        ("100", None, None, False),
    ],
)
def test_invoice_status_balance(
    total: str | None, paid: str | None, balance: str | None, is_paid: bool
) -> None:
    status = InvoiceStatus(
        total=None if total is None else Decimal(total),
        paid=None if paid is None else Decimal(paid),
    )
    assert status.balance == (None if balance is None else Decimal(balance))
    assert status.is_paid is is_paid


def test_changed_articles_may_be_truncated_at_200() -> None:
    assert not ChangedArticles(items=(ChangedArticle(),) * 199).may_be_truncated
    assert ChangedArticles(items=(ChangedArticle(),) * 200).may_be_truncated


def test_nomenclature_lookups() -> None:
    counties = Nomenclature(
        items=(
            NomenclatureItem(name="Brasov", value="BV"),
            NomenclatureItem(name=None, value="??"),
            NomenclatureItem(name="Cluj", value="CJ"),
        )
    )
    assert counties.names() == ("Brasov", "Cluj")
    assert counties.value_of("brasov") == "BV"
    assert counties.value_of("CLUJ") == "CJ"
    assert counties.value_of("Iasi") is None


def test_lists_behave_like_tuples() -> None:
    page = ArticlePage(items=(), total=0)
    assert len(page) == 0
    assert list(page) == []
    counties = Nomenclature(items=(NomenclatureItem(name="A"), NomenclatureItem(name="B")))
    assert len(counties) == 2
    assert counties[1].name == "B"
    assert [item.name for item in counties] == ["A", "B"]


def test_raw_is_left_out_of_repr_and_equality() -> None:
    one = IssuedInvoice(series="BV", number="1", raw={"Secret": "x"})
    two = IssuedInvoice(series="BV", number="1", raw={"Other": "y"})
    assert one == two
    assert "Secret" not in repr(one)


def test_defaults_of_requests() -> None:
    assert ChangedArticlesQuery().hours == 24
    assert ChangedArticlesQuery().until_hours is None


def test_constants_for_common_values() -> None:
    assert DocumentType.INVOICE == "Factura"
    assert DocumentType.PROFORMA == "Proforma"
    assert DocumentType.ORDER == "Comanda"
    assert DocumentType.ESTIMATE == "Deviz"
    assert Currency.RON == "RON"
    assert {Currency.EUR, Currency.USD, Currency.GBP} == {"EUR", "USD", "GBP"}


# -- every field refuses the wrong kind on construction, naming itself -----------------------------


def _refusal(build: Any) -> tuple[str, str, str | None]:
    with pytest.raises(FgoValidationError) as caught:
        build()
    (problem,) = caught.value.problems
    return problem.field, problem.rule, problem.wire_name


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-01-01", datetime.date(2025, 1, 1)),
        (" 2025-08-31 ", datetime.date(2025, 8, 31)),
        (datetime.date(2025, 1, 1), datetime.date(2025, 1, 1)),
        (None, None),
    ],
)
def test_dates_accept_iso_strings(value: Any, expected: datetime.date | None) -> None:
    model = invoice(issue_date=value, due_date=value)
    assert model.issue_date == expected
    assert model.due_date == expected


def test_an_iso_date_string_goes_out_as_the_date() -> None:
    # It used to construct and then fail deep in the codec, at send time.
    model = Invoice(series="BV", customer=customer(), lines=[line()], issue_date="2025-01-01")
    assert codec.to_wire(model)["DataEmitere"] == "2025-01-01"
    assert codec.flatten_form(codec.to_wire(model))[-1] == ("DataEmitere", "2025-01-01")


@pytest.mark.parametrize(
    "value",
    ["2025-13-01", "2025-02-30", "01.08.2025", "20250801", "", 20250801, 1.5, [2025], "9" * 10**6],
)
def test_a_date_that_is_not_one_is_refused(value: Any) -> None:
    assert _refusal(lambda: invoice(issue_date=value)) == ("issue_date", "date", "DataEmitere")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-08-01 10:30:00", datetime.datetime(2025, 8, 1, 10, 30)),
        ("2025-08-01T10:30:05", datetime.datetime(2025, 8, 1, 10, 30, 5)),
        ("2025-08-01T10:30", datetime.datetime(2025, 8, 1, 10, 30)),
        ("2025-08-01", datetime.datetime(2025, 8, 1)),
        (datetime.date(2025, 8, 1), datetime.datetime(2025, 8, 1)),
        (
            "2025-08-01T10:30:00Z",
            datetime.datetime(2025, 8, 1, 10, 30, tzinfo=datetime.timezone.utc),
        ),
    ],
)
def test_payment_times_accept_iso_strings(value: Any, expected: datetime.datetime) -> None:
    payment = Payment(invoice=REF, payment_type="Card", amount="10", paid_at=value)
    assert payment.paid_at == expected
    assert codec.to_wire(payment)["DataIncasare"] == expected.strftime("%Y-%m-%d %H:%M:%S")


@pytest.mark.parametrize("value", ["2025-08-01 25:00:00", "ieri", 1754000000, b"2025-08-01"])
def test_a_payment_time_that_is_not_one_is_refused(value: Any) -> None:
    build = lambda: Payment(invoice=REF, payment_type="Card", amount="10", paid_at=value)  # noqa: E731
    assert _refusal(build) == ("paid_at", "datetime", "DataIncasare")


def test_lines_accept_any_iterable_of_lines() -> None:
    one, two = line(), line(name="B")
    assert invoice(lines=(x for x in (one, two))).lines == (one, two)
    assert invoice(lines={one: 1}.keys()).lines == (one,)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ("lines", "required", "Continut")),
        ("Carte", ("lines", "type", "Continut")),
        ({"name": "Carte"}, ("lines", "type", "Continut")),
        (5, ("lines", "type", "Continut")),
        ([line(), {"name": "Carte"}], ("lines[1]", "type", "Continut[1]")),
        ([line(), line(), None], ("lines[2]", "type", "Continut[2]")),
    ],
)
def test_lines_that_are_not_lines_are_refused(value: Any, expected: tuple[str, ...]) -> None:
    assert _refusal(lambda: invoice(lines=value)) == expected


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: invoice(check_duplicate="yes"), ("check_duplicate", "bool", "VerificareDuplicat")),
        (lambda: invoice(vat_on_collection=1), ("vat_on_collection", "bool", "TvaLaIncasare")),
        (lambda: customer(vat_payer="true"), ("vat_payer", "bool", "Client[PlatitorTVA]")),
        (lambda: PageRequest(page=True, page_size=10), ("page", "integer", "NrPagina")),
        (lambda: PageRequest(page=1, page_size=10.0), ("page_size", "integer", "NrArticole")),
        (lambda: PageRequest(page="1", page_size=10), ("page", "integer", "NrPagina")),
        (lambda: PageRequest(page=None, page_size=10), ("page", "required", "NrPagina")),
        (lambda: ChangedArticlesQuery(hours=None), ("hours", "required", "NumarOre")),
        (lambda: ChangedArticlesQuery(hours=2**63), ("hours", "integer", "NumarOre")),
        (lambda: invoice(series=["BV"]), ("series", "string", "Serie")),
        (lambda: invoice(external_id=1042), ("external_id", "string", "IdExtern")),
        (lambda: line(name=b"Carte"), ("name", "string", "Denumire")),
        (lambda: ArticleQuery(code=7), ("code", "string", "CodArticol")),
        (lambda: ArticleCodes(codes="A1"), ("codes", "type", "Coduri")),
        (lambda: ArticleCodes(codes=["A1", 2]), ("codes[1]", "type", "Coduri[1]")),
        (lambda: invoice(customer=None), ("customer", "required", "Client")),
        (
            lambda: Payment(invoice="BV-1", payment_type="Card", amount=1, paid_at=PAID),
            ("invoice", "type", None),
        ),
        (lambda: Reversal(invoice=ReceiptRef(series="BV", number="1")), ("invoice", "type", None)),
        (lambda: customer(type=None), ("type", "required", "Client[Tip]")),
        (lambda: customer(type=1), ("type", "choice", "Client[Tip]")),
        (lambda: customer(type=DocumentTypeEnum.PF), ("type", "choice", "Client[Tip]")),
        (lambda: line(quantity=None), ("quantity", "required", "NrProduse")),
        (lambda: line(unit_price="1E+100"), ("unit_price", "decimal", "PretUnitar")),
        (lambda: line(unit_price=Decimal("sNaN")), ("unit_price", "decimal", "PretUnitar")),
        (lambda: line(unit_price=10**400), ("unit_price", "decimal", "PretUnitar")),
        (lambda: line(unit_price="9" * 10**6), ("unit_price", "decimal", "PretUnitar")),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused_naming_its_field(
    build: Any, expected: tuple[str, ...]
) -> None:
    assert _refusal(build) == expected


def test_the_refusal_says_what_was_wrong() -> None:
    with pytest.raises(FgoValidationError) as caught:
        invoice(check_duplicate="yes")
    assert str(caught.value) == (
        "Invoice is not valid: check_duplicate: must be True or False, not 'yes'"
    )


def test_evolve_converts_and_checks_as_construction_does() -> None:
    model = invoice()
    assert attrs.evolve(model, issue_date="2025-08-01").issue_date == datetime.date(2025, 8, 1)
    assert _refusal(lambda: attrs.evolve(model, lines=None)) == ("lines", "required", "Continut")
    first = model.lines[0]
    assert attrs.evolve(first, unit_price="5").unit_price == Decimal(5)
    assert _refusal(lambda: attrs.evolve(first, unit_price=5.0))[:2] == ("unit_price", "decimal")


def test_a_str_enum_in_a_text_field_goes_out_as_its_value() -> None:
    model = invoice(currency=CurrencyEnum.EUR)
    assert json.loads(codec.encode_body(codec.to_wire(model), "json")[0])["Valuta"] == "EUR"
    assert dict(codec.flatten_form(codec.to_wire(model)))["Valuta"] == "EUR"


def test_required_text_left_empty_is_reported_with_the_other_problems() -> None:
    # Not a construction error: find_problems reports it beside every other problem.
    model = Invoice(series=None, customer=customer(name=None), lines=[line(unit=None)])
    assert {p.field for p in find_problems(model)} == {"series", "customer.name", "lines[0].unit"}
