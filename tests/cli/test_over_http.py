"""``fgo simulator`` and ``fgo batch`` as a person or a process manager runs them: processes, real
HTTP, Ctrl-C, SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fgo_async.cli.journal import Status, read_results, records
from fgo_async.simulator import FgoSimulator, FixedLatency, Outcome
from fgo_async.testing import TEST_COMPANY, TEST_PRIVATE_KEY
from tests.cli.conftest import invoice, write_lines

pytestmark = pytest.mark.realtime

COMPANY, KEY = "12345678", "http-test-key"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """``fgo simulator`` serving on a free port; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "fgo_async.cli", "simulator", "--port", "0", "--quiet",
         "--company", f"{COMPANY}:{KEY}"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("FGO simulator serving http://127.0.0.1:"), line
        assert KEY not in line
        yield line.split()[3]
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
        assert process.returncode == 0


def environ(base_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "FGO_COD_UNIC": COMPANY,
        "FGO_PRIVATE_KEY": KEY,
        "FGO_BASE_URL": base_url,
        "FGO_PLATFORM_URL": "https://shop.example.ro",
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "COLUMNS": "200",
    }


def control(base_url: str, what: str) -> Any:
    root = base_url.removesuffix("/v1")
    with urllib.request.urlopen(f"{root}/_simulator/{what}", timeout=5) as reply:
        return json.load(reply)


def issued(base_url: str) -> list[str]:
    return [c["method"] for c in control(base_url, "calls") if c["outcome"] == "success"]


def batch(path: Path, out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fgo_async.cli", "batch", str(path), "--out", str(out)],
        capture_output=True, text=True, env=env, cwd=path.parent, timeout=60,
    )  # fmt: skip


def test_batch_against_a_running_simulator_then_nothing_new(served: str, tmp_path: Path) -> None:
    rows = [invoice(external_id=f"O-{n}", check_duplicate=True) for n in range(1, 4)]
    path = write_lines(tmp_path / "orders.jsonl", rows)
    out = tmp_path / "results.jsonl"
    env = environ(served, tmp_path)
    done = batch(path, out, env)
    assert done.returncode == 0, done.stderr
    assert "3 issued, 0 failed" in done.stdout
    assert len(out.read_text().splitlines()) == 3
    calls = len(control(served, "calls"))

    started = time.monotonic()
    again = batch(path, out, env)
    assert again.returncode == 0, again.stderr
    assert "0 issued, 0 failed, 0 outcome unknown, 3 already issued before" in again.stdout
    assert time.monotonic() - started < 10  # the interpreter's start-up; no call is made
    assert len(control(served, "calls")) == calls
    summary = control(served, "summary")
    assert summary["rate_violations"] == summary["overlaps"] == 0

    status = subprocess.run(
        [sys.executable, "-m", "fgo_async.cli", "status", "BV", "002", "--json"],
        capture_output=True, text=True, env=env, timeout=30,
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["total"] == "48.38"
    assert KEY not in done.stdout + done.stderr + again.stdout + status.stdout + status.stderr


def test_ctrl_c_in_the_middle_then_a_rerun_issues_the_rest_once(
    served: str, tmp_path: Path
) -> None:
    rows = [invoice(external_id=f"O-{n}", check_duplicate=True) for n in range(1, 7)]
    path = write_lines(tmp_path / "orders.jsonl", rows)
    out = tmp_path / "results.jsonl"
    env = environ(served, tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "fgo_async.cli", "batch", str(path), "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if out.exists() and len(out.read_text().splitlines()) >= 2:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "interrupted" in stdout
    first = [json.loads(line) for line in out.read_text().splitlines()]
    assert 2 <= len(first) < 6
    assert all(r["status"] == "issued" for r in first)
    assert issued(served).count("factura/emitere") == len(first)

    done = batch(path, out, env)
    assert done.returncode == 0, done.stderr
    assert f"{6 - len(first)} issued" in done.stdout
    assert issued(served).count("factura/emitere") == 6  # each order once
    keys = [json.loads(line)["key"] for line in out.read_text().splitlines()]
    assert sorted(keys) == [f"O-{n}" for n in range(1, 7)]


def _books(simulator: FgoSimulator) -> Counter[str]:
    """How many invoices the simulator holds per order: its IdExtern, or its quantity."""
    documents = simulator.company(TEST_COMPANY).documents.values()
    return Counter(d.external_id or f"x{d.lines[0].quantity:f}" for d in documents)


async def _fgo_batch(path: Path, out: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fgo_async.cli", "batch", str(path), "--out", str(out),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=path.parent,
    )  # fmt: skip


async def test_sigterm_mid_run_then_a_rerun_issues_each_order_once(
    fgo_simulator: FgoSimulator, tmp_path: Path
) -> None:
    # A process manager, a container stop or `timeout` sends SIGTERM: fgo must stop as on
    # Ctrl-C, not die with a call in flight whose invoice no record holds.
    fgo_simulator.latency = {"factura/emitere": FixedLatency(1.0)}
    line = invoice()["lines"][0]
    orders = []
    for n in (1, 2, 3):  # with an IdExtern and the duplicate check, and without
        orders.append(invoice(external_id=f"O-{n}", check_duplicate=True))
        orders.append(invoice(lines=[{**line, "quantity": n + 3}]))
    expected = Counter(["O-1", "O-2", "O-3", "x4", "x5", "x6"])
    path = write_lines(tmp_path / "orders.jsonl", orders)
    out = tmp_path / "results.jsonl"
    env = {**environ(fgo_simulator.base_url, tmp_path), "FGO_PRIVATE_KEY": TEST_PRIVATE_KEY}
    assert TEST_COMPANY == COMPANY

    process = await _fgo_batch(path, out, env)
    deadline = asyncio.get_running_loop().time() + 15
    while asyncio.get_running_loop().time() < deadline:
        outcomes = [c.outcome for c in fgo_simulator.calls_to("factura/emitere")]
        if Outcome.SUCCESS in outcomes and outcomes[-1] is Outcome.PENDING:
            break  # an invoice issued, and the next call in flight
        await asyncio.sleep(0.01)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=15)
    assert process.returncode == 143, stderr.decode()
    assert "SIGTERM received; stopping" in stderr.decode()
    assert "interrupted" in stdout.decode()
    first = list(records(out))
    assert len(first) >= 2  # the invoice issued before, and the call that was in flight
    assert all(r.status is Status.ISSUED for r in first)
    assert sum(_books(fgo_simulator).values()) == len(first)  # every invoice made is recorded

    process = await _fgo_batch(path, out, env)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=15)
    assert process.returncode == 0, stderr.decode()
    assert f"{6 - len(first)} issued, 0 failed, 0 outcome unknown" in stdout.decode()
    assert _books(fgo_simulator) == expected  # each order once, the keyless ones included
    final = read_results(out)
    assert len(final) == 6
    assert all(r.status is Status.ISSUED for r in final.values())
    numbers = {(r.series, r.number) for r in final.values()}
    assert len(numbers) == 6  # one invoice per order in the results file too
    assert not fgo_simulator.violations()
