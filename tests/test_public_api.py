"""fgo_async.__all__ is exactly the documented public surface, and the README lists the same."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import fgo_async
from fgo_async import errors

README = Path(__file__).resolve().parent.parent / "README.md"

EXPECTED = [
    "AiohttpTransport",
    "Article",
    "ArticlePage",
    "Articles",
    "AssociatedInvoice",
    "AssociatedInvoices",
    "BatchProgress",
    "Bucket",
    "CallIdentity",
    "ChangedArticle",
    "ChangedArticles",
    "Confirmation",
    "Currency",
    "Customer",
    "CustomerPage",
    "CustomerRecord",
    "CustomerType",
    "DocumentType",
    "Environment",
    "EventKind",
    "FgoApiError",
    "FgoAuthenticationError",
    "FgoClient",
    "FgoClosedError",
    "FgoConfigurationError",
    "FgoConnectError",
    "FgoConnectionLostError",
    "FgoDecodeError",
    "FgoDuplicateError",
    "FgoError",
    "FgoIssueTimeoutError",
    "FgoJournalError",
    "FgoNotFoundError",
    "FgoOutcomeUnknownError",
    "FgoQueueFullError",
    "FgoQueueTimeoutError",
    "FgoRateLimitedError",
    "FgoServerError",
    "FgoTimeoutError",
    "FgoTransportError",
    "FgoValidationError",
    "FgoValidationWarning",
    "Invoice",
    "InvoiceLine",
    "InvoiceLink",
    "InvoiceRef",
    "InvoiceStatus",
    "IssuedInvoice",
    "MockTransport",
    "Nomenclature",
    "NomenclatureItem",
    "Pager",
    "Payment",
    "PaymentReceipt",
    "PaymentRecord",
    "Problem",
    "RatePolicy",
    "RawResponse",
    "ReceiptRef",
    "RetryBudget",
    "RetryPolicy",
    "Scheduler",
    "SchedulerEvent",
    "SchedulerStats",
    "StockInfo",
    "Transport",
    "Warehouse",
    "Warehouses",
    "__version__",
]


def test_all_is_exactly_the_documented_surface() -> None:
    assert fgo_async.__all__ == EXPECTED


def test_all_is_sorted_without_duplicates() -> None:
    assert fgo_async.__all__ == sorted(fgo_async.__all__)
    assert len(set(fgo_async.__all__)) == len(fgo_async.__all__)


def test_every_name_is_importable() -> None:
    namespace: dict[str, object] = {}
    exec("from fgo_async import *", namespace)
    for name in EXPECTED:
        assert getattr(fgo_async, name) is namespace[name]


def test_every_public_class_and_function_has_a_docstring() -> None:
    for name in EXPECTED:
        value = getattr(fgo_async, name)
        if isinstance(value, type):
            assert value.__doc__, name


def test_errors_are_re_exported_from_their_module() -> None:
    for name in errors.__all__:
        assert getattr(fgo_async, name) is getattr(errors, name)


def test_the_names_of_design_md_import() -> None:
    from fgo_async import (  # noqa: F401
        Customer,
        Environment,
        FgoClient,
        Invoice,
        InvoiceLine,
        InvoiceRef,
        Payment,
    )
    from fgo_async.errors import (  # noqa: F401
        FgoApiError,
        FgoError,
        FgoOutcomeUnknownError,
        FgoValidationError,
    )


def test_version_comes_from_the_package_metadata() -> None:
    assert fgo_async.__version__ == importlib.metadata.version("fgo_async")


def readme_public_api() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Public API\n", 1)[1].split("\n## ", 1)[0]
    names: list[str] = []
    bullet = False
    for line in section.splitlines():
        if line.startswith("- "):
            bullet = True
        elif not line.startswith("  "):
            bullet = False
        if bullet:
            names += re.findall(
                r"`([A-Za-z_]\w*)`", line.split(":", 1)[1] if line.startswith("- ") else line
            )
    return names


def test_the_readme_lists_the_same_names() -> None:
    listed = readme_public_api()
    assert len(listed) == len(set(listed)), "a name is listed twice"
    assert sorted(listed) == EXPECTED
