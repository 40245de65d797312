"""Fixtures of the CLI's tests: run ``fgo`` in-process against the test's simulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from fgo_async import FgoClient
from fgo_async.cli import run
from fgo_async.simulator import IN_PROCESS_BASE_URL, FgoSimulator
from fgo_async.testing import TEST_COMPANY, TEST_PRIVATE_KEY

Fgo = Callable[..., Awaitable[int]]

#: A valid invoice under the models' Python names.
INVOICE: dict[str, Any] = {
    "series": "BV",
    "currency": "RON",
    "customer": {
        "name": "Ionescu Popescu SRL",
        "type": "PJ",
        "tax_id": "RO18547290",
        "country": "Romania",
        "county": "Brasov",
    },
    "lines": [
        {"name": "Carte", "quantity": 2, "unit": "buc", "vat_rate": 21, "unit_price": "19.99"}
    ],
}


def invoice(**changes: Any) -> dict[str, Any]:
    """INVOICE with some fields changed."""
    return {**INVOICE, **changes}


def write_lines(path: Path, rows: list[dict[str, Any]]) -> Path:
    """A JSON-lines file of ``rows``."""
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of an in-process ``fgo``: the test company, no config file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")  # rich: wide enough that no cell is folded
    return {
        "FGO_COD_UNIC": TEST_COMPANY,
        "FGO_PRIVATE_KEY": TEST_PRIVATE_KEY,
        "FGO_PLATFORM_URL": "https://shop.example.ro",
        "FGO_BASE_URL": IN_PROCESS_BASE_URL,
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
    }


@pytest.fixture
def fgo(fgo_simulator: FgoSimulator, cli_env: dict[str, str]) -> Fgo:
    """``await fgo("status", "BV", "001")``: the exit status; output goes to capsys."""

    def make_client(**options: Any) -> FgoClient:
        return FgoClient(**options, transport=fgo_simulator.transport())

    async def invoke(*argv: str, environ: dict[str, str] | None = None) -> int:
        env = cli_env if environ is None else environ
        status = await run(list(argv), environ=env, make_client=make_client)
        # Each fgo is a process of its own, with a scheduler of its own: a person typing
        # commands leaves more than the vendor's second between them (free on virtual time).
        await asyncio.sleep(2)
        return status

    return invoke
