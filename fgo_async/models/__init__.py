"""The typed models of every FGO request and reply: attrs classes, frozen, with English names.

The vendor's name of each field is in its metadata; :mod:`fgo_async.codec` maps between them.
Constructing a model never does I/O.
"""

from .articles import (
    Article,
    ArticlePage,
    Articles,
    ChangedArticle,
    ChangedArticles,
    Warehouse,
    Warehouses,
)
from .customers import CustomerPage, CustomerRecord
from .invoice import (
    Currency,
    Customer,
    CustomerType,
    DecimalInput,
    DocumentType,
    Invoice,
    InvoiceLine,
    InvoiceRef,
    ReceiptRef,
)
from .nomenclature import NOMENCLATURE_NAMES, Nomenclature, NomenclatureItem
from .operations import (
    ArticleCodes,
    ArticleQuery,
    AwbAssignment,
    ChangedArticlesQuery,
    NoParameters,
    PageRequest,
    Payment,
    PaymentDeletion,
    Reversal,
)
from .results import (
    AssociatedInvoice,
    AssociatedInvoices,
    Confirmation,
    InvoiceLink,
    InvoiceStatus,
    IssuedInvoice,
    PaymentReceipt,
    PaymentRecord,
    StockInfo,
)

__all__ = [
    "NOMENCLATURE_NAMES",
    "Article",
    "ArticleCodes",
    "ArticlePage",
    "ArticleQuery",
    "Articles",
    "AssociatedInvoice",
    "AssociatedInvoices",
    "AwbAssignment",
    "ChangedArticle",
    "ChangedArticles",
    "ChangedArticlesQuery",
    "Confirmation",
    "Currency",
    "Customer",
    "CustomerPage",
    "CustomerRecord",
    "CustomerType",
    "DecimalInput",
    "DocumentType",
    "Invoice",
    "InvoiceLine",
    "InvoiceLink",
    "InvoiceRef",
    "InvoiceStatus",
    "IssuedInvoice",
    "NoParameters",
    "Nomenclature",
    "NomenclatureItem",
    "PageRequest",
    "Payment",
    "PaymentDeletion",
    "PaymentReceipt",
    "PaymentRecord",
    "ReceiptRef",
    "Reversal",
    "StockInfo",
    "Warehouse",
    "Warehouses",
]
