"""Every text the simulator answers, in Romanian without diacritics, as the vendor writes them.

Kept in one place so that the texts the client must recognise stay in step with
:class:`fgo_async.protocol.ReplyPatterns`: the throttle texts contain "Prea multe apeluri", the
duplicate refusal "a fost deja emisa: seria <S> numarul <N>", and the issue timeout is the
documented text verbatim.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = [
    "ISSUE_TIMEOUT",
    "Refusal",
    "already_issued",
    "format_amount",
    "issue_timeout",
    "not_in_nomenclator",
    "overlap",
    "required",
    "throttled",
]

#: The documented reply when ``factura/emitere`` runs past its 15 s budget; ``{code}`` is 1..7.
ISSUE_TIMEOUT = (
    "Timpul maxim pentru emiterea unei facturi a expirat. "
    "Factura nu a fost emisa si este necesar sa reincercati. [{code}]"
)


class Refusal(Exception):
    """A vendor refusal: ``{"Success": false, "Message": message}`` with HTTP ``status``.

    The method handlers raise it; the simulator core turns it into the reply.
    """

    def __init__(self, message: str, *, status: int = 200) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def issue_timeout(code: int) -> str:
    """The documented 15 s issue timeout message with its internal code ``[x]``."""
    return ISSUE_TIMEOUT.format(code=code)


def throttled(bucket_label: str, limit: float, retry_after: int) -> str:
    """The answer to a call sooner than its bucket allows."""
    return (
        f"Prea multe apeluri. Limita pentru {bucket_label} este de 1 apel la "
        f"{_seconds(limit)}. Reincercati peste {retry_after} secunde."
    )


def overlap(company: str) -> str:
    """The strict-mode answer to a call sent while another call of the company is in flight."""
    return (
        f"Prea multe apeluri simultane pentru firma {company}. "
        "Efectuati urmatorul apel dupa primirea raspunsului la apelul anterior."
    )


def already_issued(series: str, number: str, reason: str = "") -> str:
    """The duplicate refusal; the client reads the existing invoice out of its tail."""
    prefix = f"{reason}: " if reason else ""
    return f"{prefix}Factura a fost deja emisa: seria {series} numarul {number}"


def required(field: str, why: str = "") -> str:
    """A required field is missing."""
    return f"Campul {field} este obligatoriu{why}."


def not_in_nomenclator(field: str, value: str) -> str:
    """A value that is not in its nomenclator, written as the vendor writes it (``21,0``)."""
    return f"{field}: valoarea {value.replace('.', ',')} nu exista in nomenclator"


def format_amount(value: Decimal) -> str:
    """Money as the vendor writes it in replies and messages: two decimals, a dot."""
    return f"{value:.2f}"


def _seconds(limit: float) -> str:
    if limit >= 60 and limit % 60 == 0:
        minutes = int(limit // 60)
        return f"{minutes} minute" if minutes != 1 else "1 minut"
    if limit == int(limit):
        whole = int(limit)
        return "1 secunda" if whole == 1 else f"{whole} secunde"
    return f"{limit:g} secunde"
