"""The models themselves: converters on construction, immutability, helpers a user calls."""

from __future__ import annotations

import datetime
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
    InvoiceLink,
    InvoiceRef,
    InvoiceStatus,
    IssuedInvoice,
    Nomenclature,
    NomenclatureItem,
    Payment,
    ReceiptRef,
)
from fgo_async.models import ArticleCodes, ChangedArticlesQuery
from tests._helpers import customer, invoice, line


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
