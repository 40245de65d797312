"""The ``fgo`` command: its parser, and what each sub-command does.

``fgo demo``, ``fgo batch``, ``fgo simulator``, and one sub-command per vendor method
(:mod:`.vendor`). Errors end in one line on stderr and an exit status (:mod:`.exits`);
``--debug`` prints the traceback too. rich (the ``cli`` extra) is imported only to draw tables
and progress bars, so ``--json`` output and ``fgo simulator`` work without it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import logging
import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from .. import plain
from .._version import __version__
from ..client import FgoClient
from ..scheduling import Scheduler
from ..simulator import cli as simulator_cli
from .batch import BatchResult, BatchRun, plan_batch
from .config import (
    ConfigError,
    HiddenEnvironment,
    Overrides,
    Settings,
    build_client,
    load_settings,
)
from .exits import CliError, ExitStatus, describe, exit_status_of
from .journal import Journal, Status, read_results
from .orders import read_orders
from .vendor import COMMANDS, VendorCommand, read_invoice_file

__all__ = ["ClientFactory", "build_parser", "main", "run"]

#: Makes a client from the keyword arguments of :class:`~fgo_async.FgoClient` (tests pass one
#: that adds the simulator's in-process transport).
ClientFactory = Callable[..., FgoClient]

RICH_MISSING = "fgo needs rich to draw tables and progress bars: pip install 'fgo_async[cli]'"

_DEMO_DEFAULT_INVOICES = 6


def require_rich() -> None:
    """Raise a CliError with the install command when rich is not installed."""
    try:
        missing = importlib.util.find_spec("rich") is None
    except (ImportError, ValueError):
        missing = True
    if missing:
        raise CliError(RICH_MISSING)


# -- the parser ------------------------------------------------------------------------------


def _connection_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("where calls go (default: the environment and config file)")
    group.add_argument("--company", metavar="CUI", help="the issuing company (FGO_COD_UNIC)")
    group.add_argument("--env", choices=("test", "production"), help="the vendor's environment")
    group.add_argument("--base-url", metavar="URL", help="another root URL (the simulator's)")
    group.add_argument("--platform-url", metavar="URL", help="your shop's root URL")
    group.add_argument("--config", type=Path, metavar="PATH", help="the config file (TOML)")
    return parent


def _debug_option() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    return parent


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``fgo``."""
    parser = argparse.ArgumentParser(
        prog="fgo",
        description="The FGO invoicing API (fgo.ro) from the command line, with a local "
        "simulator. The private key comes from FGO_PRIVATE_KEY or the config file, never "
        "from an option.",
        epilog="Exit statuses: 0 done, 1 unexpected error, 2 usage or configuration, "
        "3 invalid input (nothing sent), 4 refused by the vendor, 5 vendor unreachable "
        "(nothing done), 6 outcome unknown (reconcile), 130 interrupted (Ctrl-C), 143 stopped by "
        "SIGTERM.",
    )
    parser.add_argument("--version", action="version", version=f"fgo_async {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    debug = _debug_option()
    connection = _connection_options()

    demo = commands.add_parser(
        "demo",
        parents=[debug],
        help="issue a realistic batch for three companies on an embedded simulator",
    )
    demo.add_argument(
        "--invoices",
        type=int,
        default=_DEMO_DEFAULT_INVOICES,
        help=f"invoices per company ({_DEMO_DEFAULT_INVOICES})",
    )
    demo.add_argument("--seed", type=int, default=7, help="seed of latency and faults (7)")
    demo.add_argument("--in-process", action="store_true", help="reach the simulator without HTTP")

    batch = commands.add_parser(
        "batch",
        parents=[debug, connection],
        help="issue one invoice per JSON line; resumable",
        description="Issue the invoices of a JSON-lines file, one per line, recording each "
        "outcome in the results file as it arrives. Run it again to send what was not issued: "
        "issued lines are skipped; lines whose outcome is unknown are left for you to "
        "reconcile. Ctrl-C or SIGTERM lets the calls in flight finish and records them (exit "
        "status 130 or 143); a second one abandons them.",
    )
    batch.add_argument("orders", type=Path, help="the orders file (JSON lines)")
    batch.add_argument(
        "--out", type=Path, required=True, help="the results file (JSON lines, appended)"
    )
    batch.add_argument(
        "--retry-unknown",
        action="store_true",
        help="send again the lines whose outcome is unknown, when the vendor can refuse a "
        "repeat (check_duplicate with external_id); the others still need reconciling",
    )

    simulator = commands.add_parser(
        "simulator",
        parents=[debug],
        help="serve the FGO simulator (as python -m fgo_async.simulator)",
        description="Serve a local FGO API simulator.",
    )
    simulator_cli.add_simulator_arguments(simulator)
    simulator_cli.add_serving_arguments(simulator)
    # run_from_args reports bad options through the parser that read them.
    simulator.set_defaults(simulator_parser=simulator)

    for command in COMMANDS:
        sub = commands.add_parser(
            command.name,
            parents=[debug, connection],
            help=f"{command.help} ({command.method})",
            description=f"{command.help} ({command.method}).",
        )
        command.arguments(sub)
        sub.add_argument("--json", action="store_true", help="print the result as JSON")
        sub.set_defaults(vendor_command=command)
    return parser


# -- running ---------------------------------------------------------------------------------


def _settings(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    overrides = Overrides(
        company=args.company,
        environment=args.env,
        base_url=args.base_url,
        platform_url=args.platform_url,
        config=args.config,
    )
    settings, warnings = load_settings(environ, overrides)
    for warning in warnings:
        print(f"fgo: warning: {warning}", file=sys.stderr)
    return settings


async def _vendor(
    command: VendorCommand,
    args: argparse.Namespace,
    environ: Mapping[str, str],
    make_client: ClientFactory,
) -> int:
    if not args.json:
        require_rich()
    if command.name == "issue":
        args.invoice, company = read_invoice_file(args.file)
        if company is not None and args.company not in (None, company):
            raise CliError(f"{args.file} is for company {company}, not {args.company}")
        args.company = args.company or company
    settings = _settings(args, environ)
    async with build_client(make_client, settings, args.company) as fgo:
        result = await command.call(fgo, args)
    if args.json:
        print(plain.dumps(result, indent=2))
    else:
        from .render import console, show_result

        show_result(console(), result, title=command.method)
    return ExitStatus.OK


#: The signals that stop a batch cleanly: Ctrl-C, and what a process manager, a container stop
#: or ``timeout`` sends. Left to their default, SIGTERM would kill it like ``kill -9``.
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _on_stop_signals(handler: Callable[[signal.Signals], None]) -> Iterator[None]:
    """Inside the block, call ``handler(signum)`` on Ctrl-C or SIGTERM instead of dying."""
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    try:
        for signum in _STOP_SIGNALS:
            loop.add_signal_handler(signum, handler, signum)
            handled.append(signum)
    except (NotImplementedError, RuntimeError):  # pragma: no cover - not on this platform
        pass
    try:
        yield
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)


def _default_company(settings: Settings) -> str | None:
    try:
        return settings.company().cod_unic
    except ConfigError:
        return None


async def _batch(
    args: argparse.Namespace, environ: Mapping[str, str], make_client: ClientFactory
) -> int:
    require_rich()
    from .render import console, progress_bar

    settings = _settings(args, environ)
    orders = read_orders(args.orders, default_company=_default_company(settings))
    err = console(stderr=True)
    with Journal(args.out) as journal:
        # Read under the journal's lock: a second run cannot plan the same orders meanwhile.
        plan = plan_batch(orders, read_results(args.out), retry_unknown=args.retry_unknown)
        if not plan.to_send:
            result = BatchResult(plan=plan)
        else:
            # Every company's credentials are checked before the first call is sent.
            scheduler = Scheduler()
            clients = {
                c: build_client(make_client, settings, c, scheduler=scheduler)
                for c in plan.companies
            }
            with progress_bar(err, "issuing", len(plan.to_send)) as bar:
                run = BatchRun(
                    plan,
                    journal,
                    clients,
                    scheduler,
                    on_record=lambda _: bar.advance(),
                    on_not_sent=lambda _: bar.advance(),
                )

                def interrupted(signum: signal.Signals) -> None:
                    if run.stop(signum):
                        bar.describe("stopping")
                        got = "" if signum is signal.SIGINT else f"{signum.name} received; "
                        err.print(
                            f"{got}stopping: letting the calls in flight finish and recording "
                            f"them ({run.in_flight} outcomes to come); Ctrl-C (or SIGTERM) "
                            "again abandons them, and their outcome is then unknown"
                        )

                try:
                    with _on_stop_signals(interrupted):
                        result = await run.run()
                except OSError as error:
                    for record in run.unrecorded:
                        print(record.to_json(), file=sys.stderr)
                    raise CliError(
                        f"cannot write {args.out}: {error}; stopped. The outcomes that could "
                        "not be recorded are printed above: add them to the file by hand",
                        ExitStatus.FAILURE,
                    ) from None
                finally:
                    for client in clients.values():
                        await client.aclose()
                    await scheduler.aclose(drain=False)
    _report_batch(result, args.out)
    return result.exit_status


def _report_batch(result: BatchResult, out_path: Path) -> None:
    from .render import console, table_of_rows

    out = console()
    plan = result.plan
    failed = [r for r in result.records if r.status is Status.FAILED]
    out.print(
        f"{result.count(Status.ISSUED)} issued, {len(failed)} failed, "
        f"{len(result.unknown)} outcome unknown, {plan.skipped} already issued before; "
        f"results in {out_path}"
    )
    if failed:
        rows = [
            {"line": r.line, "key": r.key, "company": r.cod_unic, "error": r.error,
             "message": r.message}
            for r in failed
        ]  # fmt: skip
        out.print(table_of_rows(rows, title="failed (run again to retry them)"))
    if result.unknown:
        rows = [
            {"line": r.line, "key": r.key, "company": r.cod_unic, "error": r.error,
             "why": r.note or r.message}
            for r in result.unknown
        ]  # fmt: skip
        out.print(
            table_of_rows(
                rows,
                title="outcome unknown: reconcile them (README: Reconciling an unknown outcome)",
            )
        )
    if result.interrupted:
        out.print(
            f"interrupted: {result.not_sent} not sent; run the same command again to send them"
        )


def _configure_logging(debug: bool) -> None:
    if debug:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("fgo: %(levelname)s %(name)s: %(message)s"))
        library = logging.getLogger("fgo_async")
        library.addHandler(handler)
        library.setLevel(logging.DEBUG)


async def run(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    make_client: ClientFactory = FgoClient,
) -> int:
    """Run ``fgo`` with ``argv`` inside a running loop; returns the exit status.

    Every command but ``simulator``, which :func:`main` serves with a loop of its own.
    ``environ`` replaces ``os.environ``; ``make_client`` builds each client (the simulator's
    tests pass one with an in-process transport).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    environ = HiddenEnvironment(os.environ if environ is None else environ)
    try:
        if args.command == "simulator":
            raise CliError("fgo simulator serves from main(), with a loop of its own")
        if args.command == "demo":
            require_rich()
            from .demo import run_demo

            return await run_demo(
                invoices=args.invoices, seed=args.seed, in_process=args.in_process
            )
        if args.command == "batch":
            return await _batch(args, environ, make_client)
        return await _vendor(args.vendor_command, args, environ, make_client)
    except Exception as error:
        if args.debug:
            traceback.print_exc()
        print(f"fgo: {describe(error)}", file=sys.stderr)
        return int(exit_status_of(error))


def main(argv: Sequence[str] | None = None) -> int:
    """The ``fgo`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.debug)
    if args.command == "simulator":
        # It serves with a loop of its own, until SIGINT or SIGTERM.
        return simulator_cli.run_from_args(args.simulator_parser, args)
    try:
        return asyncio.run(run(argv))
    except KeyboardInterrupt:
        print("fgo: interrupted", file=sys.stderr)
        return int(ExitStatus.INTERRUPTED)
