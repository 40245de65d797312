"""Scheduler overhead: CPU per dispatched call and memory per waiting call.

10,000 companies x 100 calls are queued at once on virtual time (the loop's clock jumps to the
next timer, so the 110 s of spacing cost no wall time) and dispatched at the factura bucket's
pace. Each call's attempt returns at once, so what is measured is the scheduling.

Measured side by side, each in a fresh process:

* ``scheduler``: the calls go through ``Scheduler.submit``;
* ``baseline``: the same submitter tasks await bare futures that one timer resolves in the same
  lockstep, the least any asyncio waiting can cost.

The scheduler's own cost is the difference. Goals: at most 5 us of scheduler CPU per dispatched
call, at most 600 bytes per waiting call (the call's payload excluded: both variants build the
same Call objects and tasks).

Run: ``python benchmarks/bench_overhead.py [--companies N] [--calls N]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import time
import tracemalloc
from typing import Any

from fgo_async.endpoints import ENDPOINTS
from fgo_async.errors import CallIdentity
from fgo_async.scheduling import Call, Scheduler
from fgo_async.virtual_time import run

ENDPOINT = ENDPOINTS["factura/print"]
TICK = 1.1  # the factura bucket's spacing with the default margin


async def _attempt() -> str:
    return "ok"


def _calls(companies: int, calls: int) -> list[Call]:
    return [
        Call(
            endpoint=ENDPOINT,
            company=f"{10_000_000 + c}",
            attempt=_attempt,
            identity=CallIdentity(method=ENDPOINT.name, company=f"{10_000_000 + c}"),
        )
        for _ in range(calls)
        for c in range(companies)
    ]


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def _run_scheduler(calls: list[Call], measure: str) -> dict[str, Any]:
    scheduler = Scheduler(max_queued_per_company=10_000)

    async def submit(call: Call) -> Any:
        return await scheduler.submit(call)

    return await _measure(calls, submit, measure)


async def _run_baseline(calls: list[Call], measure: str) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    per_tick: dict[int, list[asyncio.Future[None]]] = {}
    position: dict[str | None, int] = {}

    async def submit(call: Call) -> Any:
        # The same lockstep as the scheduler: each company's n-th call goes at tick n.
        tick = position.get(call.company, 0)
        position[call.company] = tick + 1
        future: asyncio.Future[None] = loop.create_future()
        per_tick.setdefault(tick, []).append(future)
        await future
        return await call.attempt()

    def release(tick: int) -> None:
        for future in per_tick.pop(tick, []):
            future.set_result(None)
        if per_tick:
            loop.call_at(loop.time() + TICK, release, tick + 1)

    return await _measure(calls, submit, measure, start=lambda: loop.call_soon(release, 0))


async def _measure(
    calls: list[Call], submit: Any, measure: str, start: Any = None
) -> dict[str, Any]:
    gc.collect()
    gc.disable()  # a full collection over a million objects would dominate either variant
    if measure == "memory":
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
    tasks = [asyncio.ensure_future(submit(call)) for call in calls]
    await _settle()
    result: dict[str, Any] = {"calls": len(calls)}
    if measure == "memory":
        result["bytes"] = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
    cpu = time.process_time()
    wall = time.perf_counter()
    if start is not None:
        start()
    await asyncio.gather(*tasks)
    result["cpu"] = time.process_time() - cpu
    result["wall"] = time.perf_counter() - wall
    result["virtual"] = asyncio.get_running_loop().time()
    return result


def _child(variant: str, measure: str, companies: int, calls: int) -> None:
    batch = _calls(companies, calls)
    runner = _run_scheduler if variant == "scheduler" else _run_baseline
    print(json.dumps(run(runner(batch, measure), start=0.0)))


def _spawn(variant: str, measure: str, companies: int, calls: int) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", variant, measure,
         "--companies", str(companies), "--calls", str(calls)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    parsed: dict[str, Any] = json.loads(output.stdout.strip().splitlines()[-1])
    return parsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "MEASURE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], args.companies, args.calls)
        return
    n = args.companies * args.calls
    print(f"Scheduler overhead: {args.companies:,} companies x {args.calls} calls = {n:,} calls")
    cpu = {v: _spawn(v, "cpu", args.companies, args.calls) for v in ("scheduler", "baseline")}
    mem = {v: _spawn(v, "memory", args.companies, args.calls) for v in ("scheduler", "baseline")}
    cpu_us = {v: cpu[v]["cpu"] / n * 1e6 for v in cpu}
    mem_b = {v: mem[v]["bytes"] / n for v in mem}
    own_cpu = cpu_us["scheduler"] - cpu_us["baseline"]
    own_mem = mem_b["scheduler"] - mem_b["baseline"]
    rows = [
        ("CPU per dispatched call (us)", cpu_us["scheduler"], cpu_us["baseline"], own_cpu, 5.0),
        ("memory per waiting call (B)", mem_b["scheduler"], mem_b["baseline"], own_mem, 600.0),
    ]
    print()
    print(f"| {'measure':30} | {'scheduler':>10} | {'baseline':>10} | {'scheduler own':>13} "
          f"| {'goal':>6} | {'met':>3} |")  # fmt: skip
    print(f"|{'-' * 32}|{'-' * 12}|{'-' * 12}|{'-' * 15}|{'-' * 8}|{'-' * 5}|")
    for name, ours, base, own, goal in rows:
        met = "yes" if own <= goal else "NO"
        print(f"| {name:30} | {ours:10.2f} | {base:10.2f} | {own:13.2f} | {goal:6.0f} | {met:>3} |")
    print()
    virtual = cpu["scheduler"]["virtual"]
    print(
        f"virtual time covered: {virtual:,.1f} s; wall time of the dispatch: "
        f"scheduler {cpu['scheduler']['wall']:.1f} s, baseline {cpu['baseline']['wall']:.1f} s"
    )


if __name__ == "__main__":
    main()
