"""fgo_async: the asyncio client for the FGO invoicing API (fgo.ro), with a request scheduler.

::

    from fgo_async import FgoClient, Environment, Invoice, Customer, InvoiceLine

    async with FgoClient(cod_unic="12345678", private_key=key,
                         platform_url="https://shop.example.ro",
                         environment=Environment.TEST) as fgo:
        issued = await fgo.issue_invoice(Invoice(...))
        status = await fgo.invoice_status(issued.ref)

The exceptions live in :mod:`fgo_async.errors` and are re-exported here. The library logs under
the ``fgo_async`` logger (with a ``NullHandler``: nothing is printed unless the application
configures logging), each record with structured fields in ``extra`` (``fgo_company``,
``fgo_method``, ``fgo_attempt``...).
"""

import logging as _logging

from ._version import __version__
from .client import BatchProgress, Environment, FgoClient, Pager
from .endpoints import Bucket
from .errors import (
    CallIdentity,
    FgoApiError,
    FgoAuthenticationError,
    FgoClosedError,
    FgoConfigurationError,
    FgoConnectError,
    FgoConnectionLostError,
    FgoDecodeError,
    FgoDuplicateError,
    FgoError,
    FgoIssueTimeoutError,
    FgoJournalError,
    FgoNotFoundError,
    FgoOutcomeUnknownError,
    FgoQueueFullError,
    FgoQueueTimeoutError,
    FgoRateLimitedError,
    FgoServerError,
    FgoTimeoutError,
    FgoTransportError,
    FgoValidationError,
    FgoValidationWarning,
    Problem,
)
from .models import (
    Article,
    ArticlePage,
    Articles,
    AssociatedInvoice,
    AssociatedInvoices,
    ChangedArticle,
    ChangedArticles,
    Confirmation,
    Currency,
    Customer,
    CustomerPage,
    CustomerRecord,
    CustomerType,
    DocumentType,
    Invoice,
    InvoiceLine,
    InvoiceLink,
    InvoiceRef,
    InvoiceStatus,
    IssuedInvoice,
    Nomenclature,
    NomenclatureItem,
    Payment,
    PaymentReceipt,
    PaymentRecord,
    ReceiptRef,
    StockInfo,
    Warehouse,
    Warehouses,
)
from .scheduling import (
    EventKind,
    RatePolicy,
    RetryBudget,
    RetryPolicy,
    Scheduler,
    SchedulerEvent,
    SchedulerStats,
)
from .transport import AiohttpTransport, MockTransport, RawResponse, Transport

__all__ = [
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

_logging.getLogger("fgo_async").addHandler(_logging.NullHandler())
