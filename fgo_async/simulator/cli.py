"""``python -m fgo_async.simulator``: serve the simulator until interrupted.

:func:`add_simulator_arguments` defines the options on any parser and
:func:`simulator_from_args` builds the simulator from them, so that another command (the
``fgo simulator`` of the CLI) offers the very same options.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from ..endpoints import Bucket
from ..transport import is_loopback
from .assumptions import ASSUMPTION_NAMES, Assumptions
from .core import DEFAULT_IDENTICAL_WINDOW, DEFAULT_ISSUE_BUDGET, FgoSimulator
from .faults import FaultKind, parse_fault_rule
from .latency import LatencyModel, LatencyTable, parse_latency
from .methods import AUTH_FAILURES, DUPLICATE_REPLIES, ENVIRONMENTS
from .state import Plan

__all__ = [
    "add_serving_arguments",
    "add_simulator_arguments",
    "build_parser",
    "main",
    "run_from_args",
    "serve",
    "simulator_from_args",
]

DEFAULT_PORT = 8089
#: How many calls the served simulator keeps for ``/_simulator/calls`` (the summary counts all).
DEFAULT_MAX_RECORDS = 10_000


def _company(text: str) -> tuple[str, str, Plan]:
    cod_unic, sep, rest = text.partition(":")
    key, _, plan = rest.partition(":")
    if not sep or not cod_unic or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not CUI:KEY (or CUI:KEY:PLAN)")
    try:
        return cod_unic, key, Plan(plan.capitalize()) if plan else Plan.ENTERPRISE
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"plan {plan!r} is not one of {', '.join(p.value for p in Plan)}"
        ) from None


def _limit(text: str) -> tuple[Bucket, float]:
    name, _, seconds = text.partition("=")
    try:
        return Bucket(name), float(seconds)
    except ValueError:
        buckets = ", ".join(b.value for b in Bucket)
        raise argparse.ArgumentTypeError(
            f"{text!r} is not BUCKET=SECONDS with a bucket among {buckets}"
        ) from None


def _latency(text: str) -> tuple[str, LatencyModel]:
    method, sep, spec = text.rpartition("=")
    try:
        return (method if sep else "*"), parse_latency(spec)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _fault(text: str) -> str:
    try:
        parse_fault_rule(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def add_simulator_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's options to ``parser``."""
    parser.add_argument(
        "--company",
        action="append",
        type=_company,
        default=[],
        metavar="CUI:KEY[:PLAN]",
        help="a company and its API private key (repeat for several); PLAN is Pro, Premium or "
        "Enterprise (the default)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any)"
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other than loopback (the simulator has no security of its own)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse (HTTP 429) a call sent while another call of its company is in flight",
    )
    parser.add_argument(
        "--latency",
        action="append",
        type=_latency,
        default=[],
        metavar="[METHOD=]SPEC",
        help="reply delay: SECONDS, lognormal:MEDIAN:P99 or uniform:LOW:HIGH, for every method "
        "or for one (factura/emitere=lognormal:0.3:5); repeatable",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of latency and random faults")
    parser.add_argument(
        "--fault",
        action="append",
        type=_fault,
        default=[],
        metavar="KIND[,key=value...]",
        help=f"inject a fault: KIND is {', '.join(k.value for k in FaultKind)}; keys method, "
        "company, times, probability, delay, code, retry_after (e.g. "
        "drop-after,method=factura/emitere,times=2 or 502,probability=0.05)",
    )
    parser.add_argument(
        "--limit",
        action="append",
        type=_limit,
        default=[],
        metavar="BUCKET=SECONDS",
        help="override a bucket's limit (factura=1, articol=5, articol-list=30, "
        "articol-modificate=1800, client=5, nomenclator=1)",
    )
    parser.add_argument(
        "--identical-window",
        type=float,
        default=DEFAULT_IDENTICAL_WINDOW,
        metavar="SECONDS",
        help="an identical invoice sent again within this time gets HTTP 409 (0: never)",
    )
    parser.add_argument(
        "--issue-budget",
        type=float,
        default=DEFAULT_ISSUE_BUDGET,
        metavar="SECONDS",
        help="the vendor's time budget to issue an invoice (15 s)",
    )
    parser.add_argument(
        "--environment",
        choices=ENVIRONMENTS,
        default="production",
        help="word bad credentials as the vendor's production (the default) or test "
        "environment does",
    )
    parser.add_argument(
        "--auth-failure",
        choices=AUTH_FAILURES,
        default="refusal",
        help="answer bad credentials with a refusal (HTTP 200, the default) or with HTTP 500 "
        "and a .NET exception's stack trace in the message",
    )
    parser.add_argument(
        "--duplicate-reply",
        choices=DUPLICATE_REPLIES,
        default="factura",
        help="name the invoice a duplicate check found in a Factura object besides the message "
        "(factura, the default) or in the message only",
    )
    parser.add_argument(
        "--nomenclator-code",
        choices=("Cod", "Valoare"),
        default="Cod",
        help="the name of a nomenclator item's code: Cod as the live vendor (the default), "
        "Valoare as its documents",
    )
    relaxable = ", ".join(name.replace("_", "-") for name in ASSUMPTION_NAMES)
    parser.add_argument(
        "--relax",
        action="append",
        choices=[*(name.replace("_", "-") for name in ASSUMPTION_NAMES), "all"],
        default=[],
        metavar="ASSUMPTION",
        help="switch off one of the simulator's own rules, which no vendor document states "
        f"(repeatable; all for every one): {relaxable}",
    )
    parser.add_argument(
        "--max-records",
        type=int,
        default=DEFAULT_MAX_RECORDS,
        metavar="N",
        help=f"keep the latest N calls for /_simulator/calls (default {DEFAULT_MAX_RECORDS:,}; "
        "0: every call); the summary counts them all",
    )


def simulator_from_args(args: argparse.Namespace) -> FgoSimulator:
    """The simulator the parsed options describe (not started)."""
    per_method = dict(args.latency)
    latency = LatencyTable.of(per_method) if per_method else None
    simulator = FgoSimulator(
        host=args.host,
        port=args.port,
        allow_remote=args.allow_remote,
        strict=args.strict,
        limits=dict(args.limit),
        latency=latency,
        seed=args.seed,
        identical_window=args.identical_window,
        issue_budget=args.issue_budget,
        environment=args.environment,
        auth_failure=args.auth_failure,
        duplicate_reply=args.duplicate_reply,
        nomenclator_code=args.nomenclator_code,
        assumptions=Assumptions().without(args.relax),
        max_records=args.max_records or None,
    )
    for cod_unic, key, plan in args.company:
        simulator.add_company(cod_unic, key, plan=plan)
    for spec in args.fault:
        simulator.faults.add(parse_fault_rule(spec))
    return simulator


def add_serving_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of serving from the command line (beyond the simulator's own)."""
    parser.add_argument("--quiet", action="store_true", help="do not log each call")


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The parser of ``python -m fgo_async.simulator``."""
    parser = argparse.ArgumentParser(
        prog=prog or "python -m fgo_async.simulator",
        description="Serve a local FGO API simulator (fgo_async).",
    )
    add_simulator_arguments(parser)
    add_serving_arguments(parser)
    return parser


async def serve(simulator: FgoSimulator, *, ready: asyncio.Event | None = None) -> None:
    """Serve ``simulator`` until SIGINT/SIGTERM (or cancellation), printing its base URL."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Not every platform lets a loop handle signals; Ctrl-C still ends asyncio.run there.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    async with simulator:
        print(f"FGO simulator serving {simulator.base_url} ({_companies(simulator)})", flush=True)
        if ready is not None:
            ready.set()
        await stop.wait()


def _companies(simulator: FgoSimulator) -> str:
    # Thousands of companies make one line too long to read: name a few and count them.
    names = sorted(simulator.companies)
    if len(names) > 5:
        return f"{len(names):,} companies: {', '.join(names[:3])}, ..."
    return f"companies: {', '.join(names) or 'none'}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator from the command line."""
    parser = build_parser()
    return run_from_args(parser, parser.parse_args(argv))


def run_from_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Check the options ``parser`` parsed into ``args``, then serve until interrupted.

    ``parser`` has :func:`add_simulator_arguments` and :func:`add_serving_arguments`; it
    reports bad options (exit status 2).
    """
    if not args.company:
        parser.error("give at least one --company CUI:KEY")
    if not args.allow_remote and not is_loopback(args.host):
        parser.error(f"--host {args.host} is not loopback; add --allow-remote to mean it")
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.DEBUG,
        format="%(asctime)s %(message)s",
        stream=sys.stderr,
    )
    if not args.quiet:
        # Only the simulator's own lines: one per call, method, company and outcome.
        logging.getLogger().setLevel(logging.WARNING)
        logging.getLogger("fgo_async.simulator").setLevel(logging.DEBUG)
    try:
        simulator = simulator_from_args(args)
    except ValueError as error:
        parser.error(str(error))
    try:
        asyncio.run(serve(simulator))
    except KeyboardInterrupt:  # pragma: no cover - signal handlers normally catch it
        pass
    except OSError as error:
        print(f"cannot serve on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0
