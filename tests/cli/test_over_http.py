"""``fgo simulator`` and ``fgo batch`` as a person runs them: processes, real HTTP, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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
