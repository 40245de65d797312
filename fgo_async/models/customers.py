"""What ``client/list`` answers: the customers saved in FGO, page by page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._fields import ItemsMixin, raw_field, wire


@attrs.frozen(kw_only=True)
class CustomerRecord:
    """A customer as FGO keeps it."""

    name: str | None = attrs.field(default=None, metadata=wire("Nume"))
    tax_id: str | None = attrs.field(default=None, metadata=wire("CodUnic"))
    trade_register: str | None = attrs.field(default=None, metadata=wire("NrRegCom"))
    email: str | None = attrs.field(default=None, metadata=wire("Email"))
    phone: str | None = attrs.field(default=None, metadata=wire("Telefon"))
    country: str | None = attrs.field(default=None, metadata=wire("Tara"))
    county: str | None = attrs.field(default=None, metadata=wire("Judet"))
    address: str | None = attrs.field(default=None, metadata=wire("Adresa"))
    bank: str | None = attrs.field(default=None, metadata=wire("Banca"))
    bank_account: str | None = attrs.field(default=None, metadata=wire("ContBanca"))
    external_id: int | None = attrs.field(default=None, metadata=wire("IdExtern"))
    raw: Mapping[str, Any] = raw_field()


@attrs.frozen(kw_only=True)
class CustomerPage(ItemsMixin[CustomerRecord]):
    """One page of ``client/list``; ``total`` counts the customers of every page."""

    total: int | None = attrs.field(default=None, metadata=wire("Total"))
    page: int | None = attrs.field(default=None, metadata=wire("NrPagina"))
    page_size: int | None = attrs.field(default=None, metadata=wire("NrClienti"))
    items: tuple[CustomerRecord, ...] = attrs.field(default=(), metadata=wire("List"))
    raw: Mapping[str, Any] = raw_field()


__all__ = ["CustomerPage", "CustomerRecord"]
