"""The exceptions of fgo_async.

Every exception the library raises on purpose derives from :class:`FgoError`::

    FgoError
    ├── FgoConfigurationError      a client built with settings that cannot work (before any call)
    ├── FgoValidationError         bad input found locally, before anything was sent or queued
    ├── FgoApiError                the vendor answered and refused (``Success: false``, 4xx)
    │   ├── FgoAuthenticationError the company, API user or Hash was not accepted
    │   ├── FgoNotFoundError       the document (or article) named by the call does not exist
    │   ├── FgoIssueTimeoutError   the documented 15 s issue timeout: the invoice was NOT issued
    │   ├── FgoRateLimitedError    throttled (HTTP 429 or a throttle message); nothing was done
    │   └── FgoDuplicateError      HTTP 409 or a duplicate refusal: the first invoice stands
    ├── FgoTransportError          the HTTP exchange itself failed
    │   ├── FgoConnectError        no connection was made: the request was never sent
    │   ├── FgoTimeoutError        no reply in time: the vendor may have processed the request
    │   ├── FgoConnectionLostError the connection broke after sending: the outcome is not known
    │   └── FgoServerError         a 5xx status (often an HTML page from the vendor or its CDN)
    ├── FgoDecodeError             a reply that is not the vendor's JSON
    ├── FgoOutcomeUnknownError     a call that may have been processed, whose reply was lost
    ├── FgoQueueTimeoutError       a call that could not start before its deadline (never sent)
    │   └── FgoQueueFullError      a company's queue was full and the scheduler does not wait
    ├── FgoJournalError            the journal file cannot be used; the call was not sent
    └── FgoClosedError             a call refused or dropped because its client/scheduler closed

The warning category :class:`FgoValidationWarning` marks local findings that the vendor tolerates
(an invalid CNP, which FGO ignores rather than refuses).

Each error carries what a user needs to reconcile: the vendor method, the identity of the call
(:class:`CallIdentity`: series, number, external id, customer name), the HTTP status and the
vendor's message where there is one, and whether the request may have been processed
(:attr:`FgoError.outcome_known`). No error ever carries the private key or a computed Hash: the
raw reply is the vendor's answer, which holds neither, and request bodies are never attached.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:  # the models import this module; the reference type is only annotated here
    from .models import InvoiceRef

__all__ = [
    "CallIdentity",
    "FgoApiError",
    "FgoAuthenticationError",
    "FgoClosedError",
    "FgoConfigurationError",
    "FgoConnectError",
    "FgoConnectionLostError",
    "FgoDecodeError",
    "FgoDuplicateError",
    "FgoError",
    "FgoIssueTimeoutError",
    "FgoJournalError",
    "FgoNotFoundError",
    "FgoOutcomeUnknownError",
    "FgoQueueFullError",
    "FgoQueueTimeoutError",
    "FgoRateLimitedError",
    "FgoServerError",
    "FgoTimeoutError",
    "FgoTransportError",
    "FgoValidationError",
    "FgoValidationWarning",
    "Problem",
]

#: How much of a non-JSON body an error keeps: enough to recognise a CDN or proxy page.
BODY_EXCERPT_LENGTH = 300


@attrs.frozen(kw_only=True)
class CallIdentity:
    """What identifies one call to the vendor, for logs, errors and reconciliation.

    ``method`` is the vendor method (``"factura/emitere"``); the other fields are filled when the
    call has them: the invoice series and number, the shop's order id (``IdExtern``), the
    customer's name, the article code. It never holds a secret.
    """

    method: str
    company: str | None = None
    series: str | None = None
    number: str | None = None
    external_id: str | None = None
    customer_name: str | None = None

    def describe(self) -> str:
        """A short human description: ``factura/emitere BV-001 (IdExtern 1042, Ionescu SRL)``."""
        parts = [self.method]
        if self.company:
            parts.append(f"company {self.company}")
        if self.series or self.number:
            parts.append("-".join(p for p in (self.series, self.number) if p))
        details = []
        if self.external_id:
            details.append(f"IdExtern {self.external_id}")
        if self.customer_name:
            details.append(self.customer_name)
        text = " ".join(parts)
        return f"{text} ({', '.join(details)})" if details else text


@attrs.frozen(kw_only=True)
class Problem:
    """One problem found by local validation: the field path, the rule it broke, and a message.

    ``field`` uses the Python names of the models (``lines[2].unit_price``); ``wire_name`` is the
    vendor's name for the same field (``Continut[2][PretUnitar]``) when there is one.
    """

    field: str
    rule: str
    message: str
    wire_name: str | None = None
    warning: bool = False

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class FgoError(Exception):
    """The root of every error raised by fgo_async."""

    #: False when the request may have been processed by the vendor and nobody knows whether
    #: it was; the caller must then reconcile (look the invoice up) before trying again.
    outcome_known: bool = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        #: Errors of earlier attempts of the same call, oldest first, when the call was retried.
        self.retry_history: tuple[FgoError, ...] = ()

    def __str__(self) -> str:
        return self.message


class FgoConfigurationError(FgoError, ValueError):
    """A client or scheduler was configured with settings that cannot work."""


class FgoValidationError(FgoError, ValueError):
    """Local validation failed; nothing was sent or queued.

    ``problems`` holds every problem found in the request, not just the first.
    """

    def __init__(self, problems: Iterable[Problem], *, model: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.model = model
        head = f"{model} is not valid" if model else "invalid input"
        lines = "; ".join(str(p) for p in self.problems)
        super().__init__(f"{head}: {lines}")

    @property
    def fields(self) -> tuple[str, ...]:
        """The field paths that have problems, in the order they were found."""
        return tuple(p.field for p in self.problems)


class FgoValidationWarning(UserWarning):
    """A local finding the vendor tolerates (an invalid CNP is ignored by FGO, not refused)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class _CallError(FgoError):
    """An error about one call: carries its identity and vendor method."""

    def __init__(self, message: str, *, identity: CallIdentity | None = None) -> None:
        super().__init__(message)
        self.identity = identity

    @property
    def method(self) -> str | None:
        """The vendor method of the call (``"factura/emitere"``), when known."""
        return self.identity.method if self.identity else None

    def __str__(self) -> str:
        if self.identity is None:
            return self.message
        return f"{self.identity.describe()}: {self.message}"


class FgoApiError(_CallError):
    """The vendor refused the call (``Success: false``, or a 4xx status).

    ``message`` is the vendor's own text (Romanian), ``status`` the HTTP status and ``raw`` the
    decoded reply (or ``None`` when the body was not JSON). The request was processed and
    refused: its outcome is known.
    """

    def __init__(
        self,
        message: str,
        *,
        identity: CallIdentity | None = None,
        status: int | None = None,
        raw: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, identity=identity)
        self.status = status
        self.raw = raw


class FgoAuthenticationError(FgoApiError):
    """The vendor did not accept the credentials: an unknown ``CodUnic``, an API user that is
    not enabled for it, or a wrong Hash (the vendor words all three alike). Nothing was done;
    repeating will not help until the settings are fixed."""


class FgoNotFoundError(FgoApiError):
    """The document (or article) the call names does not exist for this company.

    A web app can answer 404; nothing was done.
    """


class FgoIssueTimeoutError(FgoApiError):
    """The vendor's 15 s issue budget ran out: the invoice was NOT issued and may be retried.

    ``code`` is the vendor's internal code (1 to 7) from the message, when present.
    """

    def __init__(self, message: str, *, code: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.code = code


class FgoRateLimitedError(FgoApiError):
    """The vendor throttled the call: nothing was done. ``retry_after`` is in seconds, if given."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class FgoDuplicateError(FgoApiError):
    """The vendor refused a duplicate: an identical invoice was issued before, and it stands.

    ``existing`` is the series and number of the invoice already issued and ``existing_link``
    its PDF link, when the vendor said (from the ``Factura`` object of the refusal, else from
    its message).
    """

    def __init__(
        self,
        message: str,
        *,
        existing: InvoiceRef | None = None,
        existing_link: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.existing = existing
        self.existing_link = existing_link


class FgoTransportError(_CallError):
    """The HTTP exchange failed. ``sent`` says whether the request may have reached the vendor."""

    sent: bool = True

    def __init__(
        self,
        message: str,
        *,
        identity: CallIdentity | None = None,
        sent: bool | None = None,
    ) -> None:
        super().__init__(message, identity=identity)
        if sent is not None:
            self.sent = sent

    @property
    def outcome_known(self) -> bool:  # type: ignore[override]
        """Known (nothing happened) only when the request never left this process."""
        return not self.sent


class FgoConnectError(FgoTransportError):
    """No connection could be made (refused, DNS, TLS handshake): the request was not sent."""

    sent = False


class FgoTimeoutError(FgoTransportError):
    """No reply arrived in time; the vendor may have processed the request."""


class FgoConnectionLostError(FgoTransportError):
    """The connection broke after the request was sent; the vendor may have processed it."""


class FgoServerError(FgoTransportError):
    """A 5xx status, an HTML error page, or the vendor's own "an error occurred": the vendor or
    its CDN failed, and a call that creates something may or may not have done so.

    ``status`` is the HTTP status, ``body_excerpt`` the start of the page, and ``raw`` the
    vendor's JSON reply when there was one (with the whole of its message, stack trace and all).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        body_excerpt: str = "",
        identity: CallIdentity | None = None,
        raw: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, identity=identity, sent=True)
        self.status = status
        self.body_excerpt = body_excerpt
        self.raw = raw


class FgoDecodeError(_CallError):
    """The reply was not the vendor's JSON (empty, broken, HTML, without ``Success``, or too
    large, deep or strange to read safely).

    The call reached the vendor, so for a call that creates something the outcome is not known.
    ``body`` is the whole reply as received (never in ``str`` or ``repr``), ``body_excerpt``
    its start, ``raw`` the decoded JSON when it decoded (an object, or whatever else it was).
    """

    outcome_known = False

    def __init__(
        self,
        message: str,
        *,
        identity: CallIdentity | None = None,
        status: int | None = None,
        body_excerpt: str = "",
        body: bytes = b"",
        raw: Any = None,
    ) -> None:
        super().__init__(message, identity=identity)
        self.status = status
        self.body_excerpt = body_excerpt
        self.body = body
        self.raw = raw


class FgoOutcomeUnknownError(_CallError):
    """A call that may have been processed lost its reply, and repeating it is not safe.

    Reconcile before trying again: look the invoice up by ``identity`` (series and number, the
    shop's ``IdExtern``, the customer). ``cause`` is the transport or decode error that lost the
    reply.
    """

    outcome_known = False

    def __init__(
        self,
        message: str,
        *,
        identity: CallIdentity | None = None,
        cause: FgoError | None = None,
    ) -> None:
        super().__init__(message, identity=identity)
        self.cause = cause


class FgoQueueTimeoutError(_CallError):
    """A call could not start before its deadline; it was never sent."""


class FgoQueueFullError(FgoQueueTimeoutError):
    """The company's queue was full and the scheduler was told not to wait; nothing was sent."""


class FgoJournalError(_CallError):
    """The journal cannot be read or written: a corrupt or foreign file, one written by a newer
    fgo_async, a file locked too long by another process, a full disk. ``path`` names the file.

    Raised before the request leaves (the journal commits first), so the call was not sent;
    nothing the journal held is lost.
    """

    def __init__(
        self, message: str, *, path: str | None = None, identity: CallIdentity | None = None
    ) -> None:
        super().__init__(message, identity=identity)
        self.path = path


class FgoClosedError(_CallError):
    """The client or scheduler was closed; this call was not sent."""
