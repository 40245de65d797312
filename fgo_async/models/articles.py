"""What the article methods answer: articles, pages of articles, changed articles, warehouses."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from ._fields import ItemsMixin, raw_field, wire, wire_percent


@attrs.frozen(kw_only=True)
class Article:
    """An article (product or service) kept in FGO, with its stock.

    ``vat_rate`` is a percentage (``19``), although the vendor answers it as a fraction (``0.19``).
    """

    name: str | None = attrs.field(default=None, metadata=wire("Nume"))
    unit_price: Decimal | None = attrs.field(default=None, metadata=wire("PretUnitar"))
    unit: str | None = attrs.field(default=None, metadata=wire("UM"))
    account_code: str | None = attrs.field(default=None, metadata=wire("CodConta"))
    vat_rate: Decimal | None = attrs.field(default=None, metadata=wire_percent("CotaTva"))
    stock: Decimal | None = attrs.field(default=None, metadata=wire("Stoc"))
    barcode: str | None = attrs.field(default=None, metadata=wire("CodBare"))
    raw: Mapping[str, Any] = raw_field()


@attrs.frozen(kw_only=True)
class ArticlePage(ItemsMixin[Article]):
    """One page of ``articol/list``; ``total`` counts the articles of every page."""

    total: int | None = attrs.field(default=None, metadata=wire("Total"))
    page: int | None = attrs.field(default=None, metadata=wire("NrPagina"))
    page_size: int | None = attrs.field(default=None, metadata=wire("NrArticole"))
    items: tuple[Article, ...] = attrs.field(default=(), metadata=wire("List"))
    raw: Mapping[str, Any] = raw_field()


@attrs.frozen(kw_only=True)
class Articles(ItemsMixin[Article]):
    """The articles found by ``articol/getlist``."""

    items: tuple[Article, ...] = attrs.field(default=(), metadata=wire("Result"))
    raw: Mapping[str, Any] = raw_field()


@attrs.frozen(kw_only=True)
class ChangedArticle:
    """An article changed, sold or bought in a window (``articol/articolemodificate``)."""

    name: str | None = attrs.field(default=None, metadata=wire("Nume"))
    account_code: str | None = attrs.field(default=None, metadata=wire("CodConta"))
    stock: Decimal | None = attrs.field(default=None, metadata=wire("Stoc"))
    barcode: str | None = attrs.field(default=None, metadata=wire("CodBare"))
    last_used: datetime.datetime | None = attrs.field(
        default=None, metadata=wire("UltimaUtilizare")
    )
    raw: Mapping[str, Any] = raw_field()


@attrs.frozen(kw_only=True)
class ChangedArticles(ItemsMixin[ChangedArticle]):
    """At most the 200 most recent changes of a window; walk narrower windows to see more."""

    items: tuple[ChangedArticle, ...] = attrs.field(default=(), metadata=wire("Result"))
    raw: Mapping[str, Any] = raw_field()

    @property
    def may_be_truncated(self) -> bool:
        """True when the vendor's cap of 200 changes was reached, so older ones may be missing."""
        return len(self.items) >= 200


@attrs.frozen(kw_only=True)
class Warehouse:
    """A stock management unit (gestiune)."""

    code: str | None = attrs.field(default=None, metadata=wire("CodGestiune"))
    name: str | None = attrs.field(default=None, metadata=wire("Nume"))
    raw: Mapping[str, Any] = raw_field()


@attrs.frozen(kw_only=True)
class Warehouses(ItemsMixin[Warehouse]):
    """The warehouses of the company (``articol/gestiune``)."""

    items: tuple[Warehouse, ...] = attrs.field(default=(), metadata=wire("List"))
    raw: Mapping[str, Any] = raw_field()


__all__ = [
    "Article",
    "ArticlePage",
    "Articles",
    "ChangedArticle",
    "ChangedArticles",
    "Warehouse",
    "Warehouses",
]
