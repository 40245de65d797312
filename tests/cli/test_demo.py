"""``fgo demo``: three companies through one scheduler, no violations, exit status 0."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from fgo_async.cli import run
from fgo_async.cli.demo import COMPANIES
from fgo_async.virtual_time import VirtualClock


async def test_the_demo_in_process_on_virtual_time(
    virtual_clock: VirtualClock, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    started = virtual_clock.time()
    assert await run(["demo", "--in-process"]) == 0
    out = capsys.readouterr().out
    assert "18 invoices in the batches" in out
    assert "0 violations of the vendor's discipline" in out
    for company in COMPANIES:
        assert company.name in out
    assert "paid by card -> invoice FCT-001" in out
    assert "Retries: 2 in all" in out  # the 503 and the dropped connection, retried
    # Invoice calls per second as the simulator saw them, and the shortest gap between two:
    # close to the limit of 1/s (the retried faults take a little of it), never past it.
    table = out.split("three companies, one scheduler", 1)[1]
    rates = [float(rate) for rate in re.findall(r"(\d\.\d\d)/s ", table)]
    shortest = [float(gap) for gap in re.findall(r"(\d\.\d\d) s ", table)]
    assert len(rates) == len(shortest) == len(COMPANIES)
    assert all(0.8 <= rate <= 1.0 for rate in rates), rates
    assert all(gap >= 1.0 for gap in shortest), shortest
    for key in (company.private_key for company in COMPANIES):
        assert key not in out
    # 12 invoice calls per company at 1.1 s, the companies side by side: ~13 s, not ~40.
    assert virtual_clock.time() - started < 20


@pytest.mark.realtime
def test_the_demo_over_http_as_a_newcomer_runs_it() -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "fgo_async.cli", "demo", "--invoices", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "0 violations" in done.stdout
    assert "(200, application/pdf)" in done.stdout  # the PDF link works
    assert time.monotonic() - started < 30
