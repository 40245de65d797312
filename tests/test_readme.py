"""The README's table of model fields and wire names is generated, and up to date."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import attrs
import pytest

from fgo_async import models
from fgo_async.models._fields import FLATTEN_KEY, WIRE_KEY

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wire_table() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wire_table", ROOT / "tools" / "wire_table.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["wire_table"] = module
    spec.loader.exec_module(module)
    return module


def test_the_readme_table_is_up_to_date(wire_table: ModuleType) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert wire_table.current(readme) == wire_table.render(), (
        "README.md is out of date: run `python tools/wire_table.py --write`"
    )
    assert wire_table.main(["--check"]) == 0


def test_every_model_is_in_the_table(wire_table: ModuleType) -> None:
    in_table = set(wire_table.wire_models())
    expected = {
        getattr(models, name)
        for name in models.__all__
        if attrs.has(getattr(models, name)) and wire_table.is_wire_model(getattr(models, name))
    }
    assert in_table == expected
    assert len(wire_table.wire_models()) == len(in_table)


def test_every_field_has_a_row_with_its_wire_name(wire_table: ModuleType) -> None:
    table = wire_table.render()
    for cls in wire_table.wire_models():
        section = table.split(f"#### `{cls.__name__}`\n", 1)[1].split("\n####", 1)[0]
        for field in attrs.fields(cls):
            row = next(
                line for line in section.splitlines() if line.startswith(f"| `{field.name}` |")
            )
            if WIRE_KEY in field.metadata:
                assert f"`{field.metadata[WIRE_KEY]}`" in row
            for flat in field.metadata.get(FLATTEN_KEY, {}).values():
                assert f"`{flat}`" in row


def test_the_table_shows_what_a_user_needs(wire_table: ModuleType) -> None:
    table = wire_table.render()
    assert "| `unit_price` | `PretUnitar` | `Decimal \\| None` |" in table
    assert "| `invoice` | `SerieFactura`, `NumarFactura` | `InvoiceRef` |" in table
    assert "also read from `Cod`" in table
    assert "at most 36 characters" in table


def test_a_stale_table_is_detected(
    wire_table: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = tmp_path / "README.md"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    stale.write_text(readme.replace("`PretUnitar`", "`Pret`", 1), encoding="utf-8")
    monkeypatch.setattr(wire_table, "README", stale)
    assert wire_table.main(["--check"]) == 1
    assert wire_table.main(["--write"]) == 0
    assert wire_table.main(["--check"]) == 0
    assert stale.read_text(encoding="utf-8") == readme
