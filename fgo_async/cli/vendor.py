"""One ``fgo`` command per vendor method: its arguments, and the client call it makes.

Each :class:`VendorCommand` adds its arguments to its sub-parser and, given a client and the
parsed arguments, returns the method's result (a model, or a list of models for the paged
lists); the CLI prints it as a table or as JSON. An invoice is named by its series and number
exactly as the vendor returned them (``BV 0001``: the number is text, ``0001`` is not ``1``).
"""

from __future__ import annotations

import argparse
import datetime
import sys
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import attrs

from .. import plain
from ..client import FgoClient, Pager
from ..errors import FgoValidationError
from ..models import (
    NOMENCLATURE_NAMES,
    Article,
    CustomerRecord,
    Invoice,
    InvoiceRef,
    Payment,
    ReceiptRef,
)
from .exits import CliError, ExitStatus
from .orders import COMPANY_KEY

T = TypeVar("T")

__all__ = ["COMMANDS", "VendorCommand", "read_invoice_file"]

Call = Callable[[FgoClient, argparse.Namespace], Awaitable[Any]]


@attrs.frozen(kw_only=True)
class VendorCommand:
    """A sub-command that calls one vendor method."""

    name: str
    method: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    call: Call


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount such as 19.99") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount such as 19.99")
    return value


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (yyyy-mm-dd)") from None


def _datetime(text: str) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date and time (yyyy-mm-dd hh:mm:ss)"
        ) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above 0")
    return value


def _ref_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("series", help="the invoice's series, as issued (BV)")
    parser.add_argument("number", help="the invoice's number, exactly as issued (0001)")


def _ref(args: argparse.Namespace) -> InvoiceRef:
    return InvoiceRef(series=args.series, number=args.number)


def read_invoice_file(path: str) -> tuple[Invoice, str | None]:
    """The invoice of a JSON file (``-``: standard input) and the ``cod_unic`` beside it."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        data = plain.loads(text)
    except ValueError as error:
        raise CliError(f"{path} is not JSON: {error}", ExitStatus.INVALID) from None
    company = data.pop(COMPANY_KEY, None) if isinstance(data, dict) else None
    try:
        invoice = plain.structure(data, Invoice)
    except FgoValidationError as error:
        raise FgoValidationError(error.problems, model=f"the invoice in {path}") from None
    return invoice, None if company is None else str(company)


# -- the calls -------------------------------------------------------------------------------


async def _issue(fgo: FgoClient, args: argparse.Namespace) -> Any:
    return await fgo.issue_invoice(args.invoice)


async def _print(fgo: FgoClient, args: argparse.Namespace) -> Any:
    return await fgo.print_invoice(_ref(args))


async def _status(fgo: FgoClient, args: argparse.Namespace) -> Any:
    return await fgo.invoice_status(_ref(args))


async def _cancel(fgo: FgoClient, args: argparse.Namespace) -> Any:
    return await fgo.cancel_invoice(_ref(args))


async def _delete(fgo: FgoClient, args: argparse.Namespace) -> Any:
    return await fgo.delete_invoice(_ref(args))


async def _reverse(fgo: FgoClient, args: argparse.Namespace) -> Any:
    return await fgo.reverse_invoice(
        _ref(args), series=args.reversal_series, number=args.reversal_number, issue_date=args.date
    )


async def _awb(fgo: FgoClient, args: argparse.Namespace) -> Any:
    return await fgo.set_awb(_ref(args), args.awb)


async def _pay(fgo: FgoClient, args: argparse.Namespace) -> Any:
    paid_at = args.at or datetime.datetime.now().replace(microsecond=0)
    payment = Payment(
        invoice=_ref(args),
        payment_type=args.type,
        amount=args.amount,
        paid_at=paid_at,
        receipt_series=args.receipt_series,
        account=args.account,
        document_type=args.document_type,
    )
    return await fgo.add_payment(payment)


async def _delete_payment(fgo: FgoClient, args: argparse.Namespace) -> Any:
    receipt = ReceiptRef(series=args.receipt_series, number=args.receipt_number)
    return await fgo.delete_payment(_ref(args), receipt)


async def _associated(fgo: FgoClient, args: argparse.Namespace) -> Any:
    return await fgo.associated_invoices(_ref(args))


async def _collect(pager: Pager[Any, T], max_pages: int | None) -> list[T]:
    """The items of a pager's pages, stopping after ``max_pages`` pages when it is given."""
    items: list[T] = []
    pages = 0
    async for page in pager:
        items.extend(page.items)
        pages += 1
        if max_pages is not None and pages >= max_pages:
            break
    return items


async def _articles(fgo: FgoClient, args: argparse.Namespace) -> list[Article]:
    return await _collect(fgo.articles(page_size=args.page_size), args.max_pages)


async def _article(fgo: FgoClient, args: argparse.Namespace) -> Any:
    if len(args.codes) == 1:
        return await fgo.article(args.codes[0])
    return await fgo.articles_by_code(args.codes)


async def _changed(fgo: FgoClient, args: argparse.Namespace) -> Any:
    return await fgo.changed_articles(hours=args.hours, until_hours=args.until_hours)


async def _warehouses(fgo: FgoClient, args: argparse.Namespace) -> Any:
    return await fgo.warehouses()


async def _customers(fgo: FgoClient, args: argparse.Namespace) -> list[CustomerRecord]:
    return await _collect(fgo.customers(page_size=args.page_size), args.max_pages)


async def _nomenclature(fgo: FgoClient, args: argparse.Namespace) -> Any:
    return await fgo.nomenclature(args.name, county=args.county)


# -- the arguments ---------------------------------------------------------------------------


def _issue_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        help="a JSON file holding one invoice under the models' Python names (- for stdin); "
        'a "cod_unic" key beside its fields names the company',
    )


def _reverse_arguments(parser: argparse.ArgumentParser) -> None:
    _ref_arguments(parser)
    parser.add_argument("--reversal-series", help="series of the reversal (the vendor picks)")
    parser.add_argument("--reversal-number", help="number of the reversal (the vendor picks)")
    parser.add_argument("--date", type=_date, help="issue date of the reversal (yyyy-mm-dd)")


def _awb_arguments(parser: argparse.ArgumentParser) -> None:
    _ref_arguments(parser)
    parser.add_argument("awb", help="the courier's AWB number")


def _pay_arguments(parser: argparse.ArgumentParser) -> None:
    _ref_arguments(parser)
    parser.add_argument("amount", type=_amount, help="the amount paid (19.99)")
    parser.add_argument(
        "--type",
        required=True,
        help="how it was paid, from nomenclature tipincasare (Card, Numerar, 'Ordin de plata')",
    )
    parser.add_argument(
        "--at", type=_datetime, help="when it was paid (yyyy-mm-dd hh:mm:ss; default: now)"
    )
    parser.add_argument("--receipt-series", help="series of the receipt")
    parser.add_argument("--account", help="the account the money went to")
    parser.add_argument(
        "--document-type", help="Proforma or Comanda when paying one (it becomes an invoice)"
    )


def _delete_payment_arguments(parser: argparse.ArgumentParser) -> None:
    _ref_arguments(parser)
    parser.add_argument("receipt_series", help="the receipt's series")
    parser.add_argument("receipt_number", help="the receipt's number")


def _pages_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--page-size", type=_positive, default=100, help="items per call (100)")
    parser.add_argument("--max-pages", type=_positive, help="stop after this many pages")


def _article_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("codes", nargs="+", metavar="CODE", help="article code (up to 30)")


def _changed_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hours", type=_positive, default=24, help="from this many hours ago")
    parser.add_argument("--until-hours", type=int, help="until this many hours ago (0: now)")


def _nomenclature_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", choices=NOMENCLATURE_NAMES, help="which nomenclator")
    parser.add_argument("--county", help="the county, for localitati (BV, Brasov)")


def _nothing(parser: argparse.ArgumentParser) -> None:
    """No arguments besides the common ones."""


#: Every vendor-method command, in the order ``fgo --help`` lists them.
COMMANDS: tuple[VendorCommand, ...] = (
    VendorCommand(
        name="issue",
        method="factura/emitere",
        help="issue an invoice (or proforma, order, estimate) from a JSON file",
        arguments=_issue_arguments,
        call=_issue,
    ),
    VendorCommand(
        name="print",
        method="factura/print",
        help="the PDF link of a document",
        arguments=_ref_arguments,
        call=_print,
    ),
    VendorCommand(
        name="status",
        method="factura/getstatus",
        help="the value, amount paid and payments of an invoice",
        arguments=_ref_arguments,
        call=_status,
    ),
    VendorCommand(
        name="cancel",
        method="factura/anulare",
        help="cancel an invoice",
        arguments=_ref_arguments,
        call=_cancel,
    ),
    VendorCommand(
        name="delete",
        method="factura/stergere",
        help="delete a document (the vendor allows it for the last one of its series)",
        arguments=_ref_arguments,
        call=_delete,
    ),
    VendorCommand(
        name="reverse",
        method="factura/stornare",
        help="reverse (storno) an invoice; never repeated after a lost reply",
        arguments=_reverse_arguments,
        call=_reverse,
    ),
    VendorCommand(
        name="awb",
        method="factura/awb",
        help="attach a courier AWB number to an invoice",
        arguments=_awb_arguments,
        call=_awb,
    ),
    VendorCommand(
        name="pay",
        method="factura/incasare",
        help="record a payment; on a proforma or order it issues the invoice",
        arguments=_pay_arguments,
        call=_pay,
    ),
    VendorCommand(
        name="delete-payment",
        method="factura/stergereincasare",
        help="delete a recorded payment (receipt)",
        arguments=_delete_payment_arguments,
        call=_delete_payment,
    ),
    VendorCommand(
        name="associated",
        method="factura/listfacturiasociate",
        help="the invoices issued from a proforma",
        arguments=_ref_arguments,
        call=_associated,
    ),
    VendorCommand(
        name="articles",
        method="articol/list",
        help="every article, page by page (one page per 30 s: the vendor's limit)",
        arguments=_pages_arguments,
        call=_articles,
    ),
    VendorCommand(
        name="article",
        method="articol/get",
        help="articles by code (one: articol/get; several: articol/getlist)",
        arguments=_article_arguments,
        call=_article,
    ),
    VendorCommand(
        name="changed-articles",
        method="articol/articolemodificate",
        help="articles changed in a window of hours (one call per 30 min)",
        arguments=_changed_arguments,
        call=_changed,
    ),
    VendorCommand(
        name="warehouses",
        method="articol/gestiune",
        help="the company's warehouses",
        arguments=_nothing,
        call=_warehouses,
    ),
    VendorCommand(
        name="customers",
        method="client/list",
        help="the customers saved in FGO, page by page",
        arguments=_pages_arguments,
        call=_customers,
    ),
    VendorCommand(
        name="nomenclature",
        method="nomenclator/*",
        help="a nomenclator: judet, tara, tva, valuta, tipincasare, localitati --county...",
        arguments=_nomenclature_arguments,
        call=_nomenclature,
    ),
)
