"""Any value in any field of any request model: a model of the right kinds, or FgoValidationError.

Every public request model gets, field by field, values of every kind (None, bools, ints,
floats, bytes, lists, dicts, objects, enums, huge strings, dates, text that looks like a number
or a date). Construction (and ``attrs.evolve``) must either refuse the value with
FgoValidationError naming that field, or convert it into a value of the field's type. What is
built must then go through ``ensure_valid`` with nothing but FgoValidationError, and a model it
accepts must encode in JSON and in the bracket form.
"""

from __future__ import annotations

import contextlib
import datetime
import enum
import typing
import warnings
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fgo_async import codec, models
from fgo_async.endpoints import ENDPOINTS
from fgo_async.errors import FgoValidationError, FgoValidationWarning
from fgo_async.models import (
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
from fgo_async.validation import ensure_valid, find_problems
from tests._helpers import company, invoice, line

REF = InvoiceRef(series="BV", number="001")

#: A valid instance of every public request model.
VALID: dict[type[Any], Any] = {
    Invoice: invoice(
        number="7",
        currency="RON",
        issue_date=datetime.date(2025, 8, 1),
        due_date=datetime.date(2025, 8, 30),
        check_duplicate=True,
        external_id="1042",
        customer=company(external_id=77, vat_payer=True),
        lines=[line(), line(name="Reducere", quantity=-1, unit_price=None, total_price="5")],
    ),
    Customer: company(),
    InvoiceLine: line(article_code="A1"),
    InvoiceRef: REF,
    ReceiptRef: ReceiptRef(series="CH", number="1"),
    Payment: Payment(
        invoice=REF, payment_type="Card", amount="10", paid_at=datetime.datetime(2025, 8, 1)
    ),
    PaymentDeletion: PaymentDeletion(invoice=REF, receipt=ReceiptRef(series="CH", number="1")),
    Reversal: Reversal(invoice=REF, series="ST", issue_date=datetime.date(2025, 8, 2)),
    AwbAssignment: AwbAssignment(invoice=REF, awb="AWB1"),
    PageRequest: PageRequest(page=1, page_size=10),
    ArticleQuery: ArticleQuery(code="A1"),
    ArticleCodes: ArticleCodes(codes=["A1", "B2"]),
    ChangedArticlesQuery: ChangedArticlesQuery(hours=24, until_hours=1),
}

CASES = [(cls, field.name) for cls in VALID for field in attrs.fields(cls)]


def test_every_public_request_model_is_covered() -> None:
    sent = {e.request_type for e in ENDPOINTS.values() if e.request_type is not None}
    nested = {Customer, InvoiceLine, ReceiptRef}
    assert sent - {models.NoParameters} | nested == set(VALID)


class _Colour(str, enum.Enum):
    RED = "red"


class _Number(enum.Enum):
    ONE = 1


class _Opaque:
    """An object of no kind the models know, whose repr would be misleading."""

    def __repr__(self) -> str:
        return "Decimal('1')"


_WRONG = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**70),
    st.just(10**5000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("sNaN"), Decimal("1E+999999"), Decimal("-1E-999999")]),
    st.binary(max_size=8),
    st.text(max_size=12),
    st.sampled_from(
        [
            "19.99",
            " 7 ",
            "NaN",
            "sNaN",
            "-Infinity",
            "1E+999999",
            "2025-08-01",
            "2025-02-30",
            "2025-08-01 10:30:00",
            "2025-08-01T10:30:00Z",
            "PJ",
            "pf",
            "yes",
            "x" * 1_000_000,
            "9" * 100_000,
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.lists(st.sampled_from([line(), REF, "A1"]), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.builds(object),
    st.builds(_Opaque),
    st.sampled_from([*CustomerType, *_Colour, *_Number]),
    st.dates(),
    st.datetimes(),
    st.sampled_from([REF, ReceiptRef(series="CH", number="1"), line(), company()]),
)


def _conforms(value: Any, kind: Any) -> bool:
    """True when ``value`` is of the annotated ``kind`` (None always, for required text too)."""
    if value is None:
        return True
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is tuple:
        return isinstance(value, tuple) and all(_conforms(item, args[0]) for item in value)
    if args:  # X | None
        return any(_conforms(value, arg) for arg in args if arg is not type(None))
    if kind is int:
        return type(value) is int
    if kind is Decimal:
        return isinstance(value, Decimal) and value.is_finite()
    if kind is datetime.date:
        return isinstance(value, datetime.date)
    return isinstance(value, kind)


def _send_or_refuse(model: Any) -> None:
    """ensure_valid refuses with FgoValidationError only; what it accepts encodes both ways."""
    assert repr(model)
    assert model == attrs.evolve(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FgoValidationWarning)
        if any(not p.warning for p in find_problems(model)):
            with pytest.raises(FgoValidationError):
                ensure_valid(model)
            return
        ensure_valid(model)
    wire = codec.to_wire(model)
    codec.encode_body(wire, "json")
    codec.encode_body(wire, "form")


def _check(cls: type[Any], name: str, build: Any) -> None:
    kind = attrs.fields_dict(attrs.resolve_types(cls))[name].type
    try:
        model = build()
    except FgoValidationError as error:
        refusal = error
    else:
        assert _conforms(getattr(model, name), kind), (name, getattr(model, name))
        _send_or_refuse(model)
        return
    (problem,) = refusal.problems
    assert problem.field == name or problem.field.startswith(f"{name}["), problem
    assert problem.rule
    assert len(str(refusal)) < 500  # the value is described, never written out whole


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CASES), _WRONG)
def test_any_value_in_any_field_is_converted_or_refused_by_name(
    case: tuple[type[Any], str], value: Any
) -> None:
    cls, name = case
    valid = VALID[cls]
    fields = {f.name: getattr(valid, f.name) for f in attrs.fields(cls)}
    _check(cls, name, lambda: cls(**{**fields, name: value}))
    _check(cls, name, lambda: attrs.evolve(valid, **{name: value}))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CASES), _WRONG)
def test_a_model_altered_behind_its_back_is_still_refused_by_name(
    case: tuple[type[Any], str], value: Any
) -> None:
    # A frozen model can still be altered with object.__setattr__; what it then holds must be
    # found by find_problems, and ensure_valid must raise nothing but FgoValidationError.
    cls, name = case
    altered = attrs.evolve(VALID[cls])
    object.__setattr__(altered, name, value)
    # A customer and a line are checked as parts of an invoice, under their path there.
    request, path = altered, name
    if cls is InvoiceLine:
        request, path = invoice(lines=[line(), altered]), f"lines[1].{name}"
    elif cls is Customer:
        request, path = invoice(customer=altered), f"customer.{name}"
    problems = find_problems(request)
    kind = attrs.fields_dict(attrs.resolve_types(cls))[name].type
    if not _conforms(value, kind):
        assert any(
            p.rule in _TYPE_RULES and (p.field == path or p.field.startswith(f"{path}["))
            for p in problems
        ), problems
    with warnings.catch_warnings(), contextlib.suppress(FgoValidationError):
        warnings.simplefilter("ignore", FgoValidationWarning)
        ensure_valid(request)


_TYPE_RULES = {
    "string",
    "bool",
    "integer",
    "decimal",
    "date",
    "datetime",
    "type",
    "choice",
    "required",
}


@pytest.mark.parametrize("cls", list(VALID), ids=lambda cls: cls.__name__)
def test_the_valid_instances_are_valid(cls: type[Any]) -> None:
    assert find_problems(VALID[cls]) == []
    codec.encode_body(codec.to_wire(VALID[cls]), "form")


#: One value of each kind, for the sweep over every field of every model.
EVERY_KIND: list[Any] = [
    None,
    True,
    0,
    -1,
    2**63,
    10**5000,
    1.5,
    float("nan"),
    Decimal("1.5"),
    Decimal("NaN"),
    Decimal("sNaN"),
    Decimal("1E+999999"),
    b"BV",
    "",
    "BV",
    "19.99",
    "2025-08-01",
    "2025-08-01 10:30:00",
    "x" * 1_000_000,
    [],
    [1, 2],
    ["A1"],
    [line()],
    (x for x in [line()]),
    {"series": "BV"},
    object(),
    _Opaque(),
    CustomerType.PF,
    _Colour.RED,
    _Number.ONE,
    datetime.date(2025, 8, 1),
    datetime.datetime(2025, 8, 1, 10, 30),
    REF,
    ReceiptRef(series="CH", number="1"),
    company(),
]


@pytest.mark.parametrize("cls", list(VALID), ids=lambda cls: cls.__name__)
def test_every_kind_of_value_in_every_field(cls: type[Any]) -> None:
    valid = VALID[cls]
    fields = {f.name: getattr(valid, f.name) for f in attrs.fields(cls)}
    for field in attrs.fields(cls):
        for value in EVERY_KIND:
            if isinstance(value, Iterator):
                value = (x for x in [line()])  # a fresh generator for each field
            _check(cls, field.name, lambda: cls(**{**fields, field.name: value}))  # noqa: B023
