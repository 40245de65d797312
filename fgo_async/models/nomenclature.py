"""What the nomenclators answer: lists of names and codes (counties, countries, VAT rates...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._fields import ItemsMixin, raw_field, wire

#: The nomenclators the vendor serves (``nomenclator/<name>``).
NOMENCLATURE_NAMES = (
    "tara",
    "judet",
    "tva",
    "banca",
    "tipincasare",
    "tipfactura",
    "tipclient",
    "valuta",
    "localitati",
)


@attrs.frozen(kw_only=True)
class NomenclatureItem:
    """One entry: its name and its value (the vendor's documents say ``Valoare``; live, ``Cod``)."""

    name: str | None = attrs.field(default=None, metadata=wire("Nume"))
    value: str | None = attrs.field(default=None, metadata=wire("Valoare", "Cod"))
    raw: Mapping[str, Any] = raw_field()


@attrs.frozen(kw_only=True)
class Nomenclature(ItemsMixin[NomenclatureItem]):
    """A nomenclator: iterate its entries, or look a value up by name with :meth:`value_of`."""

    items: tuple[NomenclatureItem, ...] = attrs.field(default=(), metadata=wire("List"))
    raw: Mapping[str, Any] = raw_field()

    def names(self) -> tuple[str, ...]:
        """The names of the entries, in the vendor's order."""
        return tuple(item.name for item in self.items if item.name is not None)

    def value_of(self, name: str) -> str | None:
        """The value of the entry called ``name`` (compared without case), or None."""
        wanted = name.casefold()
        for item in self.items:
            if item.name is not None and item.name.casefold() == wanted:
                return item.value
        return None


__all__ = ["NOMENCLATURE_NAMES", "Nomenclature", "NomenclatureItem"]
