"""Every text the simulator answers, in Romanian without diacritics, as the vendor writes them.

Kept in one place so that the texts the client must recognise stay in step with
:class:`fgo_async.protocol.ReplyPatterns`:

- the throttle texts contain "Prea multe apeluri";
- a duplicate refused by ``VerificareDuplicat`` is "Factura seria <S> numarul <N> exista deja
  salvata." (the vendor's plugin guide quotes "Factura ... exista deja salvata."), and the
  HTTP 409 of an identical invoice sent again "... a fost deja emisa: seria <S> numarul <N>";
- a document or an article that does not exist "... nu a fost gasit." (and nothing else
  says "nu a fost gasit");
- bad credentials (an unknown company, an API user not enabled, a wrong Hash: all alike) read
  as the live vendor's production or test environment does (:func:`unauthorized`);
- the vendor's unclassified server error is :data:`SERVER_ERROR`, and a .NET exception reaches
  the client as :func:`dotnet_exception` writes it: the text, then a stack trace;
- the issue timeout is the documented text verbatim.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = [
    "COUNTY_NEEDED",
    "ISSUE_TIMEOUT",
    "SERVER_ERROR",
    "UNKNOWN_COMPANY_TEST",
    "Refusal",
    "already_issued",
    "already_saved",
    "dotnet_exception",
    "format_amount",
    "issue_timeout",
    "not_found",
    "not_in_nomenclator",
    "number_out_of_range",
    "overlap",
    "required",
    "throttled",
    "unauthorized",
]

#: The documented reply when ``factura/emitere`` runs past its 15 s budget; ``{code}`` is 1..7.
ISSUE_TIMEOUT = (
    "Timpul maxim pentru emiterea unei facturi a expirat. "
    "Factura nu a fost emisa si este necesar sa reincercati. [{code}]"
)


#: The vendor's unclassified server error, with HTTP 500 (seen live, e.g. on a malformed call).
SERVER_ERROR = "Ne pare rau, a intervenit o eroare"

#: Bad credentials on the vendor's test environment (seen live).
UNKNOWN_COMPANY_TEST = "Codul unic nu exista sau nu este asociat."

#: ``nomenclator/localitati`` without its county (seen live, the end elided there).
COUNTY_NEEDED = (
    "Este necesar sa transmiteti parametrul judet (numele sau codul judetului) pentru a "
    "obtine lista localitatilor."
)


class Refusal(Exception):
    """A vendor refusal: ``{"Success": false, "Message": message, **extra}`` with HTTP
    ``status`` (200 as a rule; 409 for an identical invoice; 500 for a .NET exception let out).

    The method handlers raise it; the simulator core turns it into the reply.
    """

    def __init__(
        self, message: str, *, status: int = 200, extra: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.extra: Mapping[str, Any] = extra or {}


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


def unauthorized(cod_unic: str, environment: str = "production") -> str:
    """Bad credentials, worded as the live vendor's ``production`` or ``test`` environment
    words them: the same for an unknown company, an API user not enabled, and a wrong Hash."""
    if environment == "test":
        return UNKNOWN_COMPANY_TEST
    return (
        "Combinatia utilizator/companie nu este autorizata pentru utilizare API. Verificati "
        f"starea acestuia in Setari -> Utilizatori [{cod_unic}]."
    )


def dotnet_exception(text: str, method: str) -> str:
    """``text`` as the vendor's servers let a .NET exception out: type, text, stack trace."""
    controller, _, action = method.partition("/")
    where = f"Fgo.PublicApi.Controllers.{controller.capitalize()}Controller.{action.capitalize()}"
    return (
        f"System.Exception: {text}\r\n"
        "   at Fgo.PublicApi.Security.ApiAuthorization.Validate(String codUnic, String hash, "
        "String text)\r\n"
        f"   at {where}(HttpRequestMessage request)\r\n"
        "   at System.Web.Http.Controllers.ReflectedHttpActionDescriptor.ActionExecutor."
        "Execute(Object instance, Object[] arguments)"
    )


def already_saved(series: str, number: str) -> str:
    """The refusal of a duplicate found by ``VerificareDuplicat`` (IdExtern, or series and
    number, already used)."""
    return f"Factura seria {series} numarul {number} exista deja salvata."


def not_found(series: str, number: str) -> str:
    """A document that does not exist (or no longer does)."""
    return f"Documentul cu seria {series} si numarul {number} nu a fost gasit."


def already_issued(series: str, number: str, reason: str = "") -> str:
    """The HTTP 409 refusal of an identical invoice sent again at once; it names the invoice
    that stands."""
    prefix = f"{reason}: " if reason else ""
    return f"{prefix}Factura a fost deja emisa: seria {series} numarul {number}"


def number_out_of_range(field: str, value: str) -> str:
    """A number too large, or with too many decimals, for the vendor's fields."""
    return f"{field}: valoarea {value} este in afara domeniului acceptat."


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
