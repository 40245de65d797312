"""The vendor methods: authenticate a decoded call, apply it to the books, shape the reply.

:class:`VendorMethods` answers one call at a time, synchronously (the simulator core does the
timing around it). It checks the company, the Hash of the method (:mod:`fgo_async.endpoints`
says what is hashed, :func:`fgo_async.signing.compute_hash` computes it) and the plan, then runs
the method's handler. Replies have the shapes of the vendor's documents, looseness included: the
article VAT as a fraction (``0.21``), money as strings in ``getstatus``, ``um`` in lower case in
``articol/get``.
"""

from __future__ import annotations

import datetime
import hmac
from collections.abc import Callable, Mapping, MutableMapping
from decimal import Decimal
from typing import Any

from ..codec import dig
from ..endpoints import ENDPOINTS
from ..signing import compute_hash
from . import books, messages, nomenclators
from .assumptions import Assumptions
from .issue_rules import document_kind, read_date, read_invoice
from .messages import Refusal
from .state import Company, Document, Plan, StoredArticle
from .wire import decimal, integer, text

__all__ = [
    "AUTH_FAILURES",
    "DUPLICATE_REPLIES",
    "ENVIRONMENTS",
    "MAX_CHANGED_ARTICLES",
    "MAX_CHANGED_HOURS",
    "MAX_GETLIST_CODES",
    "VendorMethods",
]

MAX_CHANGED_ARTICLES = 200
MAX_CHANGED_HOURS = 170
MAX_GETLIST_CODES = 30
_HUNDRED = Decimal(100)

#: The plan each method needs (v4.1, v4.3, v4.4); the others work on every plan.
_PLAN_NEEDED: Mapping[str, Plan] = {
    "factura/incasare": Plan.PREMIUM,
    "factura/stergereincasare": Plan.PREMIUM,
    "factura/getstatus": Plan.PREMIUM,
    "factura/listfacturiasociate": Plan.ENTERPRISE,
    "articol/list": Plan.ENTERPRISE,
    "articol/getlist": Plan.ENTERPRISE,
    "articol/articolemodificate": Plan.ENTERPRISE,
}
_PLAN_ORDER = (Plan.PRO, Plan.PREMIUM, Plan.ENTERPRISE)

#: Whose wording bad credentials get: the live vendor's production or test environment.
ENVIRONMENTS = ("production", "test")
#: How bad credentials are answered: a refusal (HTTP 200), or HTTP 500 with a .NET exception.
AUTH_FAILURES = ("refusal", "exception")
#: How a duplicate is refused: with the existing invoice in a ``Factura`` object (series,
#: number, link), or in the message alone (series and number, no link).
DUPLICATE_REPLIES = ("factura", "message")


def _one_of(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise ValueError(f"{option} is one of {', '.join(allowed)}, not {value!r}")
    return value


Reply = dict[str, Any]
Handler = Callable[[Company, Mapping[str, Any]], Reply]


def _ok(**parts: Any) -> Reply:
    return {"Success": True, "Message": "", **parts}


def _required_text(payload: Mapping[str, Any], key: str) -> str:
    value = text(payload.get(key))
    if value is None or not value.strip():
        raise Refusal(messages.required(key))
    return value.strip()


def _optional_text(payload: Mapping[str, Any], key: str) -> str | None:
    value = text(payload.get(key))
    return value.strip() if value is not None and value.strip() else None


def _fraction(rate: Decimal) -> Decimal:
    # The vendor answers the article VAT as a fraction of one: 21 % is 0.21.
    return rate / _HUNDRED


class VendorMethods:
    """The vendor methods over a set of companies.

    ``now`` gives the simulated wall-clock time (for issue dates, VAT rates and the article
    change log), ``loop_time`` the event loop's clock (for the identical-invoice window of
    ``identical_window`` seconds), ``make_link`` the PDF link of a document. The other options
    choose among the vendor's observed behaviours: ``environment`` (:data:`ENVIRONMENTS`) and
    ``auth_failure`` (:data:`AUTH_FAILURES`) for bad credentials, ``duplicate_reply``
    (:data:`DUPLICATE_REPLIES`), ``nomenclator_code`` (``"Cod"`` as live, ``"Valoare"`` as
    documented); ``assumptions`` are the simulator's own rules in force.
    """

    def __init__(
        self,
        companies: MutableMapping[str, Company],
        *,
        now: Callable[[], datetime.datetime],
        loop_time: Callable[[], float],
        make_link: books.LinkMaker,
        identical_window: float = 10.0,
        environment: str = "production",
        auth_failure: str = "refusal",
        duplicate_reply: str = "factura",
        nomenclator_code: nomenclators.ItemKey = "Cod",
        assumptions: Assumptions | None = None,
    ) -> None:
        self.companies = companies
        self.now = now
        self.loop_time = loop_time
        self.make_link = make_link
        self.identical_window = identical_window
        self.environment = _one_of(environment, ENVIRONMENTS, "environment")
        self.auth_failure = _one_of(auth_failure, AUTH_FAILURES, "auth_failure")
        self.duplicate_reply = _one_of(duplicate_reply, DUPLICATE_REPLIES, "duplicate_reply")
        if nomenclator_code not in ("Cod", "Valoare"):
            raise ValueError(f"nomenclator_code is Cod or Valoare, not {nomenclator_code!r}")
        self.nomenclator_code: nomenclators.ItemKey = nomenclator_code
        self.assumptions = assumptions or Assumptions()
        self._handlers: dict[str, Handler] = {
            "factura/emitere": self.issue,
            "factura/print": self.print_invoice,
            "factura/stergere": self.delete,
            "factura/anulare": self.cancel,
            "factura/getstatus": self.status,
            "factura/incasare": self.add_payment,
            "factura/stergereincasare": self.delete_payment,
            "factura/stornare": self.reverse,
            "factura/awb": self.set_awb,
            "factura/listfacturiasociate": self.associated,
            "articol/list": self.article_page,
            "articol/get": self.article,
            "articol/getlist": self.articles_by_code,
            "articol/articolemodificate": self.changed_articles,
            "articol/gestiune": self.warehouses,
            "client/list": self.customer_page,
        }

    # -- the entry point ----------------------------------------------------------------------

    def serve(self, name: str, payload: Mapping[str, Any]) -> Reply:
        """The reply to signed method ``name``; raises Refusal for what the vendor refuses."""
        handler = self._handlers[name]
        company = self.authenticate(name, payload)
        needed = _PLAN_NEEDED.get(name)
        if needed is not None and _PLAN_ORDER.index(company.plan) < _PLAN_ORDER.index(needed):
            raise Refusal(
                f"Metoda {name} este disponibila doar cu abonamentul {needed.value} "
                f"(abonament curent: {company.plan.value})."
            )
        return handler(company, payload)

    def authenticate(self, name: str, payload: Mapping[str, Any]) -> Company:
        """The calling company, once its ``CodUnic`` and ``Hash`` are right.

        An unknown company and a wrong Hash are refused alike, as the vendor does.
        """
        cod_unic = _required_text(payload, "CodUnic")
        sent = _required_text(payload, "Hash")
        company = self.companies.get(cod_unic)
        if company is None:
            raise self._unauthorized(name, cod_unic)
        endpoint = ENDPOINTS[name]
        subject = ""
        if endpoint.hash_input is not None:
            subject = text(dig(payload, *endpoint.hash_input)) or ""
        expected = compute_hash(company.cod_unic, company.private_key, subject)
        # Compared in constant time, like any credential; the vendor wants upper-case hex.
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            raise self._unauthorized(name, cod_unic)
        return company

    def _unauthorized(self, name: str, cod_unic: str) -> Refusal:
        message = messages.unauthorized(cod_unic, self.environment)
        if self.auth_failure == "exception":
            return Refusal(messages.dotnet_exception(message, name), status=500)
        return Refusal(message)

    def nomenclator(self, name: str, params: Mapping[str, Any]) -> Reply:
        """The reply of ``nomenclator/<name>``; ``params`` come from the query or the body
        (``judet`` for ``localitati``)."""
        county = text(params.get("judet")) or text(params.get("Judet"))
        if name == "localitati" and not county:
            raise Refusal(messages.COUNTY_NEEDED)
        reply = nomenclators.nomenclator_reply(
            name, county, today=self.now().date(), item_key=self.nomenclator_code
        )
        if reply is None:
            raise Refusal(messages.not_in_nomenclator("judet", county or ""))
        return reply

    # -- invoices -----------------------------------------------------------------------------

    def issue(self, company: Company, payload: Mapping[str, Any]) -> Reply:
        """``factura/emitere``."""
        now = self.now()
        request = read_invoice(payload, today=now.date(), assumptions=self.assumptions)
        existing = books.find_duplicate(company, request)
        if existing is not None:
            found = {"Serie": existing.series, "Numar": existing.number, "Link": existing.link}
            raise Refusal(
                messages.already_saved(existing.series, existing.number),
                extra={"Factura": found} if self.duplicate_reply == "factura" else None,
            )
        identical = books.find_identical(company, request, self.loop_time(), self.identical_window)
        if identical is not None:
            raise Refusal(
                messages.already_issued(
                    identical.series, identical.number, "Un document identic a fost trimis recent"
                ),
                status=409,
            )
        document = books.issue(
            company, request, now=now, loop_time=self.loop_time(), make_link=self.make_link
        )
        stock = []
        for line in document.lines:
            article = company.find_article(code=line.article_code, name=line.name)
            if article is not None:
                stock.append(
                    {"CodConta": article.code, "Nume": article.name, "Stoc": article.stock}
                )
        invoice = {
            "Numar": document.number,
            "Serie": document.series,
            "Link": document.link,
            "LinkPlata": document.payment_link,
        }
        return _ok(Factura=invoice, InfoStoc=stock)

    def _document(self, company: Company, payload: Mapping[str, Any]) -> Document:
        number = _required_text(payload, "Numar")
        series = _required_text(payload, "Serie")
        return books.require_document(company, series, number)

    def print_invoice(self, company: Company, payload: Mapping[str, Any]) -> Reply:
        """``factura/print``: the PDF link."""
        document = self._document(company, payload)
        return _ok(
            Factura={"Numar": document.number, "Serie": document.series, "Link": document.link}
        )

    def delete(self, company: Company, payload: Mapping[str, Any]) -> Reply:
        """``factura/stergere``."""
        books.delete(company, self._document(company, payload), self.now(), self.assumptions)
        return {"Success": True, "Message": "Factura a fost stearsa."}

    def cancel(self, company: Company, payload: Mapping[str, Any]) -> Reply:
        """``factura/anulare``."""
        books.cancel(company, self._document(company, payload), self.now(), self.assumptions)
        return {"Success": True, "Message": "Factura a fost anulata."}

    def status(self, company: Company, payload: Mapping[str, Any]) -> Reply:
        """``factura/getstatus``: value and amount paid as strings, payments as numbers."""
        document = self._document(company, payload)
        payments = [
            {
                "SumaIncasata": r.amount,
                "DataIncasare": r.paid_at.date().isoformat(),
                "Valuta": r.currency,
            }
            for r in document.receipts
        ]
        invoice = {
            "Numar": document.number,
            "Serie": document.series,
            "Valoare": messages.format_amount(document.total),
            "ValoareAchitata": messages.format_amount(document.paid),
            "Incasari": payments,
        }
        return _ok(Factura=invoice)

    def add_payment(self, company: Company, payload: Mapping[str, Any]) -> Reply:
        """``factura/incasare``; on a proforma or order the reply carries the invoice too."""
        number = _required_text(payload, "NumarFactura")
        series = _required_text(payload, "SerieFactura")
        kind_text = _optional_text(payload, "TipFactura")
        kind = document_kind(kind_text) if kind_text else None
        document = books.require_document(company, series, number, kind)
        payment_type = _required_text(payload, "TipIncasare")
        if nomenclators.lookup(nomenclators.PAYMENT_TYPES, payment_type) is None:
            raise Refusal(messages.not_in_nomenclator("TipIncasare", payment_type))
        amount = decimal(payload.get("SumaIncasata"), "SumaIncasata")
        if amount is None:
            raise Refusal(messages.required("SumaIncasata"))
        paid_at = _read_datetime(_required_text(payload, "DataIncasare"))
        receipt, produced = books.add_payment(
            company,
            document,
            amount=amount,
            paid_at=paid_at,
            payment_type=payment_type,
            receipt_series=_optional_text(payload, "SerieChitanta"),
            account=_optional_text(payload, "ContIncasare"),
            now=self.now(),
            loop_time=self.loop_time(),
            make_link=self.make_link,
            assumptions=self.assumptions,
        )
        reply = _ok(Incasare={"Numar": receipt.number, "Serie": receipt.series})
        if produced is not None:
            reply["Factura"] = {
                "Numar": produced.number,
                "Serie": produced.series,
                "Link": produced.link,
            }
        return reply

    def delete_payment(self, company: Company, payload: Mapping[str, Any]) -> Reply:
        """``factura/stergereincasare``."""
        number = _required_text(payload, "NumarFactura")
        series = _required_text(payload, "SerieFactura")
        document = books.require_document(company, series, number)
        books.delete_payment(
            document,
            _required_text(payload, "SerieIncasare"),
            _required_text(payload, "NumarIncasare"),
        )
        return {"Success": True, "Message": "Incasarea a fost stearsa."}

    def reverse(self, company: Company, payload: Mapping[str, Any]) -> Reply:
        """``factura/stornare``: the reversal invoice."""
        document = self._document(company, payload)
        reversal = books.reverse(
            company,
            document,
            series=_optional_text(payload, "SerieStorno"),
            number=_optional_text(payload, "NumarStorno"),
            issue_date=read_date(payload.get("DataEmitere"), "DataEmitere"),
            now=self.now(),
            loop_time=self.loop_time(),
            make_link=self.make_link,
            assumptions=self.assumptions,
        )
        return _ok(
            Factura={"Numar": reversal.number, "Serie": reversal.series, "Link": reversal.link}
        )

    def set_awb(self, company: Company, payload: Mapping[str, Any]) -> Reply:
        """``factura/awb``: the documents answer ``Success`` alone."""
        document = self._document(company, payload)
        awb = _required_text(payload, "AWB")
        if len(awb) > 128:
            raise Refusal("Campul AWB depaseste lungimea maxima de 128 caractere.")
        document.awb = awb
        return {"Success": True}

    def associated(self, company: Company, payload: Mapping[str, Any]) -> Reply:
        """``factura/listfacturiasociate``: the invoices produced from a proforma."""
        number = _required_text(payload, "Numar")
        series = _required_text(payload, "Serie")
        invoices = [
            {
                "Numar": d.number,
                "Serie": d.series,
                "Valoare": messages.format_amount(d.total),
                "ValoareAchitata": messages.format_amount(d.paid),
                "DataEmitere": d.issue_date.isoformat(),
                "Link": d.link,
            }
            for d in books.associated_invoices(company, series, number)
        ]
        return {"Success": True, "Facturi": invoices}

    # -- articles and customers ---------------------------------------------------------------

    @staticmethod
    def _page(payload: Mapping[str, Any]) -> tuple[int, int]:
        page = integer(payload.get("NrPagina"), "NrPagina")
        if page is None:
            raise Refusal(messages.required("NrPagina"))
        size = integer(payload.get("NrArticole"), "NrArticole") if payload.get("NrArticole") else 10
        if page < 1 or size is None or size < 1:
            raise Refusal("NrPagina si NrArticole trebuie sa fie numere mai mari decat 0.")
        return page, size

    def article_page(self, company: Company, payload: Mapping[str, Any]) -> Reply:
        """``articol/list``: one page, and the total to page by."""
        page, size = self._page(payload)
        chosen = company.articles[(page - 1) * size : page * size]
        result = {
            "Total": len(company.articles),
            "NrPagina": page,
            "NrArticole": size,
            "List": [_article(a) for a in chosen],
        }
        return {"Result": result, "Success": True}

    def article(self, company: Company, payload: Mapping[str, Any]) -> Reply:
        """``articol/get``."""
        code = _required_text(payload, "CodArticol")
        found = company.find_article(code=code)
        if found is None:
            raise Refusal(f"Articolul cu codul {code} nu a fost gasit.")
        return {"Result": _article(found), "Success": True}

    def articles_by_code(self, company: Company, payload: Mapping[str, Any]) -> Reply:
        """``articol/getlist``: at most 30 codes; unknown codes are left out."""
        codes = payload.get("Coduri")
        if not isinstance(codes, list) or not codes:
            raise Refusal(messages.required("Coduri"))
        if len(codes) > MAX_GETLIST_CODES:
            raise Refusal(f"Se pot cere cel mult {MAX_GETLIST_CODES} coduri de articol.")
        found = []
        for code in codes:
            article = company.find_article(code=text(code))
            if article is not None:
                found.append(
                    {
                        "Nume": article.name,
                        "PretUnitar": article.unit_price,
                        "CotaTva": _fraction(article.vat_rate),
                        "UM": article.unit,
                        "CodConta": article.code,
                        "Stoc": article.stock,
                        "CodBare": article.barcode,
                    }
                )
        return {"Result": found, "Success": True}

    def changed_articles(self, company: Company, payload: Mapping[str, Any]) -> Reply:
        """``articol/articolemodificate``: the articles changed in [now - NumarOre,
        now - NumarOrePanaLa], at most the 200 most recent, oldest first."""
        hours = integer(payload.get("NumarOre"), "NumarOre") if payload.get("NumarOre") else 24
        if hours is None or not 1 <= hours <= MAX_CHANGED_HOURS:
            raise Refusal(f"NumarOre trebuie sa fie intre 1 si {MAX_CHANGED_HOURS}.")
        until = (
            integer(payload.get("NumarOrePanaLa"), "NumarOrePanaLa")
            if payload.get("NumarOrePanaLa")
            else 0
        )
        if until is None or not 0 <= until < hours:
            raise Refusal("NumarOrePanaLa trebuie sa fie mai mic decat NumarOre.")
        now = self.now()
        start = now - datetime.timedelta(hours=hours)
        end = now - datetime.timedelta(hours=until)
        latest: dict[int, tuple[datetime.datetime, StoredArticle]] = {}
        for change in reversed(company.change_log):
            if start <= change.at <= end and id(change.article) not in latest:
                latest[id(change.article)] = (change.at, change.article)
                if len(latest) == MAX_CHANGED_ARTICLES:
                    break
        ordered = sorted(latest.values(), key=lambda pair: pair[0])
        result = [
            {
                "Nume": article.name,
                "CodConta": article.code,
                "Stoc": article.stock,
                "CodBare": article.barcode,
                "UltimaUtilizare": at.strftime("%Y-%m-%d %H:%M:%S"),
            }
            for at, article in ordered
        ]
        return {"Result": result, "Success": True}

    def warehouses(self, company: Company, payload: Mapping[str, Any]) -> Reply:
        """``articol/gestiune``."""
        listed = [{"CodGestiune": w.code, "Nume": w.name} for w in company.warehouses]
        return {"Result": {"List": listed}, "Success": True}

    def customer_page(self, company: Company, payload: Mapping[str, Any]) -> Reply:
        """``client/list``: one page of the saved customers."""
        page, size = self._page(payload)
        chosen = company.customers[(page - 1) * size : page * size]
        listed = [
            {
                "Nume": c.name,
                "CodUnic": c.tax_id,
                "NrRegCom": c.trade_register,
                "Email": c.email,
                "Telefon": c.phone,
                "Tara": c.country,
                "Judet": c.county,
                "Adresa": c.address,
                "Banca": c.bank,
                "ContBanca": c.bank_account,
                "IdExtern": c.external_id,
            }
            for c in chosen
        ]
        result = {
            "Total": len(company.customers),
            "NrPagina": page,
            "NrClienti": size,
            "List": listed,
        }
        return {"Result": result, "Success": True, "Message": None}


def _article(article: StoredArticle) -> Reply:
    # "um" in lower case, as the v7.0 documents show for articol/get and articol/list.
    return {
        "Nume": article.name,
        "PretUnitar": article.unit_price,
        "um": article.unit,
        "CodConta": article.code,
        "CotaTva": _fraction(article.vat_rate),
        "Stoc": article.stock,
    }


def _read_datetime(value: str) -> datetime.datetime:
    try:
        if len(value) == 10:
            return datetime.datetime.combine(datetime.date.fromisoformat(value), datetime.time())
        return datetime.datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise Refusal(f"DataIncasare: data {value} nu are formatul yyyy-mm-dd hh:mm:ss.") from None
