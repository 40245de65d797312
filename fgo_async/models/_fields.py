"""Field helpers shared by the models: the wire-name metadata, the raw reply, list replies.

The wire name of a field lives in its attrs metadata (``metadata=wire("Denumire")``), so that the
codec finds every mapping between English field names and the vendor's names in one place. The
checks a request field runs on construction are in :mod:`fgo_async.models._checks`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Generic, TypeAlias, TypeVar

import attrs

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
