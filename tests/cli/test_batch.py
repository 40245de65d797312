"""``fgo batch``: one invoice per line, each outcome recorded at once, resumable, interruptible."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fgo_async import FgoClient, InvoiceRef, IssuedInvoice
from fgo_async.cli.batch import plan_batch, record_of
from fgo_async.cli.journal import Journal, Record, Status, read_results, records
from fgo_async.cli.orders import OrderLine, parse_orders
from fgo_async.errors import (
    CallIdentity,
    FgoApiError,
    FgoClosedError,
    FgoDuplicateError,
    FgoOutcomeUnknownError,
    FgoValidationError,
    Problem,
)
from fgo_async.simulator import FgoSimulator, FixedLatency
from fgo_async.testing import TEST_COMPANY
from tests.cli.conftest import INVOICE, Fgo, invoice, write_lines

pytestmark = pytest.mark.usefixtures("virtual_clock")

OTHER_COMPANY = "87654321"


def orders(count: int, **changes: Any) -> list[dict[str, Any]]:
    """``count`` orders with distinct order ids and the duplicate check."""
    return [
        invoice(external_id=f"O-{n}", check_duplicate=True, **changes) for n in range(1, count + 1)
    ]


def issued_ids(sim: FgoSimulator, company: str = TEST_COMPANY) -> Counter[str | None]:
    """How many invoices the simulator holds per order id."""
    return Counter(d.external_id for d in sim.company(company).documents.values())


# -- the plan and the records ------------------------------------------------------------------


def test_the_plan_skips_the_issued_and_leaves_the_unknown_alone() -> None:
    lines = [json.dumps(row) for row in orders(3)] + [json.dumps(invoice())]
    parsed = parse_orders(lines, default_company=TEST_COMPANY)
    assert [o.key for o in parsed] == ["O-1", "O-2", "O-3", "#4"]
    previous = {
        (TEST_COMPANY, "O-1"): Record(line=1, key="O-1", cod_unic=TEST_COMPANY, status="issued"),
        (TEST_COMPANY, "O-2"): Record(line=2, key="O-2", cod_unic=TEST_COMPANY, status="failed"),
        (TEST_COMPANY, "O-3"): Record(line=3, key="O-3", cod_unic=TEST_COMPANY, status="unknown"),
        (TEST_COMPANY, "#4"): Record(line=4, key="#4", cod_unic=TEST_COMPANY, status="unknown"),
    }
    plan = plan_batch(parsed, previous)
    assert [o.key for o in plan.to_send] == ["O-2"]
    assert plan.skipped == 1
    assert [r.key for r in plan.unknown] == ["O-3", "#4"]
    # Only the order the vendor can deduplicate is sent again.
    plan = plan_batch(parsed, previous, retry_unknown=True)
    assert [o.key for o in plan.to_send] == ["O-2", "O-3"]
    assert [r.key for r in plan.unknown] == ["#4"]


def test_each_outcome_has_its_record() -> None:
    [order] = parse_orders([json.dumps(orders(1)[0])], default_company=TEST_COMPANY)
    identity = CallIdentity(method="factura/emitere")
    issued = record_of(order, IssuedInvoice(series="BV", number="7", link="https://x/7.pdf"))
    assert issued is not None
    assert (issued.status, issued.series, issued.number) == (Status.ISSUED, "BV", "7")
    assert record_of(order, FgoClosedError("closed", identity=identity)) is None
    duplicate = FgoDuplicateError(
        "Factura a fost deja emisa", existing=InvoiceRef(series="BV", number="3")
    )
    again = record_of(order, duplicate)
    assert again is not None
    assert (again.status, again.number) == (Status.ISSUED, "3")
    assert again.note is not None
    assert "O-1" in again.note
    refused = record_of(order, FgoApiError("Hash invalid", identity=identity))
    assert refused is not None
    assert (refused.status, refused.exit_status, refused.outcome_known) == (
        Status.FAILED, 4, True
    )  # fmt: skip
    invalid = record_of(order, FgoValidationError([Problem(field="x", rule="r", message="m")]))
    assert invalid is not None
    assert invalid.exit_status == 3
    unknown = record_of(order, FgoOutcomeUnknownError("lost", identity=identity))
    assert unknown is not None
    assert (unknown.status, unknown.exit_status, unknown.outcome_known) == (
        Status.UNKNOWN, 6, False
    )  # fmt: skip


def test_an_exception_that_is_not_the_librarys_is_an_unknown_outcome() -> None:
    # It may come after the call was sent: "failed" would have a rerun issue a second invoice.
    [order] = parse_orders([json.dumps(invoice())], default_company=TEST_COMPANY)
    bug = record_of(order, RuntimeError("the reply decoder broke"))
    assert bug is not None
    assert (bug.status, bug.error, bug.message, bug.outcome_known, bug.exit_status) == (
        Status.UNKNOWN, "RuntimeError", "the reply decoder broke", False, 6
    )  # fmt: skip
    assert plan_batch([order], {order.identity: bug}).to_send == []


def _keyless_and_keyed() -> list[OrderLine]:
    rows = [invoice(), invoice(external_id="O-2"), invoice(external_id="O-3", check_duplicate=True)]
    return parse_orders([json.dumps(row) for row in rows], default_company=TEST_COMPANY)


def test_a_refused_duplicate_is_an_invoice_found_never_a_failure() -> None:
    said = "Un document identic a fost trimis recent: Factura a fost deja emisa: seria BV numarul 7"
    named = FgoDuplicateError(said, existing=InvoiceRef(series="BV", number="7"), status=409)
    for order in _keyless_and_keyed():
        found = record_of(order, named)
        assert found is not None
        assert (found.status, found.series, found.number) == (Status.ISSUED, "BV", "7")
        assert found.note is not None
        assert found.note.startswith("already issued by an earlier attempt")
        assert said in found.note  # what the vendor said, for the person who checks
        assert plan_batch([order], {order.identity: found}).skipped == 1

    unnamed = FgoDuplicateError("an identical invoice was just issued (HTTP 409)", status=409)
    for order in _keyless_and_keyed():
        exists = record_of(order, unnamed)
        assert exists is not None
        assert (exists.status, exists.error, exists.exit_status) == (
            Status.UNKNOWN, "FgoDuplicateError", 6
        )  # fmt: skip
        assert exists.note is not None
        assert "did not say which invoice" in exists.note
        assert plan_batch([order], {order.identity: exists}).to_send == []


def test_an_invoice_found_by_the_vendors_duplicate_check_is_recorded_as_found() -> None:
    [order, *_] = _keyless_and_keyed()
    found = record_of(order, IssuedInvoice(series="BV", number="9", deduplicated=True))
    assert found is not None
    assert (found.status, found.number) == (Status.ISSUED, "9")
    assert found.note is not None
    assert found.note.startswith("found, not made")
    made = record_of(order, IssuedInvoice(series="BV", number="10"))
    assert made is not None
    assert made.note is None


def test_an_invoice_found_that_is_another_orders_is_not_this_ones() -> None:
    first, second, _ = _keyless_and_keyed()
    owners = {(TEST_COMPANY, "BV", "7"): first.key}
    named = FgoDuplicateError("deja emisa", existing=InvoiceRef(series="BV", number="7"))
    assert record_of(first, named, owners) is not None
    other = record_of(second, named, owners)
    assert other is not None
    assert (other.status, other.exit_status) == (Status.UNKNOWN, 6)
    assert other.note is not None
    assert "BV-7, which is the invoice of order #1" in other.note
    lost = record_of(second, IssuedInvoice(series="BV", number="7", deduplicated=True), owners)
    assert lost is not None
    assert lost.status is Status.UNKNOWN
    # A new invoice may reuse the number of a deleted one: only found invoices are checked.
    reused = record_of(second, IssuedInvoice(series="BV", number="7"), owners)
    assert reused is not None
    assert reused.status is Status.ISSUED


def test_a_file_that_cannot_be_read_is_refused_whole() -> None:
    from fgo_async.cli.exits import CliError

    lines = [
        "not json",
        "[1]",
        json.dumps(invoice(unitprice=1)),
        json.dumps(invoice(cod_unic=True)),
        "",
        json.dumps(orders(1)[0]),
        json.dumps(orders(1)[0]),
        json.dumps(invoice(cod_unic=OTHER_COMPANY, external_id="O-1")),
    ]
    with pytest.raises(CliError) as caught:
        parse_orders(lines, default_company=TEST_COMPANY, source="o.jsonl")
    message = caught.value.message
    assert message.startswith(
        "o.jsonl: 5 line(s) cannot be read, nothing was sent: line 1: not JSON"
    )
    assert "line 2: not a JSON object" in message
    assert "line 3: unitprice: not a field of Invoice" in message
    assert "line 4: cod_unic must be text" in message
    assert "line 7: key O-1 is also on line 6" in message
    assert "line 8" not in message  # the same order id for another company is another order
    assert caught.value.status == 3
    with pytest.raises(CliError, match="no company"):
        parse_orders([json.dumps(invoice())])
    many = ["x"] * 7
    with pytest.raises(CliError, match="and 2 more"):
        parse_orders(many)


def test_a_results_file_cut_short_is_refused(tmp_path: Path) -> None:
    from fgo_async.cli.exits import CliError

    path = tmp_path / "results.jsonl"
    assert read_results(path) == {}
    good = Record(line=1, key="O-1", cod_unic=TEST_COMPANY, status="issued", number="1")
    later = Record(line=1, key="O-1", cod_unic=TEST_COMPANY, status="failed")
    path.write_text(later.to_json() + "\n" + good.to_json() + "\n", encoding="utf-8")
    assert read_results(path)[(TEST_COMPANY, "O-1")].status is Status.ISSUED  # the latest
    path.write_text(good.to_json() + "\n" + good.to_json()[:20], encoding="utf-8")
    with pytest.raises(CliError, match=r"line 2 .* was cut short"):
        read_results(path)
    path.write_text('{"line": 1}\n' + good.to_json() + "\n", encoding="utf-8")
    with pytest.raises(CliError, match=r"line 1 .* cannot be read"):
        read_results(path)


def test_a_last_record_without_its_newline_gets_it_before_the_next(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    first = Record(line=1, key="O-1", cod_unic=TEST_COMPANY, status="issued", number="1")
    last = Record(line=2, key="Ș-2", cod_unic=TEST_COMPANY, status="issued", number="2")
    path.write_text(first.to_json() + "\n" + last.to_json(), encoding="utf-8")  # a torn write
    with Journal(path) as journal:
        journal.append(Record(line=3, key="O-3", cod_unic=TEST_COMPANY, status="issued"))
    assert [r.key for r in records(path)] == ["O-1", "Ș-2", "O-3"]
    assert path.read_text(encoding="utf-8").endswith("}\n")
    with Journal(path):
        pass  # a file that ends well is left as it is
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3

    # A line cut mid-record may have said "issued": left for read_results to refuse.
    cut = first.to_json() + "\n" + last.to_json()[:30]
    path.write_text(cut, encoding="utf-8")
    with Journal(path):
        pass
    assert path.read_text(encoding="utf-8") == cut


def test_one_batch_at_a_time_per_results_file(tmp_path: Path) -> None:
    from fgo_async.cli.exits import CliError

    path = tmp_path / "results.jsonl"
    with Journal(path), pytest.raises(CliError, match="another fgo batch"), Journal(path):
        pass
    with Journal(path) as journal:
        journal.append(Record(line=1, key="k", cod_unic="1", status="issued"))
    assert [r.key for r in records(path)] == ["k"]
    with pytest.raises(CliError, match="cannot write"), Journal(tmp_path / "no" / "dir.jsonl"):
        pass


# -- fgo batch, in-process --------------------------------------------------------------------


async def test_a_batch_issues_every_line_and_a_rerun_nothing(
    fgo: Fgo, fgo_simulator: FgoSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(tmp_path / "orders.jsonl", [*orders(4), invoice(series="CJ")])
    out = tmp_path / "results.jsonl"
    assert await fgo("batch", str(path), "--out", str(out)) == 0
    captured = capsys.readouterr()
    assert "5 issued, 0 failed, 0 outcome unknown, 0 already issued before" in captured.out
    assert "issuing" in captured.err  # the progress bar
    written = list(records(out))
    assert [(r.line, r.key, r.status) for r in written] == [
        (1, "O-1", Status.ISSUED), (2, "O-2", Status.ISSUED), (3, "O-3", Status.ISSUED),
        (4, "O-4", Status.ISSUED), (5, "#5", Status.ISSUED),
    ]  # fmt: skip
    assert [r.number for r in written] == ["001", "002", "003", "004", "001"]
    assert all(r.link and r.link.endswith(".pdf") for r in written)
    assert not fgo_simulator.violations()

    calls = len(fgo_simulator.calls)
    started = asyncio.get_running_loop().time()
    assert await fgo("batch", str(path), "--out", str(out)) == 0
    assert (
        "0 issued, 0 failed, 0 outcome unknown, 5 already issued before" in capsys.readouterr().out
    )
    assert len(fgo_simulator.calls) == calls  # nothing sent
    assert asyncio.get_running_loop().time() - started <= 2.0 + 1e-6  # the fixture's pause only
    assert len(list(records(out))) == 5


async def test_failed_lines_are_recorded_and_retried_on_a_rerun(
    fgo: Fgo, fgo_simulator: FgoSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_cui = invoice(external_id="O-2")
    bad_cui["customer"] = {**bad_cui["customer"], "tax_id": "RO18547291"}
    unknown_county = invoice(external_id="O-3")
    unknown_county["customer"] = {**unknown_county["customer"], "county": "Atlantida"}
    path = write_lines(tmp_path / "orders.jsonl", [orders(1)[0], bad_cui, unknown_county])
    out = tmp_path / "results.jsonl"
    assert await fgo("batch", str(path), "--out", str(out)) == 4  # the worst: a refusal
    report = capsys.readouterr().out
    assert "1 issued, 2 failed" in report
    assert "failed (run again to retry them)" in report
    by_key = {r.key: r for r in records(out)}
    assert by_key["O-2"].exit_status == 3
    assert "customer.tax_id" in (by_key["O-2"].message or "")
    assert by_key["O-3"].exit_status == 4
    assert "Atlantida" in (by_key["O-3"].message or "")

    fixed = invoice(external_id="O-3")
    write_lines(path, [orders(1)[0], bad_cui, fixed])
    assert await fgo("batch", str(path), "--out", str(out)) == 3
    assert (
        "1 issued, 1 failed, 0 outcome unknown, 1 already issued before" in capsys.readouterr().out
    )
    assert issued_ids(fgo_simulator) == {"O-1": 1, "O-3": 1}


async def test_one_file_many_companies(
    fgo: Fgo,
    fgo_simulator: FgoSimulator,
    cli_env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fgo_simulator.add_company(OTHER_COMPANY, "other-key")
    (tmp_path / "fgo.toml").write_text(
        f'base_url = "{cli_env["FGO_BASE_URL"]}"\n'
        'platform_url = "https://shop.example.ro"\n'
        f'default_company = "{TEST_COMPANY}"\n'
        f"[companies.{TEST_COMPANY}]\n"
        'private_key_env = "KEY_ONE"\n'
        f"[companies.{OTHER_COMPANY}]\n"
        'private_key_env = "KEY_TWO"\n',
        encoding="utf-8",
    )
    environ = {
        "KEY_ONE": cli_env["FGO_PRIVATE_KEY"],
        "KEY_TWO": "other-key",
        "XDG_CONFIG_HOME": cli_env["XDG_CONFIG_HOME"],
    }
    rows = [*orders(3), *orders(3, cod_unic=OTHER_COMPANY)]
    path = write_lines(tmp_path / "orders.jsonl", rows)
    out = tmp_path / "results.jsonl"
    assert await fgo("batch", str(path), "--out", str(out), environ=environ) == 0
    written = list(records(out))
    assert Counter(r.cod_unic for r in written) == {TEST_COMPANY: 3, OTHER_COMPANY: 3}
    assert issued_ids(fgo_simulator, OTHER_COMPANY) == {"O-1": 1, "O-2": 1, "O-3": 1}
    # Both companies' calls interleaved, each at its own pace: no violations.
    assert not fgo_simulator.violations()

    rows.append(invoice(cod_unic="55555555", external_id="X"))
    write_lines(path, rows)
    assert await fgo("batch", str(path), "--out", str(out), environ=environ) == 2
    assert "company 55555555 has no private key" in capsys.readouterr().err
    assert len(list(records(out))) == 6  # nothing sent: every company is checked first


async def test_ctrl_c_lets_calls_in_flight_finish_and_a_rerun_completes(
    fgo: Fgo,
    fgo_simulator: FgoSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_lines(tmp_path / "orders.jsonl", orders(10))
    out = tmp_path / "results.jsonl"
    append = Journal.append

    def interrupt_after_three(journal: Journal, record: Record) -> None:
        append(journal, record)
        if len(list(records(journal.path))) == 3:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, as the terminal sends it

    monkeypatch.setattr(Journal, "append", interrupt_after_three)
    assert await fgo("batch", str(path), "--out", str(out)) == 130
    captured = capsys.readouterr()
    assert "stopping: letting the calls in flight finish" in captured.err
    assert "interrupted: 7 not sent; run the same command again" in captured.out
    written = list(records(out))
    assert [r.key for r in written] == ["O-1", "O-2", "O-3"]
    assert all(r.status is Status.ISSUED for r in written)
    assert issued_ids(fgo_simulator) == {"O-1": 1, "O-2": 1, "O-3": 1}

    monkeypatch.setattr(Journal, "append", append)
    assert await fgo("batch", str(path), "--out", str(out)) == 0
    assert (
        "7 issued, 0 failed, 0 outcome unknown, 3 already issued before" in capsys.readouterr().out
    )
    assert issued_ids(fgo_simulator) == {f"O-{n}": 1 for n in range(1, 11)}  # no duplicate
    assert not fgo_simulator.violations()


async def test_a_second_ctrl_c_abandons_the_call_in_flight_as_unknown(
    fgo: Fgo, fgo_simulator: FgoSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fgo_simulator.latency = {"factura/emitere": FixedLatency(5.0)}
    path = write_lines(tmp_path / "orders.jsonl", [*orders(3), invoice(series="CJ")])
    out = tmp_path / "results.jsonl"
    loop = asyncio.get_running_loop()
    loop.call_later(0.5, os.kill, os.getpid(), signal.SIGINT)  # the first call is in flight
    loop.call_later(0.6, os.kill, os.getpid(), signal.SIGINT)
    assert await fgo("batch", str(path), "--out", str(out)) == 130

    [abandoned] = records(out)
    assert (abandoned.key, abandoned.status, abandoned.outcome_known) == (
        "O-1", Status.UNKNOWN, False
    )  # fmt: skip
    capsys.readouterr()
    await asyncio.sleep(10)  # the simulator finishes the abandoned call all the same

    # A rerun leaves the unknown order alone, issues the rest, and says to reconcile.
    fgo_simulator.latency = None
    assert await fgo("batch", str(path), "--out", str(out)) == 6
    report = capsys.readouterr().out
    assert "3 issued, 0 failed, 1 outcome unknown" in report
    assert "outcome unknown: reconcile them" in report
    assert issued_ids(fgo_simulator) == {"O-1": 1, "O-2": 1, "O-3": 1, None: 1}

    # The order has the duplicate check: retrying it is safe, and the vendor says it exists.
    assert await fgo("batch", str(path), "--out", str(out), "--retry-unknown") == 0
    latest = read_results(out)[(TEST_COMPANY, "O-1")]
    assert latest.status is Status.ISSUED
    assert latest.number == "001"
    assert latest.note is not None
    assert "already issued" in latest.note
    assert issued_ids(fgo_simulator) == {"O-1": 1, "O-2": 1, "O-3": 1, None: 1}


class Terminated(Exception):
    """SIGTERM arrived where fgo does not handle it (it would have killed fgo)."""


@pytest.fixture
def sigterm_is_caught() -> Iterator[None]:
    """A SIGTERM that fgo leaves unhandled fails the test instead of killing pytest."""

    def terminated(signum: int, frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminated)
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.mark.usefixtures("sigterm_is_caught")
async def test_sigterm_stops_like_ctrl_c_with_status_143(
    fgo: Fgo,
    fgo_simulator: FgoSimulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fgo_simulator.latency = {"factura/emitere": FixedLatency(1.5)}
    path = write_lines(tmp_path / "orders.jsonl", [*orders(5), invoice(series="CJ")])
    out = tmp_path / "results.jsonl"
    # Calls start at 0, 1.5, 3...: at 2.0 the first is recorded and the second is in flight.
    asyncio.get_running_loop().call_later(2.0, os.kill, os.getpid(), signal.SIGTERM)
    assert await fgo("batch", str(path), "--out", str(out)) == 143
    captured = capsys.readouterr()
    assert "SIGTERM received; stopping: letting the calls in flight finish" in captured.err
    assert "interrupted: 4 not sent; run the same command again" in captured.out
    written = list(records(out))
    assert [(r.key, r.status) for r in written] == [("O-1", Status.ISSUED), ("O-2", Status.ISSUED)]
    assert issued_ids(fgo_simulator) == {"O-1": 1, "O-2": 1}

    fgo_simulator.latency = None
    assert await fgo("batch", str(path), "--out", str(out)) == 0
    assert issued_ids(fgo_simulator) == {**{f"O-{n}": 1 for n in range(1, 6)}, None: 1}
    capsys.readouterr()


@pytest.mark.usefixtures("sigterm_is_caught")
@pytest.mark.parametrize("second", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_second_stop_signal_after_sigterm_abandons_the_call_in_flight(
    fgo: Fgo,
    fgo_simulator: FgoSimulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    second: signal.Signals,
) -> None:
    fgo_simulator.latency = {"factura/emitere": FixedLatency(5.0)}
    path = write_lines(tmp_path / "orders.jsonl", [invoice(), *orders(2)])
    out = tmp_path / "results.jsonl"
    loop = asyncio.get_running_loop()
    loop.call_later(0.5, os.kill, os.getpid(), signal.SIGTERM)
    loop.call_later(0.6, os.kill, os.getpid(), second)
    assert await fgo("batch", str(path), "--out", str(out)) == 143  # the first signal's
    [abandoned] = records(out)
    assert (abandoned.key, abandoned.status, abandoned.error) == (
        "#1", Status.UNKNOWN, "Interrupted"
    )  # fmt: skip
    capsys.readouterr()
    await asyncio.sleep(10)  # the simulator finishes the abandoned call all the same
    assert issued_ids(fgo_simulator) == {None: 1}


async def test_a_lost_reply_without_the_duplicate_check_stays_unknown(
    fgo: Fgo, fgo_simulator: FgoSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fgo_simulator.faults.script("drop-after", method="factura/emitere")
    path = write_lines(tmp_path / "orders.jsonl", [invoice(external_id="O-1")])
    out = tmp_path / "results.jsonl"
    assert await fgo("batch", str(path), "--out", str(out)) == 6
    [record] = records(out)
    assert (record.status, record.error) == (Status.UNKNOWN, "FgoOutcomeUnknownError")
    assert await fgo("batch", str(path), "--out", str(out), "--retry-unknown") == 6
    assert len(list(records(out))) == 1  # not sent again: the vendor could not tell a repeat
    assert issued_ids(fgo_simulator) == {"O-1": 1}
    capsys.readouterr()


async def test_an_unexpected_error_after_the_call_was_sent_is_never_issued_again(
    fgo: Fgo,
    fgo_simulator: FgoSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    issue = FgoClient.issue_invoice

    async def issue_then_break(client: FgoClient, invoice: Any) -> IssuedInvoice:
        await issue(client, invoice)  # the vendor issued it...
        raise RuntimeError("the reply decoder broke")  # ...and a bug lost the reply

    monkeypatch.setattr(FgoClient, "issue_invoice", issue_then_break)
    path = write_lines(tmp_path / "orders.jsonl", [invoice(), invoice(external_id="O-2")])
    out = tmp_path / "results.jsonl"
    assert await fgo("batch", str(path), "--out", str(out)) == 6
    written = list(records(out))
    assert [(r.status, r.error) for r in written] == [(Status.UNKNOWN, "RuntimeError")] * 2
    assert "0 issued, 0 failed, 2 outcome unknown" in capsys.readouterr().out

    monkeypatch.setattr(FgoClient, "issue_invoice", issue)
    await asyncio.sleep(30)  # past the vendor's identical-invoice window
    assert await fgo("batch", str(path), "--out", str(out)) == 6
    assert issued_ids(fgo_simulator) == {None: 1, "O-2": 1}  # not issued a second time
    capsys.readouterr()


async def test_a_keyless_order_whose_record_was_lost_is_found_not_issued_again(
    fgo: Fgo, fgo_simulator: FgoSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No IdExtern (or no duplicate check): only the vendor's HTTP 409 for an identical
    # invoice sent again right after the first tells the rerun that the invoice exists.
    other_lines = [{**INVOICE["lines"][0], "quantity": 3}]
    path = write_lines(
        tmp_path / "orders.jsonl", [invoice(), invoice(external_id="O-2", lines=other_lines)]
    )
    out = tmp_path / "results.jsonl"
    assert await fgo("batch", str(path), "--out", str(out)) == 0
    made = {r.key: r.number for r in records(out)}
    assert made == {"#1": "001", "O-2": "002"}
    out.write_text("", encoding="utf-8")  # killed after the calls, before their records

    assert await fgo("batch", str(path), "--out", str(out)) == 0
    assert "2 issued, 0 failed, 0 outcome unknown" in capsys.readouterr().out
    found = read_results(out)
    assert {k: r.number for (_, k), r in found.items()} == made
    for record in found.values():
        assert record.note is not None
        assert record.note.startswith("already issued by an earlier attempt")
        assert "Un document identic a fost trimis recent" in record.note

    await asyncio.sleep(30)  # past the vendor's identical-invoice window
    calls = len(fgo_simulator.calls)
    assert await fgo("batch", str(path), "--out", str(out)) == 0
    assert len(fgo_simulator.calls) == calls
    assert issued_ids(fgo_simulator) == {None: 1, "O-2": 1}
    capsys.readouterr()


async def test_two_orders_alike_without_a_key_the_second_is_not_taken_for_the_first(
    fgo: Fgo, fgo_simulator: FgoSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(tmp_path / "orders.jsonl", [invoice(), invoice()])
    out = tmp_path / "results.jsonl"
    assert await fgo("batch", str(path), "--out", str(out)) == 6
    first, second = records(out)
    assert (first.status, first.number) == (Status.ISSUED, "001")
    assert (second.key, second.status, second.error) == ("#2", Status.UNKNOWN, "FgoDuplicateError")
    assert second.note is not None
    assert "which is the invoice of order #1" in second.note
    assert issued_ids(fgo_simulator) == {None: 1}
    capsys.readouterr()


async def test_a_torn_newline_does_not_spoil_the_results_file(
    fgo: Fgo, fgo_simulator: FgoSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(tmp_path / "orders.jsonl", orders(1))
    out = tmp_path / "results.jsonl"
    assert await fgo("batch", str(path), "--out", str(out)) == 0
    out.write_text(out.read_text(encoding="utf-8").rstrip("\n"), encoding="utf-8")  # killed

    write_lines(path, orders(3))
    assert await fgo("batch", str(path), "--out", str(out)) == 0
    assert "2 issued, 0 failed, 0 outcome unknown, 1 already issued before" in (
        capsys.readouterr().out
    )
    assert await fgo("batch", str(path), "--out", str(out)) == 0  # the run after reads it
    assert "0 issued, 0 failed, 0 outcome unknown, 3 already issued before" in (
        capsys.readouterr().out
    )
    assert [r.key for r in records(out)] == ["O-1", "O-2", "O-3"]
    assert issued_ids(fgo_simulator) == {"O-1": 1, "O-2": 1, "O-3": 1}

    # A last record cut mid-way is refused, and the file left untouched.
    cut = out.read_text(encoding="utf-8")[:-20]
    out.write_text(cut, encoding="utf-8")
    assert await fgo("batch", str(path), "--out", str(out)) == 2
    assert "line 3 of" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == cut


async def test_a_results_file_that_cannot_be_written_stops_the_batch(
    fgo: Fgo,
    fgo_simulator: FgoSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def disk_full(journal: Journal, record: Record) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Journal, "append", disk_full)
    path = write_lines(tmp_path / "orders.jsonl", orders(5))
    assert await fgo("batch", str(path), "--out", str(tmp_path / "r.jsonl")) == 1
    err = capsys.readouterr().err
    assert "cannot write" in err
    assert "No space left" in err
    assert '"number": "001"' in err  # the outcome that could not be recorded is in the log
    assert len(issued_ids(fgo_simulator)) == 1  # stopped after the first


async def test_bad_orders_files(
    fgo: Fgo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await fgo("batch", str(tmp_path / "missing.jsonl"), "--out", "r.jsonl") == 2
    assert "cannot read" in capsys.readouterr().err
    (tmp_path / "latin.jsonl").write_bytes(b'{"series": "\xe9"}\n')
    assert await fgo("batch", str(tmp_path / "latin.jsonl"), "--out", "r.jsonl") == 3
    assert "not UTF-8" in capsys.readouterr().err


def test_the_client_is_what_the_cli_builds() -> None:
    assert FgoClient  # the CLI's default client factory
