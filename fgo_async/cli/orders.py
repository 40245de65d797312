"""The orders file of ``fgo batch``: one invoice per JSON line, under the models' Python names.

::

    {"external_id": "1042", "check_duplicate": true, "series": "BV", "customer": {}, "lines": []}
    {"cod_unic": "87654321", "series": "CJ", "customer": {}, "lines": []}

Each line is an :class:`~fgo_async.Invoice` as :mod:`fgo_async.plain` reads it; beside its fields
an optional ``"cod_unic"`` names the issuing company (the default company otherwise). Blank lines
are skipped. A line's **key**, which the results file remembers it by, is its ``external_id``
(the shop's order id) when it has one, else ``#`` and its line number (``#7``): give every line
an ``external_id`` if the file may be edited between runs, since line numbers move.

A file with a line that cannot be read (bad JSON, an unknown field, a wrong type, a key used
twice for one company) is refused whole, every bad line listed, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs

from .. import plain
from ..errors import FgoValidationError
from ..models import Invoice
from .exits import CliError, ExitStatus

__all__ = ["COMPANY_KEY", "OrderLine", "parse_orders", "read_orders"]

#: The key beside an invoice's fields that names its issuing company.
COMPANY_KEY = "cod_unic"

#: How many bad lines a refusal lists before "and N more".
_SHOWN = 5


@attrs.frozen(kw_only=True)
class OrderLine:
    """One invoice of the orders file: its line number, key and company."""

    line: int
    key: str
    cod_unic: str
    invoice: Invoice

    @property
    def identity(self) -> tuple[str, str]:
        """What the results file knows the line by: its company and key."""
        return self.cod_unic, self.key


def _one(number: int, text: str, default_company: str | None) -> OrderLine:
    try:
        data = plain.loads(text)
    except ValueError as error:
        raise ValueError(f"not JSON: {error}") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    company = data.pop(COMPANY_KEY, None)
    if company is None:
        company = default_company
        if company is None:
            raise ValueError(f"no company: add {COMPANY_KEY!r}, or configure a default company")
    elif not isinstance(company, (str, int)) or isinstance(company, bool):
        raise ValueError(f"{COMPANY_KEY} must be text")
    try:
        invoice = plain.structure(data, Invoice)
    except FgoValidationError as error:
        raise ValueError("; ".join(str(p) for p in error.problems)) from None
    key = invoice.external_id or f"#{number}"
    return OrderLine(
        line=number,
        key=key,
        cod_unic=str(company),
        invoice=invoice,
    )


def parse_orders(
    lines: Iterable[str], *, default_company: str | None = None, source: str = "orders"
) -> list[OrderLine]:
    """The orders of a file's lines; raises CliError (exit 3) listing every bad line.

    ``default_company`` issues the lines that name no company.
    """
    orders: list[OrderLine] = []
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            order = _one(number, text, default_company)
        except ValueError as error:
            problems.append(f"line {number}: {error}")
            continue
        earlier = seen.setdefault(order.identity, number)
        if earlier != number:
            problems.append(f"line {number}: key {order.key} is also on line {earlier}")
            continue
        orders.append(order)
    if problems:
        shown = problems[:_SHOWN]
        more = f"; and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
        raise CliError(
            f"{source}: {len(problems)} line(s) cannot be read, nothing was sent: "
            + "; ".join(shown)
            + more,
            ExitStatus.INVALID,
        )
    return orders


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as file:
        yield from file


def read_orders(path: Path, *, default_company: str | None = None) -> list[OrderLine]:
    """The orders of the file at ``path``."""
    try:
        return parse_orders(_lines(path), default_company=default_company, source=str(path))
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise CliError(f"{path} is not UTF-8 text", ExitStatus.INVALID) from None
