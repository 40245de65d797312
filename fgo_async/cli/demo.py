"""``fgo demo``: a day of three shops on an embedded simulator, through one shared scheduler.

The simulator starts inside the process (serving HTTP on a free loopback port, or reached
in-process with ``--in-process``), with a seeded log-normal latency model and two injected
faults that the scheduler retries safely. Each company then issues a batch of invoices
(:meth:`~fgo_async.FgoClient.issue_many`), a proforma that a card payment turns into an invoice,
a reversal, an AWB and a PDF link, all at once: the three companies' calls interleave while each
company keeps to one call at a time and one invoice call per second. The summary compares the
rate the simulator measured with the vendor's limit, and shows the retries and the violations
the simulator counted (0).
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
import time
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal

import aiohttp
import attrs
from rich.console import Console
from rich.table import Table

from ..client import FgoClient
from ..endpoints import VENDOR_LIMITS, Bucket
from ..models import (
    Customer,
    DocumentType,
    Invoice,
    InvoiceLine,
    InvoiceLink,
    IssuedInvoice,
    Payment,
)
from ..scheduling import EventKind, Scheduler, SchedulerEvent
from ..simulator import FgoSimulator, LatencyTable, LogNormalLatency
from ..simulator.state import DocumentKind
from .exits import ExitStatus
from .render import ProgressBar, console, progress_bar

__all__ = ["COMPANIES", "DemoCompany", "run_demo"]

#: The calls of each company besides its batch: proforma, its status, the payment that turns
#: it into an invoice, a reversal, an AWB and a PDF link.
STEPS_PER_COMPANY = 6


@attrs.frozen(kw_only=True)
class DemoCompany:
    """One shop of the demo."""

    cod_unic: str
    private_key: str = attrs.field(repr=False)
    name: str
    series: str
    county: str
    locality: str
    products: Sequence[tuple[str, str, int]]  # name, unit price, VAT rate


COMPANIES = (
    DemoCompany(
        cod_unic="14399840",
        private_key="demo-key-librarie",
        name="Libraria Carte Buna SRL",
        series="BV",
        county="Brasov",
        locality="Brasov",
        products=(("Carte: Ion", "39.90", 11), ("Agenda 2026", "24.50", 21)),
    ),
    DemoCompany(
        cod_unic="22891860",
        private_key="demo-key-cafenea",
        name="Cafeneaua Boabe SRL",
        series="CJ",
        county="Cluj",
        locality="Cluj-Napoca",
        products=(("Cafea boabe 1 kg", "89.00", 11), ("Rasnita manuala", "149.99", 21)),
    ),
    DemoCompany(
        cod_unic="6859662",
        private_key="demo-key-atelier",
        name="Atelier Lemn Viu SRL",
        series="IS",
        county="Iasi",
        locality="Iasi",
        products=(("Tocator stejar", "75.00", 21), ("Ulei pentru lemn", "32.40", 21)),
    ),
)

_CUSTOMERS = (
    ("Ionescu Maria", "PF", None),
    ("Popescu Andrei", "PF", None),
    ("Tehnoplast Distributie SRL", "PJ", "RO18547290"),
    ("Georgescu Ana", "PF", None),
)


def _latency() -> LatencyTable:
    # Most calls are quick and a few are slow, as with the real vendor under load.
    return LatencyTable(
        default=LogNormalLatency(0.05, 0.4),
        per_method={"factura/emitere": LogNormalLatency(0.25, 1.5)},
    )


def _invoice(company: DemoCompany, number: int, *, proforma: bool = False) -> Invoice:
    name, kind, tax_id = _CUSTOMERS[number % len(_CUSTOMERS)]
    product, price, vat = company.products[number % len(company.products)]
    prefix = "P" if proforma else ""
    return Invoice(
        series=f"{company.series}{prefix}",
        document_type=DocumentType.PROFORMA if proforma else None,
        currency="RON",
        # The shop's order id with the duplicate check: a lost reply can be retried safely.
        external_id=f"{company.series}{prefix}-{number:04d}",
        check_duplicate=True,
        customer=Customer(
            name=name,
            type=kind,
            tax_id=tax_id,
            country="Romania",
            county=company.county,
            locality=company.locality,
        ),
        lines=[
            InvoiceLine(
                name=product,
                quantity=1 + number % 3,
                unit="buc",
                vat_rate=vat,
                unit_price=price,
            )
        ],
    )


@attrs.define
class _Day:
    """What one company did, for the summary."""

    issued: list[IssuedInvoice] = attrs.field(factory=list)
    failed: list[str] = attrs.field(factory=list)
    proforma: str = ""
    paid_into: str = ""
    reversal: str = ""
    awb: str = ""
    pdf: str = ""


async def _company_day(
    company: DemoCompany,
    fgo: FgoClient,
    bar: ProgressBar,
    invoices: int,
    http: aiohttp.ClientSession | None,
) -> _Day:
    day = _Day()
    batch = [_invoice(company, n) for n in range(1, invoices + 1)]
    outcomes = await fgo.issue_many(batch, on_progress=lambda _: bar.advance())
    for outcome in outcomes:
        if isinstance(outcome, IssuedInvoice):
            day.issued.append(outcome)
        else:
            day.failed.append(f"{type(outcome).__name__}: {outcome}")

    proforma = await fgo.issue_invoice(_invoice(company, 1, proforma=True))
    bar.advance()
    day.proforma = str(proforma.ref)
    status = await fgo.invoice_status(proforma.ref)
    bar.advance()
    receipt = await fgo.add_payment(
        Payment(
            invoice=proforma.ref,
            document_type=DocumentType.PROFORMA,
            payment_type="Card",
            amount=status.total or Decimal("0"),
            paid_at=datetime.datetime.now().replace(microsecond=0),
        )
    )
    bar.advance()
    if receipt.invoice is not None:
        day.paid_into = f"{receipt.invoice.ref} (receipt {receipt.receipt})"

    if day.issued:
        reversal = await fgo.reverse_invoice(day.issued[0].ref)
        day.reversal = f"{reversal.ref} reverses {day.issued[0].ref}"
    bar.advance()
    if len(day.issued) > 1:
        awb = f"AWB{company.cod_unic[-4:]}0001"
        await fgo.set_awb(day.issued[-1].ref, awb)
        day.awb = f"{awb} on {day.issued[-1].ref}"
    bar.advance()
    if day.issued:
        printed: InvoiceLink = await fgo.print_invoice(day.issued[-1].ref)
        day.pdf = printed.link or ""
        if http is not None and printed.link:
            async with http.get(printed.link) as response:
                kind = response.headers.get("Content-Type", "?")
                day.pdf += f" ({response.status}, {kind})"
    bar.advance()
    return day


def _rate(sim: FgoSimulator, cod_unic: str) -> tuple[str, str]:
    """The invoice-call rate the simulator measured for a company, and the closest gap between
    the calls it counted (a call dropped before the vendor saw it takes no slot)."""
    arrivals = sorted(
        c.arrival
        for c in sim.calls
        if c.company == cod_unic and c.bucket is Bucket.FACTURA and c.counted
    )
    if len(arrivals) < 2:
        return "-", "-"
    span = arrivals[-1] - arrivals[0]
    gap = min(b - a for a, b in itertools.pairwise(arrivals))
    return f"{(len(arrivals) - 1) / span:.2f}/s", f"{gap:.2f} s"


def _summary(sim: FgoSimulator, retries: Counter[str | None], scheduler: Scheduler) -> Table:
    limit = VENDOR_LIMITS[Bucket.FACTURA]
    table = Table(
        title="fgo demo: three companies, one scheduler",
        title_justify="left",
        caption=f"rate: invoice calls per second as the simulator measured them (limit "
        f"{1 / limit:g}/s per company); gap: the shortest time between two of them (limit "
        f"{limit:g} s). Retries: {scheduler.stats().retries} in all (scheduler.stats()).",
        caption_justify="left",
    )
    table.add_column("company")
    for column in ("invoices", "calls", "rate", "gap", "retries", "violations"):
        table.add_column(column, justify="right")
    for company in COMPANIES:
        books = sim.company(company.cod_unic).documents.values()
        invoices = sum(1 for d in books if d.kind is DocumentKind.INVOICE)
        calls = sum(1 for c in sim.calls if c.company == company.cod_unic)
        rate, gap = _rate(sim, company.cod_unic)
        violations = sum(1 for v in sim.violations() if v.call.company == company.cod_unic)
        table.add_row(
            f"{company.name} ({company.cod_unic})",
            str(invoices),
            str(calls),
            rate,
            gap,
            str(retries[company.cod_unic]),
            str(violations),
        )
    return table


def _story(days: dict[str, _Day]) -> Table:
    table = Table(title="what each company did", title_justify="left")
    table.add_column("company")
    table.add_column("what", overflow="fold")
    for company in COMPANIES:
        day = days[company.cod_unic]
        lines = [
            f"issued {', '.join(str(i.ref) for i in day.issued)}",
            f"proforma {day.proforma} paid by card -> invoice {day.paid_into}",
            f"reversal {day.reversal}",
            f"AWB {day.awb}",
            f"PDF {day.pdf}",
            *(f"failed: {f}" for f in day.failed),
        ]
        table.add_row(company.name, "\n".join(lines))
    return table


async def _run(sim: FgoSimulator, out: Console, invoices: int, http: bool) -> int:
    retries: Counter[str | None] = Counter()

    def count_retries(event: SchedulerEvent) -> None:
        if event.kind is EventKind.RETRYING:
            retries[event.identity.company] += 1

    scheduler = Scheduler(event_hook=count_retries)
    clients = [sim.client(c.cod_unic, http=http, scheduler=scheduler) for c in COMPANIES]
    total = len(COMPANIES) * (invoices + STEPS_PER_COMPANY)
    started = time.monotonic()
    session = aiohttp.ClientSession() if http else None
    try:
        with progress_bar(out, "issuing", total) as bar:
            done = await asyncio.gather(
                *(
                    _company_day(company, fgo, bar, invoices, session)
                    for company, fgo in zip(COMPANIES, clients, strict=True)
                )
            )
    finally:
        for fgo in clients:
            await fgo.aclose()
        await scheduler.aclose()
        if session is not None:
            await session.close()
    days = {company.cod_unic: day for company, day in zip(COMPANIES, done, strict=True)}
    out.print(_story(days))
    out.print(_summary(sim, retries, scheduler))
    violations = len(sim.violations())
    failures = sum(len(day.failed) for day in days.values())
    out.print(
        f"{sum(len(d.issued) for d in days.values())} invoices in the batches, "
        f"{len(sim.calls)} calls, {violations} violations of the vendor's discipline, "
        f"in {time.monotonic() - started:.1f} s."
    )
    return int(ExitStatus.OK if violations == 0 and failures == 0 else ExitStatus.FAILURE)


async def run_demo(*, invoices: int = 6, seed: int = 7, in_process: bool = False) -> int:
    """Run the demo; returns the exit status (0 when everything went as the vendor wants)."""
    out = console()
    sim = FgoSimulator(latency=_latency(), seed=seed)
    for company in COMPANIES:
        sim.add_company(company.cod_unic, company.private_key)
    # Two failures a real day has: a 503 page and a dropped connection. Both are retried
    # safely: printing is a read, and every invoice carries its order id with the duplicate
    # check, so the vendor would refuse a second copy.
    sim.faults.script("503", method="factura/print", company=COMPANIES[1].cod_unic)
    sim.faults.script("drop-before", method="factura/emitere", company=COMPANIES[2].cod_unic)
    if in_process:
        out.print("FGO simulator in-process (no sockets)")
        return await _run(sim, out, invoices, http=False)
    async with sim:
        out.print(f"FGO simulator serving {sim.base_url}")
        return await _run(sim, out, invoices, http=True)
