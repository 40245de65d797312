"""Field helpers shared by the models: wire-name metadata and the converters run on construction.

The wire name of a field lives in its attrs metadata (``metadata=wire("Denumire")``), so that the
codec finds every mapping between English field names and the vendor's names in one place.
Converters accept the convenient inputs (``"19.99"``, ``21``) and refuse the dangerous one: a
``float`` never becomes money, since ``19.99`` as a float is not 19.99.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Generic, TypeAlias, TypeVar

import attrs

from ..errors import FgoValidationError, Problem

#: What a money or quantity field accepts: a Decimal, an int, or a decimal string.
DecimalInput: TypeAlias = "Decimal | int | str"

WIRE_KEY = "fgo_wire"
ALIASES_KEY = "fgo_aliases"
RAW_KEY = "fgo_raw"
#: Marks a field this library fills in itself: it is never sent nor read from a reply.
LOCAL_KEY = "fgo_local"

T = TypeVar("T")

EMPTY_RAW: Mapping[str, Any] = MappingProxyType({})


def wire(name: str, *aliases: str) -> dict[str, Any]:
    """Field metadata naming the vendor's key for a field, with other spellings seen in replies."""
    return {WIRE_KEY: name, ALIASES_KEY: aliases}


def raw_field() -> Any:
    """The ``raw`` field of a reply model: the vendor's reply, kept for debugging.

    It stays out of ``repr`` and equality, so two replies that mean the same compare equal.
    """
    return attrs.field(default=EMPTY_RAW, eq=False, repr=False, metadata={RAW_KEY: True})


def local_field(default: Any, doc: str) -> Any:
    """A field of a reply model that the library sets, not the vendor (never on the wire).

    ``doc`` says what it means; the README's wire table shows it.
    """
    return attrs.field(default=default, metadata={LOCAL_KEY: doc})


def to_decimal(value: object, field: str) -> Decimal:
    """Turn ``value`` into a finite Decimal, or raise FgoValidationError naming ``field``."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (bool, float)):
        # bool is an int, and float is inexact: both are refused rather than guessed.
        kind = type(value).__name__
        raise FgoValidationError(
            [
                Problem(
                    field=field,
                    rule="decimal",
                    message=f"a {kind} is not accepted here; "
                    "pass a Decimal, an int or a string such as '19.99'",
                )
            ]
        )
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise FgoValidationError(
                [Problem(field=field, rule="decimal", message=f"{value!r} is not a number")]
            ) from None
    else:
        raise FgoValidationError(
            [
                Problem(
                    field=field, rule="decimal", message=f"a {type(value).__name__} is not a number"
                )
            ]
        )
    if not result.is_finite():
        raise FgoValidationError(
            [Problem(field=field, rule="decimal", message=f"{value!r} is not a finite number")]
        )
    return result


def to_optional_decimal(value: object, field: str) -> Decimal | None:
    """Like :func:`to_decimal`, letting ``None`` through."""
    return None if value is None else to_decimal(value, field)


def quantity(value: DecimalInput) -> Decimal:
    """Converter for a quantity."""
    return to_decimal(value, "quantity")


def vat_rate(value: DecimalInput) -> Decimal:
    """Converter for a VAT rate in percent."""
    return to_decimal(value, "vat_rate")


def unit_price(value: DecimalInput | None) -> Decimal | None:
    """Converter for an optional unit price."""
    return to_optional_decimal(value, "unit_price")


def total_price(value: DecimalInput | None) -> Decimal | None:
    """Converter for an optional line total."""
    return to_optional_decimal(value, "total_price")


def amount(value: DecimalInput) -> Decimal:
    """Converter for a payment amount."""
    return to_decimal(value, "amount")


FLATTEN_KEY = "fgo_flatten"


def flatten(**names: str) -> dict[str, Any]:
    """Field metadata for a nested reference sent as flat keys (``series="SerieFactura"``).

    The vendor names the invoice of a payment ``NumarFactura``/``SerieFactura`` at the top level
    of the body; the model keeps it as one :class:`InvoiceRef`.
    """
    return {FLATTEN_KEY: names}


FRACTION_PERCENT_KEY = "fgo_fraction_percent"


def wire_percent(name: str, *aliases: str) -> dict[str, Any]:
    """Metadata for a VAT rate that the vendor answers as a fraction (``0.19``) but means 19 %."""
    return {**wire(name, *aliases), FRACTION_PERCENT_KEY: True}


class ItemsMixin(Generic[T]):
    """Makes a reply that holds a list (``items``) iterable, sized and indexable like a tuple."""

    __slots__ = ()

    items: tuple[T, ...]

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]
