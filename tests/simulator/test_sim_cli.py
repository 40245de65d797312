"""``python -m fgo_async.simulator``: its options, and a real run on a free port."""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.request

import pytest

from fgo_async.endpoints import Bucket
from fgo_async.simulator import FaultKind, FixedLatency, LogNormalLatency, Plan
from fgo_async.simulator.cli import build_parser, main, simulator_from_args


def test_options_build_the_simulator() -> None:
    args = build_parser().parse_args(
        [
            "--company", "12345678:key-one",
            "--company", "87654321:key-two:premium",
            "--strict",
            "--latency", "0.05",
            "--latency", "factura/emitere=lognormal:0.3:5",
            "--seed", "3",
            "--fault", "drop-after,method=factura/emitere,times=2",
            "--limit", "articol-list=5",
            "--identical-window", "0",
        ]
    )  # fmt: skip
    sim = simulator_from_args(args)
    assert sim.company("12345678").plan is Plan.ENTERPRISE
    assert sim.company("87654321").plan is Plan.PREMIUM
    assert sim.strict
    assert sim.latency.default == FixedLatency(0.05)
    assert sim.latency.for_method("factura/emitere") == LogNormalLatency(0.3, 5.0)
    assert sim.discipline.limits[Bucket.ARTICOL_LIST] == 5
    assert sim.discipline.limits[Bucket.FACTURA] == 1
    assert sim.identical_window == 0
    assert [(r.fault.kind, r.times) for r in sim.faults.rules] == [(FaultKind.DROP_AFTER, 2)]
    assert "key-one" not in repr(sim)


def test_options_choose_the_vendors_observed_behaviours() -> None:
    sim = simulator_from_args(build_parser().parse_args(["--company", "1:k"]))
    methods = sim.methods
    assert (methods.environment, methods.auth_failure, methods.duplicate_reply) == (
        "production",
        "refusal",
        "factura",
    )
    assert (methods.nomenclator_code, sim.max_records) == ("Cod", 10_000)
    args = build_parser().parse_args(
        [
            "--company", "1:k", "--environment", "test", "--auth-failure", "exception",
            "--duplicate-reply", "message", "--nomenclator-code", "Valoare", "--max-records", "0",
        ]
    )  # fmt: skip
    sim = simulator_from_args(args)
    methods = sim.methods
    assert (methods.environment, methods.auth_failure, methods.duplicate_reply) == (
        "test",
        "exception",
        "message",
    )
    assert (methods.nomenclator_code, sim.max_records) == ("Valoare", None)


def test_the_help_names_every_fault_kind(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    shown = " ".join(capsys.readouterr().out.split())
    for kind in FaultKind:
        assert kind.value in shown


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        ([], "at least one --company"),
        (["--company", "123"], "CUI:KEY"),
        (["--company", "1:k", "--host", "0.0.0.0"], "not loopback"),
        (["--company", "1:k", "--fault", "meteor"], "meteor"),
        (["--company", "1:k", "--limit", "galaxy=3"], "BUCKET=SECONDS"),
        (["--company", "1:k:gold"], "plan 'gold'"),
        (["--company", "1:k", "--environment", "staging"], "invalid choice: 'staging'"),
        (["--company", "1:k", "--max-records", "-1"], "max_records"),
    ],
)
def test_bad_options_are_refused(
    argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == 2
    assert complaint in capsys.readouterr().err


@pytest.mark.realtime
async def test_serves_until_interrupted() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fgo_async.simulator", "--port", "0", "--quiet",
        "--company", "12345678:secret-key",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert line.startswith("FGO simulator serving http://127.0.0.1:")
        assert "secret-key" not in line
        base_url = line.split()[3]
        url = f"{base_url}/nomenclator/tva"
        body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read())
        assert json.loads(body)["List"][0] == {"Nume": "21%", "Cod": "21"}
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 20) == 0
