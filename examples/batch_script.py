"""A batch script: issue the invoices of a JSON-lines file and write each outcome as it arrives.

The orders file has one invoice per line under the models' Python field names (the format of
``fgo batch``, read with :mod:`fgo_async.plain`). :meth:`FgoClient.issue_many` queues them all;
the scheduler sends them as fast as the vendor allows (one per second per company), and each
outcome is printed the moment it arrives, the failures with whether they may have been issued.
For a batch that resumes after an interruption, use ``fgo batch`` itself.

Run it against the simulator::

    python examples/batch_script.py                  # 5 sample orders, a simulator in-process
    python examples/batch_script.py orders.jsonl     # with FGO_COD_UNIC, FGO_PRIVATE_KEY,
                                                     # FGO_PLATFORM_URL and FGO_BASE_URL set
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from fgo_async import BatchProgress, Customer, FgoClient, Invoice, InvoiceLine, plain


def read_orders(lines: Iterable[str]) -> list[Invoice]:
    """The invoices of an orders file (raises FgoValidationError naming the bad field)."""
    return [plain.structure(plain.loads(line), Invoice) for line in lines if line.strip()]


def sample_orders(count: int) -> list[Invoice]:
    """Orders to try the script with."""
    return [
        Invoice(
            series="BATCH",
            external_id=f"S-{n}",
            check_duplicate=True,
            customer=Customer(name=f"Client {n}", type="PF", country="Romania", county="Cluj"),
            lines=[
                InvoiceLine(
                    name="Abonament", quantity=1, unit="luna", vat_rate=21, unit_price="49.00"
                )
            ],
        )
        for n in range(1, count + 1)
    ]


def report(progress: BatchProgress) -> None:
    """One line per outcome, as it arrives: JSON, for another program to read."""
    outcome = progress.outcome
    if progress.ok:
        line = {"index": progress.index, "issued": plain.unstructure(outcome)}
    else:
        line = {
            "index": progress.index,
            "error": type(outcome).__name__,
            "message": str(outcome),
            "may_be_issued": not getattr(outcome, "outcome_known", True),
        }
    print(json.dumps(line, ensure_ascii=False), flush=True)


async def issue_orders(fgo: FgoClient, invoices: list[Invoice]) -> int:
    """Issue ``invoices``; returns how many failed."""
    outcomes = await fgo.issue_many(invoices, on_progress=report)
    failed = sum(1 for outcome in outcomes if isinstance(outcome, Exception))
    print(f"{len(outcomes) - failed} issued, {failed} failed", file=sys.stderr)
    return failed


async def main(argv: list[str]) -> int:
    """Issue the orders of ``argv[0]`` (or samples, against a simulator in-process)."""
    if argv:
        text = await asyncio.to_thread(Path(argv[0]).read_text, encoding="utf-8")
        invoices = read_orders(text.splitlines())
        client = FgoClient(
            cod_unic=os.environ["FGO_COD_UNIC"],
            private_key=os.environ["FGO_PRIVATE_KEY"],
            platform_url=os.environ["FGO_PLATFORM_URL"],
            base_url=os.environ["FGO_BASE_URL"],
        )
    else:
        from fgo_async.simulator import FgoSimulator

        invoices = sample_orders(5)
        client = FgoSimulator(companies={"12345678": "example-key"}).client()
    async with client:
        return 1 if await issue_orders(client, invoices) else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1:])))
