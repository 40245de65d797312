"""Every vendor-method command of ``fgo``, in-process against the simulator on virtual time."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from fgo_async.simulator import FgoSimulator
from fgo_async.testing import TEST_COMPANY, TEST_PRIVATE_KEY
from fgo_async.virtual_time import VirtualClock
from tests.cli.conftest import Fgo, invoice

pytestmark = pytest.mark.usefixtures("virtual_clock")


async def issue(
    fgo: Fgo, tmp_path: Path, capsys: pytest.CaptureFixture[str], **changes: object
) -> dict[str, str]:
    path = tmp_path / "invoice.json"
    path.write_text(json.dumps(invoice(**changes)), encoding="utf-8")
    assert await fgo("issue", str(path), "--json") == 0
    return json.loads(capsys.readouterr().out)


async def test_issue_prints_the_issued_invoice(
    fgo: Fgo, fgo_simulator: FgoSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    issued = await issue(fgo, tmp_path, capsys)
    assert (issued["series"], issued["number"]) == ("BV", "001")
    assert issued["link"].endswith(".pdf")
    document = fgo_simulator.document(TEST_COMPANY, "BV", "001")
    assert document is not None
    assert document.total == Decimal("48.38")  # 2 x 19.99 + 21 % VAT

    path = tmp_path / "invoice.json"
    # The same invoice again, seconds later: the vendor refuses it (HTTP 409), exit status 4.
    assert await fgo("issue", str(path)) == 4
    error = capsys.readouterr().err
    assert error.startswith("fgo: already issued as BV-001, the vendor refused a second one")
    assert error.count("\n") == 1  # one line, no traceback

    path.write_text(json.dumps(invoice(external_id="A-2")), encoding="utf-8")
    assert await fgo("issue", str(path)) == 0
    table = capsys.readouterr().out
    assert "factura/emitere" in table
    assert "number" in table
    assert "002" in table


async def test_issue_reads_stdin_and_names_its_company(
    fgo: Fgo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    data = invoice(cod_unic=TEST_COMPANY)
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(data)))
    assert await fgo("issue", "-", "--json") == 0
    assert json.loads(capsys.readouterr().out)["number"] == "001"

    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(data)))
    assert await fgo("issue", "-", "--company", "99999999") == 2
    assert "is for company 12345678, not 99999999" in capsys.readouterr().err


async def test_invoice_commands(
    fgo: Fgo, fgo_simulator: FgoSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await issue(fgo, tmp_path, capsys)
    await issue(fgo, tmp_path, capsys, external_id="A-2")

    assert await fgo("print", "BV", "001", "--json") == 0
    assert json.loads(capsys.readouterr().out)["link"].endswith(".pdf")

    assert (
        await fgo(
            "pay", "BV", "001", "10.50", "--type", "Card", "--at", "2025-03-01 10:00:00", "--json"
        )
        == 0
    )
    receipt = json.loads(capsys.readouterr().out)
    assert receipt["receipt"] == {"series": "CH", "number": "001"}

    assert await fgo("status", "BV", "001", "--json") == 0
    status = json.loads(capsys.readouterr().out)
    assert status["total"] == "48.38"
    assert status["paid"] == "10.50"
    assert status["payments"][0]["amount"] == "10.50"

    assert await fgo("status", "BV", "001") == 0
    table = capsys.readouterr().out
    assert "48.38" in table
    assert "payments" in table
    assert "10.5" in table

    assert await fgo("delete-payment", "BV", "001", "CH", "001") == 0
    assert "Incasarea a fost stearsa" in capsys.readouterr().out

    assert await fgo("awb", "BV", "001", "AWB123", "--json") == 0
    capsys.readouterr()
    document = fgo_simulator.document(TEST_COMPANY, "BV", "001")
    assert document is not None
    assert document.awb == "AWB123"

    assert await fgo("reverse", "BV", "001", "--date", "2025-03-02", "--json") == 0
    reversal = json.loads(capsys.readouterr().out)
    assert reversal["series"] == "BV"
    assert reversal["number"] == "003"

    assert await fgo("cancel", "BV", "002") == 0
    assert "anulata" in capsys.readouterr().out

    assert await fgo("delete", "BV", "003", "--json") == 0
    assert "stearsa" in json.loads(capsys.readouterr().out)["message"]


async def test_a_proforma_paid_becomes_an_invoice(
    fgo: Fgo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await issue(fgo, tmp_path, capsys, series="PF", document_type="Proforma")
    argv = ["pay", "PF", "001", "48.38", "--type", "Card", "--document-type", "Proforma"]
    assert await fgo(*argv, "--receipt-series", "CHP", "--account", "5311", "--json") == 0
    paid = json.loads(capsys.readouterr().out)
    assert paid["invoice"]["series"] == "FCT"
    assert paid["receipt"]["series"] == "CHP"
    assert await fgo("associated", "PF", "001", "--json") == 0
    associated = json.loads(capsys.readouterr().out)
    assert [(i["series"], i["number"]) for i in associated["items"]] == [("FCT", "001")]
    assert await fgo("associated", "PF", "001") == 0
    assert "FCT" in capsys.readouterr().out


async def test_article_and_customer_commands(
    fgo: Fgo,
    fgo_simulator: FgoSimulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    virtual_clock: VirtualClock,
) -> None:
    for n in range(3):
        fgo_simulator.add_article(
            TEST_COMPANY, name=f"Carte {n}", code=f"C{n}", unit_price="9.90", stock=5
        )
    await issue(fgo, tmp_path, capsys)

    started = virtual_clock.time()
    assert await fgo("articles", "--page-size", "2", "--json") == 0
    articles = json.loads(capsys.readouterr().out)
    # Carte (created by the invoice) and the three added: two pages, 30 s apart.
    assert [a["name"] for a in articles] == ["Carte 0", "Carte 1", "Carte 2", "Carte"]
    assert articles[0]["unit_price"] == "9.90"
    assert articles[0]["vat_rate"] == "21"
    assert virtual_clock.time() - started >= 30
    assert await fgo("articles", "--page-size", "2", "--max-pages", "1") == 0
    table = capsys.readouterr().out
    assert "Carte 1" in table
    assert "Carte 2" not in table

    assert await fgo("article", "C1", "--json") == 0
    assert json.loads(capsys.readouterr().out)["name"] == "Carte 1"
    assert await fgo("article", "C0", "C2", "--json") == 0
    assert [a["name"] for a in json.loads(capsys.readouterr().out)["items"]] == [
        "Carte 0",
        "Carte 2",
    ]
    assert await fgo("article", "C0", "C2") == 0
    assert "Carte 2" in capsys.readouterr().out

    assert await fgo("changed-articles", "--hours", "2", "--json") == 0
    assert {a["name"] for a in json.loads(capsys.readouterr().out)["items"]} >= {"Carte 0"}
    assert await fgo("warehouses") == 0
    assert "Gestiune principala" in capsys.readouterr().out

    assert await fgo("customers", "--json") == 0
    customers = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in customers] == ["Ionescu Popescu SRL"]
    assert await fgo("customers", "--max-pages", "1") == 0
    assert "Ionescu Popescu SRL" in capsys.readouterr().out


async def test_nomenclature(fgo: Fgo, capsys: pytest.CaptureFixture[str]) -> None:
    assert await fgo("nomenclature", "judet", "--json") == 0
    counties = json.loads(capsys.readouterr().out)["items"]
    assert {"name": "Brasov", "value": "BV"} in counties
    assert await fgo("nomenclature", "localitati", "--county", "BV") == 0
    assert "Codlea" in capsys.readouterr().out
    assert await fgo("nomenclature", "localitati") == 3
    assert "county" in capsys.readouterr().err


async def test_empty_lists_and_confirmations_print_something(
    fgo: Fgo, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await fgo("customers") == 0
    assert "(none)" in capsys.readouterr().out
    assert await fgo("customers", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []


async def test_the_key_never_shows(
    fgo: Fgo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await issue(fgo, tmp_path, capsys)
    for argv in (
        ("status", "BV", "001"),
        ("status", "BV", "999"),
        ("print", "BV", "001", "--debug"),
    ):
        await fgo(*argv)
        captured = capsys.readouterr()
        assert TEST_PRIVATE_KEY not in captured.out + captured.err
