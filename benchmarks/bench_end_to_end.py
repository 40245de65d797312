"""End to end on loopback: many companies issuing at once over real HTTP, in real time.

The simulator runs in a process of its own (``python -m fgo_async.simulator``), serving 100
companies on 127.0.0.1 with a seeded log-normal latency (median 50 ms, p99 400 ms). This process
runs one FgoClient per company, all sharing one Scheduler and one aiohttp session, and issues
20 invoices per company at once. Printed:

* the achieved rate against the limit (one invoice call per second per company; 1.1 s with the
  default safety margin, which is what ``SPEC.md`` calls the limit);
* the wall time against the minimum the limits allow for the very calls made (their order and
  their latencies, one call at a time per company);
* the delay between a call becoming eligible (its lane free, its bucket ready) and its start,
  p50 and p99, from the scheduler's event hook: the scheduler's own lateness;
* the violations the simulator counted.

Run: ``python benchmarks/bench_end_to_end.py [--companies N] [--invoices N]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import aiohttp

from fgo_async import (
    Customer,
    EventKind,
    FgoClient,
    Invoice,
    InvoiceLine,
    IssuedInvoice,
    RatePolicy,
    Scheduler,
    SchedulerEvent,
)
from fgo_async.endpoints import VENDOR_LIMITS, Bucket
from fgo_async.simulator import CallRecord
from fgo_async.simulator.analysis import minimum_makespan
from fgo_async.transport import send_time_trace

PLATFORM = "https://shop.example.ro"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def companies(count: int) -> dict[str, str]:
    return {str(30_000_000 + i): f"key-{i}" for i in range(count)}


@contextlib.contextmanager
def simulator_process(port: int, keys: dict[str, str]) -> Iterator[str]:
    command = [sys.executable, "-m", "fgo_async.simulator", "--port", str(port), "--quiet",
               "--seed", "7", "--latency", "lognormal:0.05:0.4"]  # fmt: skip
    for company, key in keys.items():
        command += ["--company", f"{company}:{key}"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def wait_until_up(session: aiohttp.ClientSession, root: str) -> None:
    for _ in range(200):
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(f"{root}/_simulator/summary") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.05)
    raise RuntimeError("the simulator did not start")


def invoice(company: str, index: int) -> Invoice:
    return Invoice(
        series="E2E",
        external_id=f"{company}-{index}",
        check_duplicate=True,
        customer=Customer(name=f"Client {index}", type="PF", country="RO", county="Cluj"),
        lines=[
            InvoiceLine(name=f"Produs {index}", quantity=1 + index % 5, unit="buc", vat_rate=21,
                        unit_price="99.90")
        ],
    )  # fmt: skip


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run(company_count: int, invoices: int, *, strict: bool = False) -> dict[str, Any]:
    keys = companies(company_count)
    port = free_port()
    delays: list[float] = []

    def on_event(event: SchedulerEvent) -> None:
        if event.kind is EventKind.STARTED and event.delay is not None:
            delays.append(event.delay)

    with simulator_process(port, keys) as root:
        connector = aiohttp.TCPConnector(limit=0)
        # The application's own session, as a web app would share it; send_time_trace() lets
        # the scheduler count the vendor's spacing from when each request went out.
        session = aiohttp.ClientSession(connector=connector, trace_configs=[send_time_trace()])
        async with session:
            await wait_until_up(session, root)
            policy = RatePolicy(strict=strict)
            scheduler = Scheduler(rate_policy=policy, event_hook=on_event)
            clients = [
                FgoClient(cod_unic=company, private_key=key, platform_url=PLATFORM,
                          base_url=f"{root}/v1", session=session, scheduler=scheduler)
                for company, key in keys.items()
            ]  # fmt: skip
            batches = {fgo.cod_unic: [invoice(fgo.cod_unic, i) for i in range(invoices)]
                       for fgo in clients}  # fmt: skip
            loop = asyncio.get_running_loop()
            start = loop.time()
            cpu = time.process_time()
            outcomes = await asyncio.gather(
                *(fgo.issue_many(batches[fgo.cod_unic]) for fgo in clients)
            )
            wall = loop.time() - start
            cpu = time.process_time() - cpu
            await scheduler.aclose()
            async with session.get(f"{root}/_simulator/summary") as response:
                summary = await response.json()
            async with session.get(f"{root}/_simulator/calls") as response:
                calls = [
                    CallRecord(
                        index=c["index"], method=c["method"], http_method="POST",
                        arrival=c["arrival"], company=c["company"],
                        bucket=None if c["bucket"] is None else Bucket(c["bucket"]),
                        reply_time=c["reply_time"],
                    )
                    for c in await response.json()
                ]  # fmt: skip
    issued = sum(isinstance(o, IssuedInvoice) for per in outcomes for o in per)
    spacing = {bucket: policy.spacing(bucket) for bucket in VENDOR_LIMITS}
    return {
        "issued": issued,
        "wall": wall,
        "cpu": cpu,
        "minimum": minimum_makespan(calls, spacing, start=start),
        "delays": delays,
        "summary": summary,
        "stats": scheduler.stats(),
        "margin": policy.margin,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=100)
    parser.add_argument("--invoices", type=int, default=20)
    parser.add_argument(
        "--strict", action="store_true", help="count the interval from the previous reply"
    )
    args = parser.parse_args()
    result = asyncio.run(run(args.companies, args.invoices, strict=args.strict))
    total = args.companies * args.invoices
    wall = result["wall"]
    interval = VENDOR_LIMITS[Bucket.FACTURA]
    limit = args.companies / interval
    limit_with_margin = args.companies / (interval + result["margin"])
    rate = result["issued"] / wall
    summary = result["summary"]
    delays_ms = [d * 1000 for d in result["delays"]]
    spacing_from = "reply" if args.strict else "start"
    print(
        f"End to end on loopback: {args.companies} companies x {args.invoices} invoices = "
        f"{total} invoices over HTTP to a simulator process (latency log-normal, median 50 ms, "
        f"p99 400 ms); spacing from the previous {spacing_from}"
    )
    print()
    rows = [
        ("invoices issued", f"{result['issued']} of {total}"),
        ("wall time", f"{wall:.2f} s"),
        ("minimum the limits allow (same calls)", f"{result['minimum']:.2f} s"),
        ("wall time / minimum", f"{wall / result['minimum']:.3f}"),
        ("achieved rate", f"{rate:.1f} invoices/s"),
        ("limit, vendor (1 call/s/company)", f"{limit:.1f} invoices/s ({rate / limit:.1%})"),
        ("limit with the 0.1 s margin", f"{limit_with_margin:.1f} invoices/s "
                                        f"({rate / limit_with_margin:.1%})"),
        ("eligible-to-start delay p50", f"{statistics.median(delays_ms):.2f} ms"),
        ("eligible-to-start delay p99", f"{percentile(delays_ms, 0.99):.2f} ms"),
        ("eligible-to-start delay max", f"{max(delays_ms):.2f} ms"),
        ("client CPU per invoice", f"{result['cpu'] / total * 1e6:.0f} us"),
        ("retries", f"{result['stats'].retries}"),
        ("rate violations (simulator)", f"{summary['rate_violations']}"),
        ("overlaps (simulator)", f"{summary['overlaps']}"),
        ("throttled, 429 (simulator)", f"{summary['throttled']}"),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    print(f"| {'measure':{width}} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name:{width}} | {value} |")
    print()
    print(json.dumps({"violations": summary["rate_violations"] + summary["overlaps"]}))


if __name__ == "__main__":
    main()
