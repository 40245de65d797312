"""Reading requests as the vendor does: JSON or bracket-form bodies, and loosely typed values.

:func:`decode_body` turns either body into the same nested dict (``Client[Denumire]=X`` becomes
``{"Client": {"Denumire": "X"}}``, ``Continut[0][...]`` a list). JSON numbers arrive as ``int``
or ``Decimal`` (through :func:`fgo_async.codec.loads_json`, never a float), form values as text;
the small readers (:func:`text`, :func:`decimal`, :func:`boolean`, :func:`integer`) accept both.
:func:`redact` hides the Hash and any private key before a body is recorded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from ..codec import loads_json

__all__ = [
    "REDACTED",
    "BodyError",
    "boolean",
    "decimal",
    "decode_body",
    "integer",
    "redact",
    "text",
]

#: What replaces a secret in recorded bodies.
REDACTED = "***"

_BRACKETS = re.compile(r"\[([^\]]*)\]")


class BodyError(ValueError):
    """A body that is neither the vendor's JSON nor a form."""


def decode_body(body: bytes, content_type: str = "") -> dict[str, Any]:
    """The nested dict of a JSON or ``application/x-www-form-urlencoded`` body."""
    stripped = body.strip()
    if not stripped:
        return {}
    if "json" in content_type.lower() or stripped[:1] in (b"{", b"["):
        try:
            data = loads_json(stripped)
        except ValueError as error:
            raise BodyError(f"JSON invalid: {error}") from None
        if not isinstance(data, dict):
            raise BodyError("corpul cererii trebuie sa fie un obiect JSON")
        return {str(key): value for key, value in data.items()}
    try:
        pairs = parse_qsl(stripped.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError) as error:
        raise BodyError(f"formular invalid: {error}") from None
    return unflatten_form(pairs)


def unflatten_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Bracket keys to nested values: ``Continut[0][UM]`` -> ``{"Continut": [{"UM": ...}]}``.

    Numeric (and empty, ``Coduri[]``) indexes make lists, in index order.
    """
    root: dict[str, Any] = {}
    for key, value in pairs:
        head = key.split("[", 1)[0]
        path = [head, *_BRACKETS.findall(key[len(head) :])]
        node: dict[str, Any] = root
        for index, part in enumerate(path):
            last = index == len(path) - 1
            if last:
                if part == "":
                    part = str(len(node))
                node[part] = value
            else:
                if part == "":
                    part = str(len(node))
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    return {key: _lists(value) for key, value in root.items()}


def _lists(node: Any) -> Any:
    # A dict whose keys are all indexes is a list the form flattened.
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def text(value: Any) -> str | None:
    """A value as the text the vendor would read: numbers exactly as written, None for absent."""
    if value is None:
        return None
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (str, int, Decimal)):
        return str(value)
    return None


def decimal(value: Any) -> Decimal | None:
    """A number from JSON or form text (``"19.99"``, ``19.99``, ``"19,99"``); None if it is not."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", "."))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def integer(value: Any) -> int | None:
    """A whole number, or None."""
    number = decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def boolean(value: Any, default: bool | None = None) -> bool | None:
    """``true``/``false`` from JSON or form text (``"1"``/``"0"`` too); ``default`` if absent."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    folded = str(value).strip().lower()
    if folded in {"true", "1"}:
        return True
    if folded in {"false", "0"}:
        return False
    return default


def redact(data: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of ``data`` with the Hash hidden, and any text holding one of ``secrets`` too."""
    hidden = [s for s in secrets if s]
    return _redact(data, hidden)


def _redact(data: Any, secrets: list[str]) -> Any:
    if isinstance(data, Mapping):
        return {
            key: REDACTED if str(key).lower() == "hash" else _redact(value, secrets)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [_redact(item, secrets) for item in data]
    if isinstance(data, str) and any(secret in data for secret in secrets):
        return REDACTED
    return data
