"""Line and document amounts, computed as FGO computes them, in both directions.

Classic direction: the unit price excludes VAT; ``net = quantity x unit price`` and the VAT on
top, each rounded to the ban (two decimals, half up). Reverse direction: the line total includes
VAT and quantity; the net is taken out of it and the unit price follows from the net. The
document total is the sum of the line totals, VAT included.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Context, Decimal

import attrs

__all__ = ["LineAmounts", "document_total", "from_total", "from_unit_price", "money"]

_CENT = Decimal("0.01")
_UNIT_PLACES = Decimal("0.0001")
_HUNDRED = Decimal(100)
# Rounding to the ban must not fail on large amounts: the default context's 28 digits would
# (the wire readers let numbers of 15 digits through, and a quantity times a price has 30).
_ROUNDING = Context(prec=80, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> Decimal:
    """``value`` rounded to two decimals, half up, as an invoice shows it."""
    return value.quantize(_CENT, context=_ROUNDING)


@attrs.frozen
class LineAmounts:
    """What a line comes to: unit price (VAT excluded), net, VAT and total (VAT included)."""

    unit_price: Decimal
    net: Decimal
    vat: Decimal
    total: Decimal


def from_unit_price(quantity: Decimal, unit_price: Decimal, vat_rate: Decimal) -> LineAmounts:
    """The classic direction: from the unit price without VAT to the line total."""
    net = money(quantity * unit_price)
    vat = money(net * vat_rate / _HUNDRED)
    return LineAmounts(unit_price=unit_price, net=net, vat=vat, total=net + vat)


def from_total(quantity: Decimal, total: Decimal, vat_rate: Decimal) -> LineAmounts:
    """The reverse direction: from the line total with VAT back to the unit price.

    A negative quantity (a return) makes the line total negative whatever sign was sent.
    """
    if quantity < 0 < total:
        total = -total
    total = money(total)
    net = money(total / (1 + vat_rate / _HUNDRED))
    unit_price = (net / quantity).quantize(_UNIT_PLACES, context=_ROUNDING)
    return LineAmounts(unit_price=abs(unit_price), net=net, vat=total - net, total=total)


def document_total(line_totals: Iterable[Decimal]) -> Decimal:
    """The value of a document: the sum of its line totals, VAT included."""
    return money(sum(line_totals, Decimal("0")))
