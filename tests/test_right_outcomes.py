"""Outcomes a user acts on: a lost reply resolved by the vendor's duplicate check, one discipline
per process by default, nothing but FgoError after a call left, and replies that never came."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from fgo_async import Environment, FgoClient, IssuedInvoice
from fgo_async.errors import (
    FgoConnectionLostError,
    FgoDecodeError,
    FgoDuplicateError,
    FgoOutcomeUnknownError,
    FgoServerError,
)
from fgo_async.models import InvoiceRef
from fgo_async.protocol import Request
from fgo_async.scheduling import RetryBudget, RetryPolicy, Scheduler, default_scheduler
from fgo_async.simulator import FgoSimulator
from fgo_async.testing import TEST_COMPANY, TEST_PRIVATE_KEY
from fgo_async.virtual_time import run
from tests._helpers import client, invoice, reply
from tests.simulator.sim_helpers import make_invoice

ISSUED = {"Success": True, "Factura": {"Serie": "BV", "Numar": "0042", "Link": "https://l/1"}}
KEYED = {"external_id": "order-1042", "check_duplicate": True}


def scripted(*answers: Any) -> Any:
    """A handler answering each request with the next of ``answers`` (raising exceptions)."""
    queue = list(answers)

    def handle(request: Request) -> Any:
        answer = queue.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    return handle


def duplicate(**factura: str) -> Any:
    data: dict[str, Any] = {
        "Success": False,
        "Message": "Factura seria BV numarul 0042 exista deja salvata.",
    }
    if factura:
        data["Factura"] = factura
    return reply(data)


LOST = FgoConnectionLostError("the connection failed after sending")


async def test_a_lost_reply_then_a_duplicate_returns_the_invoice_from_the_factura_object() -> None:
    handler = scripted(LOST, duplicate(Serie="BV", Numar="0042", Link="https://l/0042.pdf"))
    fgo, transport = client(handler)
    issued = await fgo.issue_invoice(invoice(**KEYED))
    assert isinstance(issued, IssuedInvoice)
    assert issued.deduplicated
    assert issued.ref == InvoiceRef(series="BV", number="0042")
    assert issued.link == "https://l/0042.pdf"
    assert [r.endpoint.name for r in transport.requests] == ["factura/emitere"] * 2


async def test_without_a_link_in_the_refusal_one_print_call_reads_it() -> None:
    printed = reply({"Success": True, "Factura": {"Serie": "BV", "Numar": "0042", "Link": "p"}})
    fgo, transport = client(scripted(LOST, duplicate(), printed))
    issued = await fgo.issue_invoice(invoice(**KEYED))
    assert issued.deduplicated
    assert issued.link == "p"
    assert [r.endpoint.name for r in transport.requests] == [
        "factura/emitere",
        "factura/emitere",
        "factura/print",
    ]


async def test_a_print_that_fails_still_returns_the_invoice_found() -> None:
    fgo, _ = client(scripted(LOST, duplicate(), reply({"Success": False, "Message": "x"})))
    issued = await fgo.issue_invoice(invoice(**KEYED))
    assert issued.deduplicated
    assert issued.ref == InvoiceRef(series="BV", number="0042")
    assert issued.link is None


async def test_a_duplicate_on_the_first_attempt_stays_a_duplicate_error() -> None:
    fgo, _ = client(scripted(duplicate(Serie="BV", Numar="0042")))
    with pytest.raises(FgoDuplicateError) as caught:
        await fgo.issue_invoice(invoice(**KEYED))
    assert caught.value.existing == InvoiceRef(series="BV", number="0042")


async def test_a_duplicate_after_an_attempt_that_did_nothing_stays_a_duplicate_error() -> None:
    timeout_message = reply(
        {
            "Success": False,
            "Message": "Timpul maxim pentru emiterea unei facturi a expirat. Factura nu a fost "
            "emisa si este necesar sa reincercati. [2]",
        }
    )
    fgo, _ = client(scripted(timeout_message, duplicate(Serie="BV", Numar="0042")))
    with pytest.raises(FgoDuplicateError):
        # The first attempt issued nothing: the duplicate is another call's invoice.
        await fgo.issue_invoice(invoice(**KEYED))


async def test_issue_many_counts_an_invoice_found_as_issued() -> None:
    first_order = scripted(LOST, duplicate(Serie="BV", Numar="0042", Link="l"))

    def handler(request: Request) -> Any:
        if request.identity.external_id == "order-1042":
            return first_order(request)
        return reply(ISSUED)

    fgo, _ = client(handler)
    outcomes = await fgo.issue_many([invoice(**KEYED), invoice(external_id="o2")])
    assert [type(o).__name__ for o in outcomes] == ["IssuedInvoice", "IssuedInvoice"]
    first = outcomes[0]
    assert isinstance(first, IssuedInvoice)
    assert first.deduplicated


async def test_the_vendors_unclassified_error_on_an_issue_is_an_unknown_outcome() -> None:
    oops = reply({"Success": False, "Message": "Ne pare rau, a intervenit o eroare"}, status=500)
    fgo, _ = client(scripted(oops))
    with pytest.raises(FgoOutcomeUnknownError) as caught:
        await fgo.issue_invoice(invoice())
    assert isinstance(caught.value.cause, FgoServerError)


async def test_an_exception_of_an_applications_transport_after_sending_is_unknown() -> None:
    fgo, _ = client(scripted(RuntimeError("socket went away")))
    with pytest.raises(FgoOutcomeUnknownError) as caught:
        await fgo.issue_invoice(invoice())
    assert isinstance(caught.value.cause, FgoConnectionLostError)
    assert "RuntimeError" in caught.value.cause.message


async def test_a_reply_no_rule_foresaw_is_a_decode_error_never_a_raw_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise TypeError("an unforeseen reply")

    monkeypatch.setattr("fgo_async.client.parse_response", broken)
    fgo, _ = client(scripted(reply(ISSUED), reply(ISSUED)))
    with pytest.raises(FgoOutcomeUnknownError) as caught:
        await fgo.issue_invoice(invoice())
    assert isinstance(caught.value.cause, FgoDecodeError)


def test_clients_without_a_scheduler_share_the_one_of_their_loop() -> None:
    async def main() -> None:
        sim = FgoSimulator({TEST_COMPANY: TEST_PRIVATE_KEY})

        async def handle_request(number: int) -> None:
            # A web app that builds a client per request, a common habit.
            async with sim.client() as fgo:
                await fgo.issue_invoice(make_invoice(external_id=f"web-{number}"))

        await asyncio.gather(*(handle_request(n) for n in range(5)))
        assert len(sim.calls_to("factura/emitere")) == 5
        assert sim.violations() == []
        mine = Scheduler()
        assert sim.client(scheduler=mine).scheduler is mine  # an explicit one still wins
        assert sim.client().scheduler is default_scheduler()

    run(main())


def test_a_client_of_its_own_closes_after_its_calls_and_leaves_the_shared_scheduler_open() -> None:
    async def main() -> None:
        sim = FgoSimulator({TEST_COMPANY: TEST_PRIVATE_KEY})
        fgo = sim.client()
        pending = asyncio.ensure_future(fgo.issue_invoice(make_invoice()))
        await asyncio.sleep(0)
        await fgo.aclose()  # waits for the call it accepted
        assert isinstance(pending.result(), IssuedInvoice)
        assert not default_scheduler().closed

    run(main())


def test_slow_replies_that_time_out_never_overlap_the_next_call() -> None:
    async def main() -> tuple[int, int, int]:
        sim = FgoSimulator({TEST_COMPANY: TEST_PRIVATE_KEY}, seed=5)
        sim.faults.random("slow-reply", method="factura/emitere", probability=0.4)
        # A budget that never runs dry: every lost reply is retried with the duplicate check.
        scheduler = Scheduler(
            seed=5,
            retry_budget=RetryBudget(capacity=1000),
            retry_policy=RetryPolicy(max_attempts=20),
        )
        async with sim.client(timeout=30.0, scheduler=scheduler) as fgo:
            batch = [make_invoice(external_id=f"o{i}", check_duplicate=True) for i in range(40)]
            outcomes = await fgo.issue_many(batch)
        slow = sum(1 for c in sim.calls if c.fault == "slow-reply")
        issued = {(c.reply or {}).get("Factura", {}).get("Numar") for c in sim.calls}
        assert all(isinstance(o, IssuedInvoice) for o in outcomes), outcomes
        return slow, len(sim.violations()), len(issued - {None})

    slow, violations, issued = run(main())
    assert slow >= 10  # the vendor kept working on many calls the client had given up on
    assert violations == 0  # yet no call overlapped one still being worked on
    assert issued == 40  # and each invoice was issued once


def test_environment_by_name() -> None:
    for name, expected in (("test", Environment.TEST), ("production", Environment.PRODUCTION)):
        fgo = FgoClient(
            cod_unic="12345678", private_key="k", platform_url="https://a.ro", environment=name
        )
        assert fgo.base_url == expected.base_url


@pytest.mark.timing
async def test_issue_many_never_holds_the_event_loop_for_long() -> None:
    """Validating and encoding a big batch happens a slice at a time: other companies' calls,
    and the timers of the scheduler, keep running in between (real time, instant replies)."""
    longest: list[float] = []
    done = False

    async def ticker() -> None:
        while not done:
            # CPU time of this thread: what the loop spent between two turns of the ticker,
            # however busy the machine is with other processes.
            started = time.thread_time()
            await asyncio.sleep(0)
            longest.append(time.thread_time() - started)

    batch = [invoice(external_id=f"o{i}") for i in range(1000)]  # the caller's own work
    fgo, transport = client(lambda request: reply(ISSUED))
    ticking = asyncio.ensure_future(ticker())
    await asyncio.sleep(0)
    outcomes = await fgo.issue_many(batch)
    done = True
    await ticking
    assert len(transport.requests) == 1000
    assert all(isinstance(o, IssuedInvoice) for o in outcomes)
    # 1,000 invoices take about half a second of CPU; never more than a slice of it at once.
    assert max(longest) < 0.05, max(longest)
