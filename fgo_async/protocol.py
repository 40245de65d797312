"""The sans-I/O core: build a request from a model, and decide what a reply means.

Like ``gidgethub.sansio``, this module performs no I/O of its own and imports neither asyncio
nor aiohttp. :meth:`FgoProtocol.build_request` turns (endpoint, model, credentials, platform URL)
into a :class:`Request` (verb, URL, headers, body); :func:`parse_response` turns
(status, headers, body) into a typed result or raises the typed error of :mod:`fgo_async.errors`.
Every decision about the vendor's ``Success: false`` inside an HTTP 200 is taken here.
"""

from __future__ import annotations

import datetime
import email.utils
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import attrs
from cattrs.errors import BaseValidationError

from . import codec
from .endpoints import ENDPOINTS, Endpoint, get_key
from .errors import (
    BODY_EXCERPT_LENGTH,
    CallIdentity,
    FgoApiError,
    FgoAuthenticationError,
    FgoDecodeError,
    FgoDuplicateError,
    FgoError,
    FgoIssueTimeoutError,
    FgoNotFoundError,
    FgoRateLimitedError,
    FgoServerError,
    FgoValidationError,
    Problem,
)
from .models import Invoice, InvoiceRef
from .signing import Credentials, flatten_diacritics

__all__ = [
    "FgoProtocol",
    "ReplyPatterns",
    "Request",
    "first_line",
    "identify",
    "parse_response",
    "parse_retry_after",
]

ISSUE_ENDPOINT = ENDPOINTS["factura/emitere"]


@attrs.frozen(kw_only=True)
class ReplyPatterns:
    """How the vendor's refusal messages are recognised; override when the vendor rewords them.

    ``authentication`` matches the vendor's answers to credentials it does not accept (the
    production and the test environment word them differently; a wrong Hash reads the same);
    ``not_found`` a document or article that does not exist; ``server_error`` the vendor's
    unclassified "an error occurred"; ``issue_timeout`` the documented 15 s message (its
    ``[x]`` code is captured); ``throttle`` a throttle message in an HTTP 200; ``duplicate`` a
    duplicate refusal, and ``existing`` picks the series and number of the invoice already
    issued out of it when the reply has no ``Factura`` object.
    """

    authentication: re.Pattern[str] = re.compile(
        r"nu este autorizat[aă] pentru utilizare API|codul unic nu exist[aă] sau nu este asociat",
        re.IGNORECASE,
    )
    not_found: re.Pattern[str] = re.compile(r"nu a fost g[aă]sit", re.IGNORECASE)
    server_error: re.Pattern[str] = re.compile(
        r"ne pare r[aă]u,? a intervenit o eroare", re.IGNORECASE
    )

    issue_timeout: re.Pattern[str] = re.compile(
        r"timpul maxim pentru emiterea unei facturi a expirat", re.IGNORECASE
    )
    issue_timeout_code: re.Pattern[str] = re.compile(r"\[(\d+)\]")
    throttle: re.Pattern[str] = re.compile(
        r"prea multe (?:apeluri|cereri|request)|limit[ai]\w{0,30} de (?:apeluri|request)"
        r"|throttl|rate limit",
        re.IGNORECASE,
    )
    duplicate: re.Pattern[str] = re.compile(
        r"\bduplicat\b|deja\s+(?:a\s+fost\s+)?emis|exist[aă]\s+deja", re.IGNORECASE
    )
    existing: re.Pattern[str] = re.compile(
        r"seri[ae]\s*:?\s*(?P<series>[\w-]+)\W+(?:si\s+)?num[aă]r(?:ul)?\s*:?\s*(?P<number>\w+)",
        re.IGNORECASE,
    )


DEFAULT_PATTERNS = ReplyPatterns()


@attrs.frozen(kw_only=True)
class Request:
    """One HTTP request ready to send. ``body`` holds the Hash, so it is kept out of ``repr``."""

    method: str
    url: str
    headers: Mapping[str, str] = attrs.field(repr=False)
    body: bytes = attrs.field(repr=False)
    endpoint: Endpoint[Any, Any] = attrs.field(repr=False)
    identity: CallIdentity

    def describe(self) -> str:
        """A loggable one-line description, without any secret."""
        return f"{self.method} {self.identity.describe()}"


def identify(endpoint: Endpoint[Any, Any], payload: Any, company: str | None) -> CallIdentity:
    """What identifies a call: its method, company and, where the payload has them, the
    invoice series and number, the shop's order id and the customer's name."""
    series = number = external_id = customer = None
    if isinstance(payload, Invoice):
        series, number = payload.series, payload.number
        external_id, customer = payload.external_id, payload.customer.name
    elif isinstance(payload, InvoiceRef):
        series, number = payload.series, payload.number
    else:
        ref = getattr(payload, "invoice", None)
        if isinstance(ref, InvoiceRef):
            series, number = ref.series, ref.number
    return CallIdentity(
        method=endpoint.name,
        company=company,
        series=series,
        number=number,
        external_id=external_id,
        customer_name=customer,
    )


def _strip_slash(url: str) -> str:
    return url.rstrip("/")


@attrs.frozen(kw_only=True)
class FgoProtocol:
    """Builds signed requests for one company. Pure: holds configuration, does no I/O.

    ``flatten_diacritics`` replaces Romanian diacritics in the customer's name of an issue call,
    in the text sent and in the text hashed alike, as the vendor's own plugins do.
    """

    credentials: Credentials
    platform_url: str
    base_url: str = attrs.field(converter=_strip_slash)
    wire_format: codec.WireFormat = "json"
    flatten_diacritics: bool = False
    user_agent: str = "fgo_async"

    def url_for(self, endpoint: Endpoint[Any, Any]) -> str:
        """The full URL of a vendor method."""
        return f"{self.base_url}/{endpoint.path}"

    def build_request(self, endpoint: Endpoint[Any, Any], payload: Any) -> Request:
        """A signed POST request for ``payload`` (a request model of ``endpoint``)."""
        if endpoint.request_type is not None and not isinstance(payload, endpoint.request_type):
            raise TypeError(
                f"{endpoint.name} takes a {endpoint.request_type.__name__}, "
                f"not a {type(payload).__name__}"
            )
        wire = codec.to_wire(payload)
        if self.flatten_diacritics and endpoint is ISSUE_ENDPOINT:
            wire["Client"] = {
                **wire["Client"],
                "Denumire": flatten_diacritics(wire["Client"]["Denumire"]),
            }
        subject = ""
        if endpoint.hash_input is not None:
            subject = codec.dig(wire, *endpoint.hash_input)
            if not isinstance(subject, str) or not subject:
                where = "/".join(endpoint.hash_input)
                raise FgoValidationError(
                    [
                        Problem(
                            field=where,
                            rule="required",
                            wire_name=where,
                            message="the hash input must be a non-empty string",
                        )
                    ],
                    model=type(payload).__name__,
                )
        signed = {
            "CodUnic": self.credentials.cod_unic,
            "Hash": self.credentials.sign(subject),
            **wire,
            "PlatformaUrl": self.platform_url,
        }
        body, content_type = codec.encode_body(signed, self.wire_format)
        return Request(
            method=endpoint.http_method,
            url=self.url_for(endpoint),
            headers={
                "Content-Type": content_type,
                "Accept": "application/json",
                "User-Agent": self.user_agent,
            },
            body=body,
            endpoint=endpoint,
            identity=identify(endpoint, payload, self.credentials.cod_unic),
        )

    def build_nomenclature_request(
        self, endpoint: Endpoint[Any, Any], county: str | None = None
    ) -> Request:
        """An unsigned GET of a nomenclator; parameters go in the query string, since the
        vendor's CDN refuses a GET with a body (403)."""
        url = self.url_for(endpoint)
        if county is not None:
            url = f"{url}?{urlencode({'judet': county})}"
        return Request(
            method="GET",
            url=url,
            headers={"Accept": "application/json", "User-Agent": self.user_agent},
            body=b"",
            endpoint=endpoint,
            identity=CallIdentity(method=endpoint.name),
        )


def parse_retry_after(
    headers: Mapping[str, str], now: datetime.datetime | None = None
) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), or None."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _excerpt(body: bytes) -> str:
    return body[:BODY_EXCERPT_LENGTH].decode("utf-8", errors="replace").strip()


# The vendor's .NET stack traces start with the exception's type: "System.Exception: ...".
_EXCEPTION_PREFIX = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?\w*Exception:\s*")


def first_line(message: str) -> str:
    """The vendor's message without the .NET stack trace that may follow it (which stays in
    the raw reply): its first line, without an exception-type prefix."""
    head = message.strip().splitlines()[0] if message.strip() else ""
    return _EXCEPTION_PREFIX.sub("", head).strip()


def _message_of(data: Any) -> str:
    if isinstance(data, Mapping):
        message = get_key(data, "Message")
        if message is not None:
            return first_line(str(message))
    return ""


def _is_success(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def parse_response(
    request: Request,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    patterns: ReplyPatterns = DEFAULT_PATTERNS,
) -> Any:
    """The typed result of a reply, or the typed error it stands for.

    The order matters: 429 and 409 are read from the status; then a reply that is the vendor's
    JSON is judged by its body, whatever the status (the vendor answers some refusals with
    HTTP 500); a 5xx without the vendor's JSON is a server error; ``Success: false`` is told
    apart by its message.
    """
    identity = request.identity
    endpoint = request.endpoint
    try:
        data: Any = codec.loads_json(body) if body.strip() else None
    except (ValueError, RecursionError):
        data = None
    message = _message_of(data)
    raw = data if isinstance(data, Mapping) else None

    if status == 429:
        raise FgoRateLimitedError(
            message or "throttled by the vendor (HTTP 429)",
            retry_after=parse_retry_after(headers),
            identity=identity,
            status=status,
            raw=raw,
        )
    if status == 409:
        raise _duplicate(
            message or "an identical invoice was just issued (HTTP 409)",
            identity,
            status,
            raw,
            patterns,
        )
    if raw is None or get_key(raw, "Success") is None:
        if status >= 500:
            raise FgoServerError(
                f"the vendor failed with HTTP {status}",
                status=status,
                body_excerpt=_excerpt(body),
                identity=identity,
                raw=raw,
            )
        if status >= 400:
            raise FgoApiError(
                message or f"HTTP {status}: {_excerpt(body) or 'no body'}",
                identity=identity,
                status=status,
                raw=raw,
            )
        what = "an empty reply" if not body.strip() else "a reply that is not the vendor's JSON"
        raise FgoDecodeError(
            f"{what} (HTTP {status})",
            identity=identity,
            status=status,
            body_excerpt=_excerpt(body),
            body=body,
            raw=data,
        )
    if not _is_success(get_key(raw, "Success")) or status >= 400:
        raise _refusal(message, identity, status, raw, patterns, body)
    try:
        result = codec.from_wire(endpoint.extract(raw), endpoint.result_type)
    except (BaseValidationError, ValueError, TypeError, KeyError, RecursionError) as error:
        raise FgoDecodeError(
            f"the reply could not be read as {endpoint.result_type.__name__}: {error}",
            identity=identity,
            status=status,
            body_excerpt=_excerpt(body),
            body=body,
            raw=raw,
        ) from None
    return attrs.evolve(result, raw=raw)


def _refusal(
    message: str,
    identity: CallIdentity,
    status: int,
    raw: Mapping[str, Any],
    patterns: ReplyPatterns,
    body: bytes,
) -> FgoError:
    text = message or "the vendor refused the call without a message"
    if patterns.authentication.search(text):
        return FgoAuthenticationError(text, identity=identity, status=status, raw=raw)
    if patterns.issue_timeout.search(text):
        code = patterns.issue_timeout_code.search(text)
        return FgoIssueTimeoutError(
            text,
            code=int(code.group(1)) if code else None,
            identity=identity,
            status=status,
            raw=raw,
        )
    if patterns.throttle.search(text):
        return FgoRateLimitedError(text, identity=identity, status=status, raw=raw)
    if patterns.duplicate.search(text):
        return _duplicate(text, identity, status, raw, patterns)
    if patterns.not_found.search(text):
        return FgoNotFoundError(text, identity=identity, status=status, raw=raw)
    if status >= 500 or patterns.server_error.search(text):
        # The vendor failed on its side: a call that creates something may have done so.
        return FgoServerError(
            f"the vendor failed (HTTP {status}): {text}",
            status=status,
            body_excerpt=_excerpt(body),
            identity=identity,
            raw=raw,
        )
    return FgoApiError(text, identity=identity, status=status, raw=raw)


def _existing_invoice(
    raw: Mapping[str, Any] | None, message: str, patterns: ReplyPatterns
) -> tuple[InvoiceRef | None, str | None]:
    """The invoice a duplicate refusal names: its ``Factura`` object first, its message second."""
    invoice = get_key(raw, "Factura") if raw is not None else None
    if isinstance(invoice, Mapping):
        series, number = get_key(invoice, "Serie"), get_key(invoice, "Numar")
        if isinstance(series, (str, int)) and isinstance(number, (str, int)):
            series, number = str(series).strip(), str(number).strip()
            if series and number:
                link = get_key(invoice, "Link")
                return (
                    InvoiceRef(series=series, number=number),
                    link if isinstance(link, str) and link else None,
                )
    found = patterns.existing.search(message)
    if found is None:
        return None, None
    return InvoiceRef(series=found.group("series"), number=found.group("number")), None


def _duplicate(
    message: str,
    identity: CallIdentity,
    status: int,
    raw: Mapping[str, Any] | None,
    patterns: ReplyPatterns,
) -> FgoDuplicateError:
    existing, link = _existing_invoice(raw, message, patterns)
    return FgoDuplicateError(
        message, existing=existing, existing_link=link, identity=identity, status=status, raw=raw
    )
