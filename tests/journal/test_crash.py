"""A real process killed (SIGKILL) while its call is out: its row is left alone while it lives,
and recovered once it is dead, without a second invoice."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from fgo_async.journal import EntryState, SqliteJournal, recover
from fgo_async.simulator import FgoSimulator
from fgo_async.testing import TEST_COMPANY, TEST_PRIVATE_KEY
from fgo_async.virtual_time import run
from tests.journal.helpers import calls, client, documents

#: A process that plans an invoice, commits it as sending, says so, and waits to be killed.
CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from fgo_async import endpoints as ep, plain
    from fgo_async.journal import SqliteJournal, digest_of
    from fgo_async.protocol import identify
    from tests.journal.helpers import order

    async def main() -> None:
        journal = SqliteJournal(sys.argv[1])
        invoice = order("K-1")
        begun = await journal.begin(
            sys.argv[2], "K-1", method=ep.ISSUE_INVOICE.name, digest=digest_of(invoice),
            payload=plain.dumps(invoice), can_deduplicate=True,
            identity=identify(ep.ISSUE_INVOICE, invoice, sys.argv[2]),
        )
        await journal.mark_sending(begun.entry, "factura")
        print("sending", flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


def test_a_killed_process_leaves_its_call_to_recovery(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), TEST_COMPANY],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "sending\n"

        async def while_it_lives() -> list[object]:
            async with SqliteJournal(path) as journal:
                return list(await journal.unsettled())

        assert run(while_it_lives()) == []  # its owner is alive: not ours to finish
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    async def after_it_died() -> tuple[list[EntryState], FgoSimulator]:
        sim = FgoSimulator({TEST_COMPANY: TEST_PRIVATE_KEY})
        async with SqliteJournal(path) as journal, client(sim, journal) as fgo:
            assert [e.key for e in await journal.unsettled()] == ["K-1"]
            report = await recover(journal, fgo)
        return [item.state for item in report.items], sim

    states, sim = run(after_it_died())
    assert states == [EntryState.ISSUED]
    assert calls(sim) == 1
    assert len(documents(sim)) == 1
