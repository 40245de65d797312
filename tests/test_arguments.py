"""The plain arguments of the client's methods: a wrong one is FgoValidationError naming it.

``print_invoice("BV-1")``, ``articles(page_size="10")``, ``nomenclature("judet", county=[])``:
refused before anything is built, queued or sent, with the argument's own name.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

import pytest

from fgo_async import FgoValidationError, InvoiceRef, ReceiptRef
from fgo_async.validation import check_argument
from tests._helpers import client, invoice, reply

REF = InvoiceRef(series="BV", number="1")


def answer(data: dict[str, Any]) -> Any:
    """A handler that answers every request with ``data``."""
    return lambda request: reply(data)


def _refused(problem_of: Any) -> tuple[str, str]:
    with pytest.raises(FgoValidationError) as caught:
        problem_of()
    (problem,) = caught.value.problems
    return problem.field, problem.rule


@pytest.mark.parametrize(
    ("value", "kind", "options", "expected"),
    [
        ("BV-1", InvoiceRef, {}, ("ref", "type")),
        (None, InvoiceRef, {}, ("ref", "required")),
        (True, int, {}, ("ref", "type")),
        (1.0, int, {}, ("ref", "type")),
        (0, int, {"minimum": 1}, ("ref", "minimum")),
        ("ABC", Iterable, {}, ("ref", "type")),
        (5, Iterable, {}, ("ref", "type")),
        ([], str, {"optional": True}, ("ref", "type")),
    ],
)
def test_check_argument_refuses(
    value: Any, kind: Any, options: dict[str, Any], expected: tuple[str, str]
) -> None:
    assert _refused(lambda: check_argument("ref", value, kind, **options)) == expected


@pytest.mark.parametrize(
    ("value", "kind", "options"),
    [
        (REF, InvoiceRef, {}),
        (None, str, {"optional": True}),
        (1, int, {"minimum": 1}),
        (True, bool, {}),
        (["A"], Iterable, {}),
        ("A", (str, int), {}),
    ],
)
def test_check_argument_accepts(value: Any, kind: Any, options: dict[str, Any]) -> None:
    check_argument("ref", value, kind, **options)


def test_the_message_names_the_argument_and_what_it_got() -> None:
    with pytest.raises(FgoValidationError) as caught:
        check_argument("ref", "BV-1", InvoiceRef)
    assert str(caught.value) == "invalid input: ref: must be an InvoiceRef, not 'BV-1'"


CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any], str]] = [
    ("issue_invoice", ({"series": "BV"},), {}, "invoice"),
    ("issue_many", (invoice(),), {}, "invoices"),
    ("print_invoice", ("BV-1",), {}, "ref"),
    ("delete_invoice", (None,), {}, "ref"),
    ("cancel_invoice", (("BV", "1"),), {}, "ref"),
    ("invoice_status", (ReceiptRef(series="BV", number="1"),), {}, "ref"),
    ("add_payment", ({"amount": 1},), {}, "payment"),
    ("delete_payment", ("BV-1", ReceiptRef(series="CH", number="1")), {}, "invoice_ref"),
    ("delete_payment", (REF, REF), {}, "receipt_ref"),
    ("reverse_invoice", ("BV-1",), {}, "ref"),
    ("reverse_invoice", (REF,), {"issue_date": "ieri"}, "issue_date"),
    ("set_awb", ("BV-1", "AWB1"), {}, "ref"),
    ("set_awb", (REF, 123456), {}, "awb"),
    ("associated_invoices", (1,), {}, "ref"),
    ("article", (1042,), {}, "code"),
    ("articles_by_code", ("A1",), {}, "codes"),
    ("articles_by_code", (5,), {}, "codes"),
    ("changed_articles", ("24",), {}, "hours"),
    ("changed_articles", (24, 1.5), {}, "until_hours"),
    ("nomenclature", (["judet"],), {}, "name"),
    ("nomenclature", ("localitati",), {"county": ["Cluj"]}, "county"),
]


@pytest.mark.parametrize(("method", "args", "kwargs", "argument"), CALLS)
async def test_a_wrong_argument_is_refused_before_anything_is_sent(
    method: str, args: tuple[Any, ...], kwargs: dict[str, Any], argument: str
) -> None:
    fgo, transport = client(answer({"Success": True}))
    async with fgo:
        with pytest.raises(FgoValidationError) as caught:
            await getattr(fgo, method)(*args, **kwargs)
    assert caught.value.fields == (argument,)
    assert transport.requests == []


@pytest.mark.parametrize("method", ["articles", "customers"])
@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"page_size": "100"}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"start_page": 0}, "start_page"),
        ({"start_page": True}, "start_page"),
    ],
)
async def test_a_wrong_page_is_refused_when_the_pager_is_made(
    method: str, options: dict[str, Any], argument: str
) -> None:
    fgo, transport = client(answer({"Success": True}))
    async with fgo:
        with pytest.raises(FgoValidationError) as caught:
            getattr(fgo, method)(**options)
    assert caught.value.fields == (argument,)
    assert transport.requests == []


async def test_right_arguments_still_go_out() -> None:
    fgo, transport = client(answer({"Success": True, "Factura": {"Numar": "1", "Serie": "BV"}}))
    async with fgo:
        await fgo.print_invoice(REF)
        await fgo.reverse_invoice(REF, issue_date=datetime.date(2025, 8, 1))
        await fgo.changed_articles(24, until_hours=None)
    assert len(transport.requests) == 3
