"""The simulator's own throughput: how many accepted calls per second it serves, and whether
that depends on how many companies it knows.

A simulator with N companies runs in a process of its own (``python -m fgo_async.simulator``
on 127.0.0.1, port 0, its port read back from the line it prints), pinned to one core where
the platform allows: it is single-threaded asyncio, one core is what it has. This process, on
the other core, sends pre-signed ``factura/emitere`` calls over many keep-alive connections
(aiohttp) and counts the accepted ones (HTTP 200, ``Success: true``). Every company keeps the
vendor's limit of one invoice call per second and one call at a time, so the figure is of
calls the simulator accepts, not of refusals.

The same is done with 10,000 and with 100 companies, side by side in one run. 100 companies at
one call per second each could not send more than 100 calls per second, so in that run the
invoice limit is lowered to 0.01 s (``--limit factura=0.01``): both runs then measure the
server, and their ratio says what knowing 100 times more companies costs. Last, the rate of
``FgoSimulator.handle()`` in-process (no HTTP, no socket), for both sizes.

Run: ``python benchmarks/bench_simulator.py [--seconds S] [--connections N]`` (about a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import itertools
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator

import aiohttp
import attrs

from fgo_async.codec import dumps_json
from fgo_async.endpoints import Bucket
from fgo_async.signing import compute_hash
from fgo_async.simulator import FgoSimulator

PLATFORM = "https://shop.example.ro"
CUSTOMER = "Ionescu Popescu SRL"
HEADERS = {"Content-Type": "application/json"}


def companies(count: int) -> dict[str, str]:
    """``count`` companies and their keys, the same in both processes."""
    return {str(10_000_000 + i): f"key-{i}" for i in range(count)}


def invoice_body(cod_unic: str, key: str, order: int) -> bytes:
    """A signed ``factura/emitere`` body; each order id is a new invoice (no 409)."""
    payload = {
        "CodUnic": cod_unic,
        "Hash": compute_hash(cod_unic, key, CUSTOMER),
        "Serie": "BV",
        "IdExtern": f"order-{order}",
        "Client": {
            "Denumire": CUSTOMER,
            "Tip": "PJ",
            "CodUnic": "RO18547290",
            "Tara": "Romania",
            "Judet": "Brasov",
        },
        "Continut": [
            {"Denumire": "Carte", "UM": "buc", "NrProduse": 2, "PretUnitar": "19.99", "CotaTVA": 21}
        ],
        "PlatformaUrl": PLATFORM,
    }
    return dumps_json(payload).encode()


def invoices(cod_unic: str, key: str, orders: Iterator[int]) -> Iterator[bytes]:
    """Endless signed invoices of one company, each for a new order."""
    while True:
        yield invoice_body(cod_unic, key, next(orders))


def pin(pid: int, core: int) -> bool:
    """Keep process ``pid`` on one core, where the platform allows it."""
    if not hasattr(os, "sched_setaffinity") or (os.cpu_count() or 1) < 2:
        return False
    os.sched_setaffinity(pid, {core})
    return True


def cpu_seconds(pid: int) -> float | None:
    """CPU time used by process ``pid`` so far (Linux), or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.asynccontextmanager
async def simulator_process(
    count: int, spacing: float, *, pinned: bool
) -> AsyncIterator[tuple[str, int]]:
    """A simulator of ``count`` companies in its own process; yields its base URL and pid."""
    command = [sys.executable, "-m", "fgo_async.simulator", "--port", "0", "--quiet",
               "--limit", f"factura={spacing}"]  # fmt: skip
    for cod_unic, key in companies(count).items():
        command += ["--company", f"{cod_unic}:{key}"]
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        if not line.startswith("FGO simulator serving "):
            raise RuntimeError(f"the simulator did not start: {line!r}")
        if pinned:
            pin(process.pid, 0)
        yield line.split()[3], process.pid
    finally:
        process.terminate()
        await process.wait()


@attrs.frozen
class Run:
    """One measured run: accepted calls/s, refusals, and the share of a core each process
    used (None where it cannot be read)."""

    rate: float
    refused: int
    server_busy: float | None
    driver_busy: float


def _share(value: float | None) -> str:
    return "?" if value is None else f"{value:.0%}"


def _per_cpu(run: Run) -> str:
    # What one core would serve if the simulator had it to itself: the machine may be shared.
    return "?" if not run.server_busy else f"{run.rate / run.server_busy:,.0f}"


class Pacer:
    """Hands out companies so that each keeps one call at a time and ``spacing`` seconds
    between its calls' starts: a company is out of the queue while its call is in flight, and
    back at its end with the time it may go again."""

    def __init__(self, keys: dict[str, str], spacing: float) -> None:
        self.spacing = spacing
        self.ready: collections.deque[tuple[float, str]] = collections.deque(
            (0.0, cod_unic) for cod_unic in keys
        )

    async def take(self) -> str:
        while True:
            if self.ready:
                eligible, cod_unic = self.ready[0]
                now = time.monotonic()
                if eligible <= now:
                    self.ready.popleft()
                    return cod_unic
                await asyncio.sleep(eligible - now)
            else:
                await asyncio.sleep(0.001)

    def give_back(self, cod_unic: str, started: float) -> None:
        # In order of replies, so nearly in order of eligibility: a company queued behind one
        # that may go later only waits longer, it never goes early.
        self.ready.append((started + self.spacing, cod_unic))


async def drive(
    base_url: str, server: int, keys: dict[str, str], spacing: float, args: argparse.Namespace
) -> Run:
    """Accepted calls per second over ``args.seconds`` (after a warm-up), the counts of
    accepted and refused calls in that window, and how busy each process was."""
    pacer = Pacer(keys, spacing + 0.005)  # a hair over the limit: loopback jitter
    orders = itertools.count()
    bodies = {cod_unic: invoices(cod_unic, key, orders) for cod_unic, key in keys.items()}
    url = f"{base_url}/factura/emitere"
    counts = {"accepted": 0, "refused": 0}
    measuring = False
    stop_at = time.monotonic() + args.warmup + args.seconds

    async def worker(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < stop_at:
            cod_unic = await pacer.take()
            body = next(bodies[cod_unic])
            started = time.monotonic()
            try:
                async with session.post(url, data=body, headers=HEADERS) as response:
                    reply = await response.json(content_type=None)
            finally:
                pacer.give_back(cod_unic, started)
            if measuring:
                ok = response.status == 200 and reply.get("Success") is True
                counts["accepted" if ok else "refused"] += 1
                if not ok and counts["refused"] == 1:
                    print(f"first refusal: HTTP {response.status} {reply}", file=sys.stderr)

    connector = aiohttp.TCPConnector(limit=args.connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        workers = [asyncio.ensure_future(worker(session)) for _ in range(args.connections)]
        await asyncio.sleep(args.warmup)
        measuring = True
        started, server_cpu, own_cpu = time.monotonic(), cpu_seconds(server), time.process_time()
        await asyncio.gather(*workers)
        elapsed = time.monotonic() - started
        server_busy = None
        if server_cpu is not None:
            server_busy = ((cpu_seconds(server) or server_cpu) - server_cpu) / elapsed
    return Run(
        rate=counts["accepted"] / elapsed,
        refused=counts["refused"],
        server_busy=server_busy,
        driver_busy=(time.process_time() - own_cpu) / elapsed,
    )


async def over_http(count: int, spacing: float, args: argparse.Namespace) -> Run:
    async with simulator_process(count, spacing, pinned=args.pin) as (base_url, pid):
        return await drive(base_url, pid, companies(count), spacing, args)


async def in_process(count: int, calls: int) -> float:
    """``FgoSimulator.handle()`` calls per second, no socket, limits off."""
    keys = companies(count)
    simulator = FgoSimulator(keys, limits=dict.fromkeys(Bucket, 0.0), max_records=10_000)
    listed = list(keys.items())
    bodies = [invoice_body(*listed[n % count], n) for n in range(calls)]
    started = time.perf_counter()
    for body in bodies:
        reply = await simulator.handle("POST", "/v1/factura/emitere", {}, HEADERS, body)
        assert reply.status == 200, reply.body
    return calls / (time.perf_counter() - started)


async def main(args: argparse.Namespace) -> None:
    pinned = args.pin and pin(os.getpid(), 1)
    print(
        f"Simulator throughput: factura/emitere over {args.connections} keep-alive connections, "
        f"{args.seconds:g} s measured after {args.warmup:g} s of warm-up"
        + ("; the simulator on core 0, this driver on core 1" if pinned else "")
    )
    large = await over_http(args.companies, 1.0, args)
    small = await over_http(100, 0.01, args)
    direct_large = await in_process(args.companies, 5_000)
    direct_small = await in_process(100, 5_000)
    print()
    print(f"| measure | {args.companies:,} companies | 100 companies | ratio |")
    print("| --- | --- | --- | --- |")
    print(
        f"| accepted calls/s over HTTP | {large.rate:,.0f} | {small.rate:,.0f} | "
        f"{large.rate / small.rate:.2f} |"
    )
    print(
        f"| accepted calls per CPU second of the simulator | {_per_cpu(large)} | "
        f"{_per_cpu(small)} | |"
    )
    print(f"| refused in the window | {large.refused} | {small.refused} | |")
    print(
        f"| simulator process, share of its core | {_share(large.server_busy)} | "
        f"{_share(small.server_busy)} | |"
    )
    print(
        f"| this driver, share of a core | {_share(large.driver_busy)} | "
        f"{_share(small.driver_busy)} | |"
    )
    print(
        f"| handle() calls/s in-process | {direct_large:,.0f} | {direct_small:,.0f} | "
        f"{direct_large / direct_small:.2f} |"
    )
    print()
    print(
        "(each company: one call at a time, and 1 s between its invoice calls with "
        f"{args.companies:,} companies, 0.01 s with 100)"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time per run")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="let the system place both processes (by default the simulator gets core 0)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
