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
    FgoDecodeError,
    FgoDuplicateError,
    FgoIssueTimeoutError,
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
    "identify",
    "parse_response",
    "parse_retry_after",
]

ISSUE_ENDPOINT = ENDPOINTS["factura/emitere"]


@attrs.frozen(kw_only=True)
class ReplyPatterns:
    """How the vendor's refusal messages are recognised; override when the vendor rewords them.

    ``issue_timeout`` is the documented 15 s message (its ``[x]`` code is captured);
    ``throttle`` a throttle message in an HTTP 200; ``duplicate`` a duplicate refusal, and
    ``existing`` picks the series and number of the invoice already issued out of it.
    """

    issue_timeout: re.Pattern[str] = re.compile(
        r"timpul maxim pentru emiterea unei facturi a expirat", re.IGNORECASE
    )
    issue_timeout_code: re.Pattern[str] = re.compile(r"\[(\d+)\]")
    throttle: re.Pattern[str] = re.compile(
        r"prea multe (?:apeluri|cereri|request)|limit[ai]\w* de (?:apeluri|request)"
        r"|throttl|rate limit",
        re.IGNORECASE,
    )
    duplicate: re.Pattern[str] = re.compile(
        r"\bduplicat\b|deja\s+(?:a\s+fost\s+)?emis", re.IGNORECASE
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
    endpoint: Endpoint = attrs.field(repr=False)
    identity: CallIdentity

    def describe(self) -> str:
        """A loggable one-line description, without any secret."""
        return f"{self.method} {self.identity.describe()}"


def identify(endpoint: Endpoint, payload: Any, company: str | None) -> CallIdentity:
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

    def url_for(self, endpoint: Endpoint) -> str:
        """The full URL of a vendor method."""
        return f"{self.base_url}/{endpoint.path}"

    def build_request(self, endpoint: Endpoint, payload: Any) -> Request:
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

    def build_nomenclature_request(self, endpoint: Endpoint, county: str | None = None) -> Request:
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


def _message_of(data: Any) -> str:
    if isinstance(data, Mapping):
        message = get_key(data, "Message")
        if message is not None:
            return str(message)
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

    The order matters: the HTTP status is read first (429, 409, 5xx), then the body must be the
    vendor's JSON with ``Success``; ``Success: false`` is then told apart by its message.
    """
    identity = request.identity
    endpoint = request.endpoint
    try:
        data: Any = codec.loads_json(body) if body.strip() else None
    except ValueError:
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
    if status >= 500:
        raise FgoServerError(
            f"the vendor failed with HTTP {status}",
            status=status,
            body_excerpt=_excerpt(body),
            identity=identity,
        )
    if raw is None or get_key(raw, "Success") is None:
        if status >= 400:
            raise FgoApiError(
                message or f"HTTP {status}: {_excerpt(body) or 'no body'}",
                identity=identity,
                status=status,
                raw=raw,
            )
        what = "an empty reply" if not body.strip() else "a reply that is not the vendor's JSON"
        raise FgoDecodeError(
            f"{what} (HTTP {status})", identity=identity, status=status, body_excerpt=_excerpt(body)
        )
    if not _is_success(get_key(raw, "Success")) or status >= 400:
        raise _refusal(message, identity, status, raw, patterns)
    try:
        result = codec.from_wire(endpoint.extract(raw), endpoint.result_type)
    except (BaseValidationError, ValueError, TypeError, KeyError) as error:
        raise FgoDecodeError(
            f"the reply could not be read as {endpoint.result_type.__name__}: {error}",
            identity=identity,
            status=status,
            body_excerpt=_excerpt(body),
        ) from error
    return attrs.evolve(result, raw=raw)


def _refusal(
    message: str,
    identity: CallIdentity,
    status: int,
    raw: Mapping[str, Any],
    patterns: ReplyPatterns,
) -> FgoApiError:
    text = message or "the vendor refused the call without a message"
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
    return FgoApiError(text, identity=identity, status=status, raw=raw)


def _duplicate(
    message: str,
    identity: CallIdentity,
    status: int,
    raw: Mapping[str, Any] | None,
    patterns: ReplyPatterns,
) -> FgoDuplicateError:
    found = patterns.existing.search(message)
    existing = (
        InvoiceRef(series=found.group("series"), number=found.group("number")) if found else None
    )
    return FgoDuplicateError(message, existing=existing, identity=identity, status=status, raw=raw)
