"""What FGO does to a company's books: numbering, issuing, payments, reversals, stock, customers.

Functions over a :class:`~fgo_async.simulator.state.Company`, one per business operation. They
refuse what the vendor refuses by raising :class:`~fgo_async.simulator.messages.Refusal`, and
know nothing about the wire, hashes or timing (times are passed in).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

import attrs

from . import messages, nomenclators
from .assumptions import STRICT, Assumptions
from .issue_rules import RequestedInvoice, RequestedLine
from .messages import Refusal
from .state import (
    Company,
    Document,
    DocumentKind,
    DocumentStatus,
    Line,
    Receipt,
    StockChange,
    StoredArticle,
    StoredCustomer,
    tax_key,
)

__all__ = [
    "LinkMaker",
    "add_payment",
    "associated_invoices",
    "cancel",
    "delete",
    "delete_payment",
    "find_duplicate",
    "find_identical",
    "issue",
    "next_number",
    "require_document",
    "reverse",
    "touch_article",
]

#: Makes the PDF link of a document.
LinkMaker = Callable[[Company, Document], str]


def next_number(company: Company, kind: DocumentKind, series: str) -> str:
    """The next free automatic number of a register: ``"001"``, ``"002"``..."""
    counter = company.counters.get((kind, series), 1)
    while (kind, series, f"{counter:03d}") in company.documents:
        counter += 1
    company.counters[(kind, series)] = counter + 1
    return f"{counter:03d}"


def require_document(
    company: Company, series: str, number: str, kind: DocumentKind | None = None
) -> Document:
    """The live document, or the vendor's refusal that it does not exist."""
    document = company.find(series, number, kind)
    if document is None:
        raise Refusal(messages.not_found(series, number))
    return document


def find_duplicate(company: Company, request: RequestedInvoice) -> Document | None:
    """With ``VerificareDuplicat``: the document already issued for this IdExtern, or for
    this series and number when both are sent. Deleted documents no longer count."""
    if not request.check_duplicate:
        return None
    if request.external_id:
        found = company.with_order_id(request.kind, request.external_id)
        if found is not None:
            return found
    if request.number:
        return company.find(request.series, request.number, request.kind)
    return None


def find_identical(
    company: Company, request: RequestedInvoice, now: float, window: float
) -> Document | None:
    """An identical document (same customer, lines, day) issued less than ``window`` s ago.

    Calls that send both series and number are exempt: FGO issues those "without checking the
    invoice's existence by content" (v3.4).
    """
    if window <= 0 or request.number:
        return None
    fingerprint = request.fingerprint()
    for document in reversed(company.documents.values()):
        if now - document.issued_at >= window:
            break
        if document.fingerprint == fingerprint:
            return document
    return None


def issue(
    company: Company,
    request: RequestedInvoice,
    *,
    now: datetime.datetime,
    loop_time: float,
    make_link: LinkMaker,
) -> Document:
    """Issue a document: number it, save its customer, move stock and log the changes."""
    for line in request.lines:
        _check_warehouse(company, line)
    if request.number:
        if company.find(request.series, request.number, request.kind) is not None:
            raise Refusal(f"Numarul {request.number} din seria {request.series} este deja folosit.")
        number = request.number
    else:
        number = next_number(company, request.kind, request.series)
    document = Document(
        kind=request.kind,
        document_type=request.document_type,
        series=request.series,
        number=number,
        issue_date=request.issue_date,
        due_date=request.due_date,
        currency=request.currency,
        customer=_save_customer(company, request.customer, request.tax_id_usable),
        lines=[_line(line) for line in request.lines],
        total=request.total,
        link="",
        external_id=request.external_id,
        vat_on_collection=request.vat_on_collection,
        vat_on_collection_names=request.vat_on_collection_names,
        text=request.text,
        explanations=request.explanations,
        issued_at=loop_time,
        fingerprint=request.fingerprint(),
    )
    _file(company, document, now, make_link)
    for stored, requested in zip(document.lines, request.lines, strict=True):
        _use_article(company, stored, requested, document.kind, now)
    return document


def _file(
    company: Company, document: Document, now: datetime.datetime, make_link: LinkMaker
) -> None:
    document.link = make_link(company, document)
    company.file(document)


def _check_warehouse(company: Company, line: RequestedLine) -> None:
    code = line.warehouse_code
    if code is not None and all(w.code != code for w in company.warehouses):
        raise Refusal(f"Gestiunea cu codul {code} nu exista.")


def _line(line: RequestedLine) -> Line:
    return Line(
        name=line.name,
        unit=line.unit,
        quantity=line.quantity,
        vat_rate=line.vat_rate,
        unit_price=line.amounts.unit_price,
        net=line.amounts.net,
        vat=line.amounts.vat,
        total=line.amounts.total,
        article_code=line.article_code,
        warehouse_code=line.warehouse_code,
        description=line.description,
    )


def touch_article(company: Company, article: StoredArticle, now: datetime.datetime) -> None:
    """Log a change of ``article`` for ``articol/articolemodificate``."""
    company.change_log.append(StockChange(at=now, article=article))


def _use_article(
    company: Company,
    line: Line,
    requested: RequestedLine,
    kind: DocumentKind,
    now: datetime.datetime,
) -> None:
    # A known code wins over the name; a new name (or code) is a new article (v7.0).
    article = company.find_article(code=line.article_code, name=line.name)
    if article is None:
        article = StoredArticle(
            name=line.name,
            code=line.article_code,
            unit=line.unit,
            unit_price=requested.amounts.unit_price,
            vat_rate=line.vat_rate,
        )
        company.articles.append(article)
        touch_article(company, article, now)
    if kind.moves_stock:
        article.stock -= line.quantity
        touch_article(company, article, now)


def _restock(company: Company, document: Document, now: datetime.datetime, sign: int) -> None:
    if not document.kind.moves_stock:
        return
    for line in document.lines:
        article = company.find_article(code=line.article_code, name=line.name)
        if article is not None:
            article.stock += sign * line.quantity
            touch_article(company, article, now)


def _save_customer(company: Company, sent: StoredCustomer, tax_id_usable: bool) -> StoredCustomer:
    """Find the customer again (IdExtern, then CodUnic, then name and county) and update it,
    or save a new one, as the vendor does since v5.4."""
    found = None
    if sent.external_id is not None:
        found = next(iter(company.customers_with("external_id", sent.external_id)), None)
    if found is None and tax_id_usable and sent.tax_id:
        found = next(iter(company.customers_with("tax", tax_key(sent.tax_id))), None)
    if found is None:
        namesakes = [
            c
            for c in company.customers_with("name", sent.name)
            if _same_county(c.county, sent.county)
        ]
        if len(namesakes) > 1:
            namesakes = [c for c in namesakes if c.locality == sent.locality] or namesakes
        found = namesakes[0] if namesakes else None
    if found is None:
        company.customers.append(sent)
        return sent
    keys = (found.name, found.tax_id, found.external_id)
    for field in (
        "name", "country", "county", "locality", "address", "tax_id", "trade_register",
        "email", "phone", "external_id", "bank_account",
    ):  # fmt: skip
        value = getattr(sent, field)
        if value is not None:
            setattr(found, field, value)
    if (found.name, found.tax_id, found.external_id) != keys:
        company.customers_changed()
    return found


def _same_county(first: str | None, second: str | None) -> bool:
    # "Iasi", "IS" and "Iași" are one county.
    if not first or not second:
        return not first and not second
    return (nomenclators.find_county(first) or nomenclators.fold(first)) == (
        nomenclators.find_county(second) or nomenclators.fold(second)
    )


def _is_last_of_series(company: Company, document: Document) -> bool:
    last = None
    for other in company.documents.values():
        if other.kind is document.kind and other.series == document.series:
            last = other
    return last is document


def delete(
    company: Company,
    document: Document,
    now: datetime.datetime,
    assumptions: Assumptions = STRICT,
) -> None:
    """Delete a document (with ``assumptions``: only the last of its series, without payments
    or a reversal)."""
    if document.receipts and assumptions.no_delete_when_paid:
        raise Refusal("Documentul are incasari asociate. Stergeti mai intai incasarile.")
    if document.reversed_by is not None and assumptions.reversal_is_final:
        raise Refusal("Documentul a fost stornat si nu mai poate fi sters.")
    if assumptions.delete_last_only and not _is_last_of_series(company, document):
        raise Refusal(
            "Se poate sterge doar ultimul document emis pe serie. Pentru celelalte folositi "
            "anularea."
        )
    company.unfile(document)
    if document.status is DocumentStatus.ISSUED:
        _restock(company, document, now, +1)
    _undo_links(document)
    document.status = DocumentStatus.DELETED
    company.deleted.append(document)
    if document.number.isdigit():
        # The number is given again by the register, as after deleting the last invoice in FGO.
        key = (document.kind, document.series)
        company.counters[key] = min(company.counters.get(key, 1), int(document.number))


def _undo_links(document: Document) -> None:
    if document.reversal_of is not None:
        document.reversal_of.status = DocumentStatus.ISSUED
        document.reversal_of.reversed_by = None
    if document.origin is not None and document in document.origin.associated:
        document.origin.associated.remove(document)


def cancel(
    company: Company,
    document: Document,
    now: datetime.datetime,
    assumptions: Assumptions = STRICT,
) -> None:
    """Cancel a document: refused when it is cancelled already (with ``assumptions``: paid, or
    reversed)."""
    if document.status is DocumentStatus.CANCELLED:
        raise Refusal("Documentul este deja anulat.")
    if document.receipts and assumptions.no_cancel_when_paid:
        raise Refusal("Documentul are incasari asociate si nu poate fi anulat.")
    if document.status is DocumentStatus.REVERSED and assumptions.reversal_is_final:
        raise Refusal("Documentul a fost stornat si nu poate fi anulat.")
    if document.status is DocumentStatus.ISSUED:
        # A reversed invoice's goods went back to stock with its reversal already.
        _restock(company, document, now, +1)
    _undo_links(document)
    document.status = DocumentStatus.CANCELLED


def _next_receipt(company: Company, series: str) -> str:
    counter = company.receipt_counters.get(series, 1)
    company.receipt_counters[series] = counter + 1
    return f"{counter:03d}"


def add_payment(
    company: Company,
    document: Document,
    *,
    amount: Decimal,
    paid_at: datetime.datetime,
    payment_type: str,
    receipt_series: str | None,
    account: str | None,
    now: datetime.datetime,
    loop_time: float,
    make_link: LinkMaker,
    assumptions: Assumptions = STRICT,
) -> tuple[Receipt, Document | None]:
    """Record a payment; on a proforma or order it produces the invoice (v6.9), returned too."""
    if document.status is DocumentStatus.CANCELLED:
        raise Refusal("Nu se pot adauga incasari pe un document anulat.")
    if document.kind is DocumentKind.ESTIMATE and assumptions.no_payment_on_estimate:
        raise Refusal("Nu se pot adauga incasari pe un deviz.")
    if amount == 0:
        raise Refusal("SumaIncasata trebuie sa fie diferita de 0.")
    left = document.total - document.paid
    if assumptions.no_overpayment and amount > 0 and amount > left:
        raise Refusal(
            f"Suma incasata ({messages.format_amount(amount)}) depaseste restul de plata "
            f"({messages.format_amount(left)})."
        )
    target, produced = document, None
    if document.kind in (DocumentKind.PROFORMA, DocumentKind.ORDER):
        live = [d for d in document.associated if d.status is not DocumentStatus.DELETED]
        if live:
            target = live[0]
        else:
            target = produced = _invoice_from(company, document, now, loop_time, make_link)
    series = receipt_series or company.receipt_series
    receipt = Receipt(
        series=series,
        number=_next_receipt(company, series),
        amount=amount,
        paid_at=paid_at,
        payment_type=payment_type,
        currency=document.currency,
        document=target,
        origin=document if target is not document else None,
        account=account,
    )
    target.receipts.append(receipt)
    if target is not document:
        document.receipts.append(receipt)
    return receipt, produced


def _invoice_from(
    company: Company,
    source: Document,
    now: datetime.datetime,
    loop_time: float,
    make_link: LinkMaker,
) -> Document:
    series = company.invoice_series
    invoice = Document(
        kind=DocumentKind.INVOICE,
        document_type="Factura",
        series=series,
        number=next_number(company, DocumentKind.INVOICE, series),
        issue_date=now.date(),
        due_date=source.due_date,
        currency=source.currency,
        customer=source.customer,
        lines=[attrs.evolve(line) for line in source.lines],
        total=source.total,
        link="",
        external_id=source.external_id,
        issued_at=loop_time,
        origin=source,
    )
    _file(company, invoice, now, make_link)
    source.associated.append(invoice)
    _restock(company, invoice, now, -1)
    return invoice


def delete_payment(document: Document, series: str, number: str) -> Receipt:
    """Delete a payment recorded on ``document`` (or made on it, for a proforma)."""
    for receipt in document.receipts:
        if receipt.series == series and receipt.number == number:
            for holder in (receipt.document, receipt.origin):
                if holder is not None and receipt in holder.receipts:
                    holder.receipts.remove(receipt)
            return receipt
    # Not "nu a fost gasita": that wording is kept for a missing document or article.
    raise Refusal(
        f"Incasarea cu seria {series} si numarul {number} nu exista pe documentul "
        f"{document.series} {document.number}."
    )


def reverse(
    company: Company,
    document: Document,
    *,
    series: str | None,
    number: str | None,
    issue_date: datetime.date | None,
    now: datetime.datetime,
    loop_time: float,
    make_link: LinkMaker,
    assumptions: Assumptions = STRICT,
) -> Document:
    """Reverse an invoice: a new invoice with the lines negated; the original is marked."""
    if document.kind is not DocumentKind.INVOICE:
        raise Refusal("Doar facturile pot fi stornate.")
    if document.status is DocumentStatus.CANCELLED:
        raise Refusal("Factura este anulata si nu poate fi stornata.")
    if assumptions.reversal_is_final:
        if document.status is DocumentStatus.REVERSED:
            raise Refusal("Factura a fost deja stornata.")
        if document.reversal_of is not None:
            raise Refusal("O factura de stornare nu poate fi stornata.")
    series = series or document.series
    if number:
        if company.find(series, number, DocumentKind.INVOICE) is not None:
            raise Refusal(f"Numarul {number} din seria {series} este deja folosit.")
    else:
        number = next_number(company, DocumentKind.INVOICE, series)
    lines = [
        attrs.evolve(line, quantity=-line.quantity, net=-line.net, vat=-line.vat, total=-line.total)
        for line in document.lines
    ]
    reversal = Document(
        kind=DocumentKind.INVOICE,
        document_type=document.document_type,
        series=series,
        number=number,
        issue_date=issue_date or now.date(),
        due_date=None,
        currency=document.currency,
        customer=document.customer,
        lines=lines,
        total=-document.total,
        link="",
        issued_at=loop_time,
        reversal_of=document,
    )
    _file(company, reversal, now, make_link)
    _restock(company, document, now, +1)
    document.status = DocumentStatus.REVERSED
    document.reversed_by = reversal
    return reversal


def associated_invoices(company: Company, series: str, number: str) -> list[Document]:
    """The invoices produced from a proforma (or an order)."""
    document = company.find(series, number, DocumentKind.PROFORMA) or company.find(
        series, number, DocumentKind.ORDER
    )
    if document is None:
        if company.find(series, number) is not None:
            raise Refusal(f"Documentul cu seria {series} si numarul {number} nu este o proforma.")
        require_document(company, series, number)
    assert document is not None
    return [d for d in document.associated if d.status is not DocumentStatus.DELETED]
