"""A client's calls through a journal: plan, commit "sending" before the request leaves, settle.

:func:`journaled_call` wraps one call that creates something; :func:`restore_lanes` starts a
scheduler's lanes no sooner than the calls a previous process sent allow.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias, TypeVar

from .. import plain
from ..endpoints import Bucket, Endpoint
from ..errors import (
    CallIdentity,
    FgoDuplicateError,
    FgoError,
    FgoJournalError,
    FgoOutcomeUnknownError,
    FgoValidationError,
    Problem,
)
from ..models import IssuedInvoice
from ..telemetry import default_telemetry
from .base import Journal
from .entry import EntryState, JournalEntry, digest_of

__all__ = ["BeforeSend", "Send", "automatic_key", "journaled_call", "restore_lanes"]

logger = logging.getLogger("fgo_async.journal")

ResultT = TypeVar("ResultT")

#: The step a scheduler awaits once the lane is granted, right before the request leaves.
BeforeSend = Callable[[], Awaitable[None]]
#: Makes one journaled call: given the step to await before sending, and whether an earlier
#: send of the same key may have reached the vendor (then a duplicate refusal is its own).
Send: TypeAlias = Callable[[BeforeSend, bool], Awaitable[ResultT]]


def automatic_key() -> str:
    """A key for a call the caller gave none: it is recorded (a crash leaves a trace), but a
    second call cannot be recognised as the same."""
    return f"auto-{uuid.uuid4().hex}"


async def journaled_call(
    journal: Journal,
    endpoint: Endpoint[Any, ResultT],
    payload: Any,
    *,
    company: str,
    key: str,
    identity: CallIdentity,
    can_deduplicate: bool,
    send: Send[ResultT],
    retake: bool = False,
) -> ResultT:
    """Run ``send`` for ``payload`` under the journal's record of ``company`` and ``key``.

    ``send`` makes the call, awaiting the step it is given right before the request leaves.
    ``retake`` lets a recovery send again a call whose earlier send may have reached the
    vendor (it checked, for a payment, that the vendor does not have it).
    """
    payload_json = plain.dumps(payload)
    digest = digest_of(payload)
    while True:
        begun = await journal.begin(
            company,
            key,
            method=endpoint.name,
            digest=digest,
            payload=payload_json,
            identity=identity,
            can_deduplicate=can_deduplicate or retake,
        )
        if begun.kind == "busy":
            await journal.wait_settled(company, key)
            continue
        break
    entry = begun.entry
    if begun.kind == "issued":
        return _result(entry, endpoint)
    if begun.kind == "conflict":
        raise FgoValidationError(
            [
                Problem(
                    field="key",
                    rule="key_reused",
                    message=f"{key!r} was used for another {entry.method} call of company "
                    f"{company} with a different payload; use a new key for a new call",
                )
            ],
            model=type(payload).__name__,
        )
    if begun.kind == "unknown":
        raise FgoOutcomeUnknownError(
            f"an earlier call with key {key!r} may have been processed "
            f"({entry.error_type}: {entry.error_message}); reconcile it before sending again",
            identity=entry.identity,
        )
    sent = False
    telemetry = default_telemetry()
    # A send of this key by an earlier call (left sending, or unknown) may have reached the
    # vendor: whatever this call meets short of the invoice itself, that one stays unknown.
    # Not so for a recovery's retake, which checked that the vendor does not have it.
    earlier = begun.resumed and not retake

    async def before_send() -> None:
        nonlocal entry, sent
        entry = await journal.mark_sending(entry, endpoint.bucket.value)
        if not sent:
            telemetry.journal_unsettled(+1)
        sent = True

    try:
        result = await send(before_send, begun.resumed)
    except FgoError as error:
        await _settle_failure(journal, entry, endpoint, error, sent, can_deduplicate, earlier)
        raise
    except BaseException as error:
        # Cancelled (or worse): if a request left, the vendor may have it.
        state = EntryState.UNKNOWN if sent or earlier else EntryState.REFUSED
        detail = "abandoned after it was sent" if sent else "withdrawn before it was sent"
        if earlier and not sent:
            detail += "; an earlier send of this key may have reached the vendor"
        await _record(
            journal.settle(
                entry, state, error_type=type(error).__name__ or "Cancelled", error_message=detail
            ),
            entry,
        )
        raise
    finally:
        if sent:
            telemetry.journal_unsettled(-1)
    # The vendor made it: that is the answer, even when the journal cannot record it.
    await _record(journal.settle(entry, EntryState.ISSUED, result=plain.dumps(result)), entry)
    return result


async def _record(settling: Awaitable[JournalEntry], entry: JournalEntry) -> None:
    """Record how a call ended. A journal that cannot write it (a full disk) does not replace
    the call's own outcome: the vendor's answer, or its error, is what the caller gets. The
    row stays as it was (``sending``, or ``planned`` if it never left) and a recovery settles
    it later, without making anything twice."""
    try:
        await asyncio.shield(settling)
    except FgoJournalError as error:
        logger.error("could not record the end of %s: %s", entry.describe(), error)


async def _settle_failure(
    journal: Journal,
    entry: JournalEntry,
    endpoint: Endpoint[Any, Any],
    error: FgoError,
    sent: bool,
    can_deduplicate: bool,
    earlier: bool,
) -> None:
    if (
        isinstance(error, FgoDuplicateError)
        and error.existing is not None
        and can_deduplicate
        and endpoint.result_type is IssuedInvoice
    ):
        # The vendor has an invoice for this very key (its duplicate check said so): a later
        # call with the key gets that invoice.
        found = IssuedInvoice(
            series=error.existing.series,
            number=error.existing.number,
            link=error.existing_link,
            deduplicated=True,
        )
        await _record(journal.settle(entry, EntryState.ISSUED, result=plain.dumps(found)), entry)
        return
    unknown = sent and not error.outcome_known
    message = error.message
    if earlier and not unknown:
        message += " (an earlier send of this key may have reached the vendor)"
    await _record(
        journal.settle(
            entry,
            EntryState.UNKNOWN if unknown or earlier else EntryState.REFUSED,
            error_type=type(error).__name__,
            error_message=message,
        ),
        entry,
    )


def _result(entry: JournalEntry, endpoint: Endpoint[Any, ResultT]) -> ResultT:
    assert entry.result is not None, "an issued entry keeps its result"
    result: ResultT = plain.structure(json.loads(entry.result), endpoint.result_type)
    return result


async def restore_lanes(journal: Journal, scheduler: object) -> int:
    """Start the scheduler's lanes no sooner than the calls in the journal allow (those a
    previous process sent, perhaps moments ago); returns how many lanes were restored."""
    ledger = getattr(scheduler, "ledger", None)
    restore = getattr(ledger, "restore", None)
    if restore is None:
        return 0
    history = await journal.lane_history()
    for company, bucket, sent_ago, in_flight in history:
        await restore(company, Bucket(bucket), sent_ago=sent_ago, in_flight=in_flight)
    if history:
        logger.info(
            "restored the spacing of %d lanes from the journal",
            len(history),
            extra={"fgo_lanes": len(history)},
        )
    return len(history)
