"""Errors end ``fgo`` with one line and a documented exit status; ``--debug`` adds a traceback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fgo_async.cli import app, exits
from fgo_async.cli.exits import ExitStatus, describe, exit_status_of
from fgo_async.errors import (
    CallIdentity,
    FgoApiError,
    FgoConfigurationError,
    FgoConnectError,
    FgoOutcomeUnknownError,
    FgoQueueTimeoutError,
    FgoServerError,
    FgoTimeoutError,
    FgoValidationError,
    Problem,
)
from fgo_async.simulator import FgoSimulator
from fgo_async.testing import TEST_PRIVATE_KEY
from tests.cli.conftest import Fgo, invoice

pytestmark = pytest.mark.usefixtures("virtual_clock")

IDENTITY = CallIdentity(method="factura/emitere", company="1", external_id="1042")


@pytest.mark.parametrize(
    ("error", "status", "line"),
    [
        (FgoConfigurationError("bad"), ExitStatus.USAGE, "bad"),
        (
            FgoValidationError(
                [Problem(field="lines[0].unit_price", rule="positive", message="must be > 0",
                         wire_name="Continut[0][PretUnitar]")],
                model="Invoice",
            ),
            ExitStatus.INVALID,
            "Invoice is not valid, nothing was sent: lines[0].unit_price: must be > 0 "
            "(rule positive, Continut[0][PretUnitar] for the vendor)",
        ),
        (
            FgoApiError("Hash invalid", identity=IDENTITY, status=403),
            ExitStatus.REFUSED,
            "the vendor refused (HTTP 403): factura/emitere company 1 (IdExtern 1042): "
            "Hash invalid",
        ),
        (FgoConnectError("refused", identity=IDENTITY), ExitStatus.UNREACHABLE,
         "could not reach the vendor: factura/emitere company 1 (IdExtern 1042): refused"),
        (FgoTimeoutError("late"), ExitStatus.UNREACHABLE, "could not reach the vendor: late"),
        (FgoServerError("down", status=502), ExitStatus.UNREACHABLE,
         "the vendor's server failed (HTTP 502): down"),
        (FgoQueueTimeoutError("waited"), ExitStatus.UNREACHABLE, "waited"),
        (
            FgoOutcomeUnknownError("reply lost", identity=IDENTITY),
            ExitStatus.UNKNOWN,
            "outcome unknown, the vendor may have done it: factura/emitere company 1 "
            "(IdExtern 1042): reply lost. Reconcile before trying again",
        ),
        (RuntimeError("boom"), ExitStatus.FAILURE, "unexpected error: RuntimeError: boom"),
    ],
)  # fmt: skip
def test_each_error_has_its_status_and_line(
    error: Exception, status: ExitStatus, line: str
) -> None:
    assert exit_status_of(error) is status
    assert describe(error).startswith(line)
    assert "\n" not in describe(error)


async def test_a_local_validation_error_names_the_field(
    fgo: Fgo, fgo_simulator: FgoSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = invoice()
    bad["lines"] = [{**bad["lines"][0], "quantity": 0}]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    assert await fgo("issue", str(path)) == 3
    err = capsys.readouterr().err
    assert err.startswith("fgo: Invoice is not valid, nothing was sent: lines[0].quantity:")
    assert "Continut[0][NrProduse]" in err
    assert "Traceback" not in err
    assert fgo_simulator.calls == []

    path.write_text(json.dumps(invoice(colour="red")), encoding="utf-8")
    assert await fgo("issue", str(path)) == 3
    assert "the invoice in" in capsys.readouterr().err
    path.write_text("{", encoding="utf-8")
    assert await fgo("issue", str(path)) == 3
    assert "is not JSON" in capsys.readouterr().err
    assert await fgo("issue", str(tmp_path / "missing.json")) == 2


async def test_a_refusal_says_what_the_vendor_said(
    fgo: Fgo, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await fgo("status", "BV", "404") == 4
    err = capsys.readouterr().err
    assert err.startswith("fgo: the vendor refused: factura/getstatus company 12345678 BV-404:")
    assert err.count("\n") == 1


async def test_unreachable_and_unknown(
    fgo: Fgo, fgo_simulator: FgoSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    fgo_simulator.faults.script("drop-before", times=None)
    assert await fgo("print", "BV", "001") == 5
    assert "could not reach the vendor" in capsys.readouterr().err
    fgo_simulator.faults.clear()
    fgo_simulator.faults.script("drop-after", method="factura/stornare")
    assert await fgo("reverse", "BV", "001") == 6
    assert "Reconcile before trying again" in capsys.readouterr().err


async def test_configuration_errors_exit_2(
    fgo: Fgo, cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    environ = {k: v for k, v in cli_env.items() if k != "FGO_BASE_URL"}
    assert await fgo("print", "BV", "001", environ=environ) == 2
    assert "say where to send calls" in capsys.readouterr().err
    assert await fgo("print", "BV", "001", "--base-url", "http://example.com/v1") == 2
    assert "https" in capsys.readouterr().err


async def test_debug_shows_the_traceback(
    fgo: Fgo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(app, "_vendor", broken)
    assert await fgo("print", "BV", "001") == 1
    err = capsys.readouterr().err
    assert err == "fgo: unexpected error: RuntimeError: a bug (run with --debug for details)\n"
    assert await fgo("print", "BV", "001", "--debug") == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert TEST_PRIVATE_KEY not in err


async def test_without_rich_tables_say_how_to_install_it(
    fgo: Fgo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "rich", None)  # as if it were not installed
    assert await fgo("print", "BV", "001") == 2
    assert capsys.readouterr().err == f"fgo: {app.RICH_MISSING}\n"
    assert await fgo("demo") == 2
    assert await fgo("batch", "o.jsonl", "--out", "r.jsonl") == 2
    assert await fgo("nomenclature", "tva", "--json") == 0  # JSON needs no rich


def test_the_library_never_imports_rich() -> None:
    code = "import sys, fgo_async, fgo_async.cli, fgo_async.plain; print('rich' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_simulator_is_served_by_main(fgo: Fgo, capsys: pytest.CaptureFixture[str]) -> None:
    assert await fgo("simulator", "--company", "1:k") == 2
    assert "main()" in capsys.readouterr().err


def test_main_reports_bad_simulator_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        app.main(["simulator"])
    assert raised.value.code == 2
    assert "give at least one --company" in capsys.readouterr().err
    with pytest.raises(SystemExit) as raised:
        app.main(["--version"])
    assert raised.value.code == 0


def test_every_exit_status_is_documented() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Exit statuses", 1)[1].split("\n## ", 1)[0]
    in_readme = {int(n) for n in re.findall(r"^\| (\d+) \|", table, flags=re.MULTILINE)}
    in_module = {int(n) for n in re.findall(r"^(\d+) {2,}\S", exits.__doc__ or "", re.MULTILINE)}
    epilog = app.build_parser().epilog or ""
    in_help = {int(n) for n in re.findall(r"\b(\d+) [a-z]", epilog)}
    statuses = {int(s) for s in ExitStatus}
    assert 143 in statuses
    assert in_readme == in_module == in_help == statuses
