"""Models from and to plain JSON under their Python field names (fgo_async.plain)."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest

from fgo_async import (
    ArticlePage,
    CustomerType,
    Invoice,
    InvoiceStatus,
    IssuedInvoice,
    Payment,
    plain,
)
from fgo_async.codec import from_wire
from fgo_async.errors import FgoValidationError

INVOICE = """{
  "series": "BV", "external_id": 1042, "check_duplicate": true, "issue_date": "2025-02-03",
  "customer": {"name": "Ionescu Maria", "type": "pf", "country": "Romania", "county": "Brasov"},
  "lines": [{"name": "Carte", "quantity": 2, "unit": "buc", "vat_rate": 21,
             "unit_price": 19.99}, {"name": "Cana", "quantity": "0.125", "unit": "kg",
             "vat_rate": "11", "total_price": "10.10"}]
}"""


def test_an_invoice_is_read_under_its_python_names_with_exact_money() -> None:
    invoice = plain.structure(plain.loads(INVOICE), Invoice)
    assert invoice.external_id == "1042"  # an order id written as a number is its text
    assert invoice.check_duplicate is True
    assert invoice.issue_date == datetime.date(2025, 2, 3)
    assert invoice.customer.type is CustomerType.PF
    assert invoice.lines[0].unit_price == Decimal("19.99")
    assert str(invoice.lines[0].unit_price) == "19.99"  # never through a float
    assert invoice.lines[1].quantity == Decimal("0.125")
    assert invoice.lines[1].total_price == Decimal("10.10")


def test_every_problem_is_named_by_its_field_path() -> None:
    data = plain.loads(
        '{"series": "BV", "issue_date": "3 feb",'
        ' "customer": {"name": "A", "type": "XX", "country": "Romania", "cnty": "B"},'
        ' "lines": [{"name": "C", "quantity": 1, "unit": "buc", "vat_rate": 21,'
        ' "unitprice": "1"}, {"quantity": "abc"}]}'
    )
    with pytest.raises(FgoValidationError) as caught:
        plain.structure(data, Invoice)
    problems = {p.field: p.rule for p in caught.value.problems}
    assert problems == {
        "issue_date": "type",
        "customer.type": "type",
        "customer.cnty": "unknown-field",
        "lines[0].unitprice": "unknown-field",
        "lines[1].name": "required",
        "lines[1].quantity": "type",
        "lines[1].unit": "required",
        "lines[1].vat_rate": "required",
    }
    assert caught.value.model == "Invoice"
    assert "unit_price" in str(caught.value)  # the unknown field's message lists the real ones


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ([1], "(top level)", "expected an object for Invoice"),
        ({"series": "BV", "customer": 3, "lines": []}, "customer", "expected an object"),
        ({"series": 1.5, "customer": {}, "lines": []}, "series", "is not text"),
        ({"series": True, "customer": {}, "lines": []}, "series", "is not text"),
    ],
)
def test_shapes_that_are_not_an_invoice_are_refused(
    data: object, field: str, fragment: str
) -> None:
    with pytest.raises(FgoValidationError) as caught:
        plain.structure(data, Invoice)
    found = {p.field: p.message for p in caught.value.problems}
    assert fragment in found[field]


@pytest.mark.parametrize("value", [19.99, True, "abc", "NaN", "Infinity", [1]])
def test_money_is_never_a_float_or_a_guess(value: object) -> None:
    line = {"name": "C", "quantity": 1, "unit": "buc", "vat_rate": 21, "unit_price": value}
    data = {"series": "BV", "customer": {"name": "A", "type": "PF", "country": "X"}}
    with pytest.raises(FgoValidationError) as caught:
        plain.structure({**data, "lines": [line]}, Invoice)
    assert caught.value.fields == ("lines[0].unit_price",)


def test_other_scalars() -> None:
    data = {
        "invoice": {"series": "BV", "number": "001"},
        "payment_type": "Card",
        "amount": "10.50",
        "paid_at": "2025-01-02 10:00:00",
    }
    payment = plain.structure(data, Payment)
    assert payment.paid_at == datetime.datetime(2025, 1, 2, 10, 0)
    assert payment.amount == Decimal("10.50")
    bad = {**data, "paid_at": "yesterday"}
    with pytest.raises(FgoValidationError, match="paid_at"):
        plain.structure(bad, Payment)
    customer = {"name": "A", "type": "PF", "country": "X", "external_id": "17"}
    invoice = plain.structure({"series": "B", "customer": customer, "lines": []}, Invoice)
    assert invoice.customer.external_id == 17
    for wrong in ({**customer, "external_id": "x"}, {**customer, "vat_payer": "yes"}):
        with pytest.raises(FgoValidationError):
            plain.structure({"series": "B", "customer": wrong, "lines": []}, Invoice)


def test_an_invoice_goes_round_trip() -> None:
    invoice = plain.structure(plain.loads(INVOICE), Invoice)
    again = plain.structure(plain.loads(plain.dumps(invoice)), Invoice)
    assert again == invoice


def test_replies_are_written_exactly_without_their_raw_reply() -> None:
    status = from_wire(
        {
            "Serie": "BV",
            "Numar": "001",
            "Valoare": "167.00",
            "ValoareAchitata": 1e2,
            "Incasari": [{"SumaIncasata": "10.5", "DataIncasare": "2025-01-01"}],
        },
        InvoiceStatus,
    )
    data = json.loads(plain.dumps(status))
    assert data == {
        "series": "BV",
        "number": "001",
        "total": "167.00",  # trailing zeros kept: exact text
        "paid": "100.0",
        "payments": [{"amount": "10.5", "date": "2025-01-01", "currency": None}],
    }
    issued = IssuedInvoice(series="BV", number="001", raw={"Hash": "secret?"})
    assert "raw" not in plain.unstructure(issued)
    page = from_wire({"Total": 1, "List": [{"Nume": "A", "CotaTva": "0.21"}]}, ArticlePage)
    assert plain.unstructure(page)["items"][0]["vat_rate"] == "21"
    assert plain.unstructure([issued]) == [plain.unstructure(issued)]


def test_loads_refuses_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        plain.loads('{"a": NaN}')


@pytest.mark.parametrize(
    "text",
    ["[" * 5000 + "]" * 5000, '{"quantity": 1e200000}', '{"quantity": ' + "9" * 5000 + "}"],
)
def test_loads_refuses_what_would_exhaust_the_stack_or_the_cpu(text: str) -> None:
    with pytest.raises(ValueError, match=r"nested|beyond|digits"):
        plain.loads(text)


def test_a_value_a_model_refuses_is_named_by_its_whole_path() -> None:
    # Read by plain as a Decimal, refused by the line itself: the path says which line.
    data = plain.loads(INVOICE)
    data["lines"][1]["total_price"] = "1E+999"
    with pytest.raises(FgoValidationError) as caught:
        plain.structure(data, Invoice)
    (problem,) = caught.value.problems
    assert (problem.field, problem.rule) == ("lines[1].total_price", "decimal")
