"""Reading requests as the vendor does: JSON or bracket-form bodies, and loosely typed values.

:func:`decode_body` turns either body into the same nested dict (``Client[Denumire]=X`` becomes
``{"Client": {"Denumire": "X"}}``, ``Continut[0][...]`` a list). JSON numbers arrive as ``int``
or ``Decimal`` (never a float), form values as text; the small readers (:func:`text`,
:func:`decimal`, :func:`boolean`, :func:`integer`) accept both. :func:`redact` hides the Hash and
any private key before a body is recorded.

Hostile bodies are refused at once, never worked on: nesting deeper than
:data:`MAX_DEPTH`, JSON's ``NaN`` and ``Infinity``, and (when a field is read as a number) a
number with more than :data:`MAX_WHOLE_DIGITS` digits before the point or more than
:data:`MAX_DECIMALS` after it, such as ``1e999999999``, whose digits Python would otherwise
write out in full.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from . import messages
from .messages import Refusal

__all__ = [
    "MAX_DECIMALS",
    "MAX_DEPTH",
    "MAX_WHOLE_DIGITS",
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

#: The deepest nesting of objects and lists a body may have (the vendor's deepest is 3:
#: ``Continut[0][Denumire]``).
MAX_DEPTH = 16
#: The most digits a number read from a body may have before the decimal point.
MAX_WHOLE_DIGITS = 15
#: The most digits a number read from a body may have after the decimal point.
MAX_DECIMALS = 20

_BRACKETS = re.compile(r"\[([^\]]*)\]")
# A list index in a form key: a few digits, not 5000 of them.
_MAX_INDEX_DIGITS = 6


class BodyError(ValueError):
    """A body that is neither the vendor's JSON nor a form."""


class _NotJsonNumber(ValueError):
    """NaN or Infinity, which Python's reader would take for floats."""


def _no_constant(name: str) -> Any:
    raise _NotJsonNumber(f"{name} nu este un numar JSON")


def decode_body(body: bytes, content_type: str = "") -> dict[str, Any]:
    """The nested dict of a JSON or ``application/x-www-form-urlencoded`` body."""
    stripped = body.strip()
    if not stripped:
        return {}
    if "json" in content_type.lower() or stripped[:1] in (b"{", b"["):
        try:
            document = stripped.decode("utf-8")
        except UnicodeDecodeError:
            raise BodyError("JSON invalid: corpul cererii nu este text UTF-8") from None
        try:
            # Decimals, never floats; NaN and Infinity are not JSON.
            data = json.loads(document, parse_float=Decimal, parse_constant=_no_constant)
        except RecursionError:
            raise BodyError(f"JSON invalid: mai mult de {MAX_DEPTH} niveluri") from None
        except (json.JSONDecodeError, _NotJsonNumber) as error:
            raise BodyError(f"JSON invalid: {error}") from None
        except ValueError:
            # Python's own limit on the digits of an integer (4300): say it as the vendor would.
            raise BodyError("JSON invalid: un numar este in afara domeniului acceptat") from None
        if not isinstance(data, dict):
            raise BodyError("corpul cererii trebuie sa fie un obiect JSON")
        _check_depth(data)
        return {str(key): value for key, value in data.items()}
    try:
        pairs = parse_qsl(stripped.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError) as error:
        raise BodyError(f"formular invalid: {error}") from None
    for key, _ in pairs:
        _check_form_key(key)
    return unflatten_form(pairs)


def _check_depth(data: Any) -> None:
    # Without recursion: the point is to refuse what would exhaust the stack later.
    level: list[Any] = [data]
    for _ in range(MAX_DEPTH):
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, (dict, list))
        ]
        if not level:
            return
    raise BodyError(f"JSON invalid: mai mult de {MAX_DEPTH} niveluri")


def _check_form_key(key: str) -> None:
    parts = _BRACKETS.findall(key)
    if len(parts) >= MAX_DEPTH:
        raise BodyError(f"formular invalid: cheia {key[:40]}... are prea multe niveluri")
    if any(part.isdigit() and len(part) > _MAX_INDEX_DIGITS for part in parts):
        raise BodyError(f"formular invalid: indexul din cheia {key[:40]} este prea mare")


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


def decimal(value: Any, field: str) -> Decimal | None:
    """A number from JSON or form text (``"19.99"``, ``19.99``, ``"19,99"``); None if it is not.

    A number beyond :data:`MAX_WHOLE_DIGITS` or :data:`MAX_DECIMALS` is refused, naming
    ``field``.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        # Its size in bits tells it is too long without writing out (maybe 5000) digits.
        if value.bit_length() > _MAX_WHOLE_BITS:
            raise Refusal(messages.number_out_of_range(field, "un numar prea mare"))
        number = Decimal(value)
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", "."))
        except InvalidOperation:
            return None
    else:
        return None
    if not number.is_finite():
        return None
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # a finite number's is
    if number.adjusted() >= MAX_WHOLE_DIGITS or exponent < -MAX_DECIMALS:
        raise Refusal(messages.number_out_of_range(field, _excerpt(value)))
    return number


def integer(value: Any, field: str) -> int | None:
    """A whole number, or None (refused as :func:`decimal` refuses, naming ``field``)."""
    number = decimal(value, field)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def boolean(value: Any, default: bool | None = None) -> bool | None:
    """``true``/``false`` from JSON or form text (``"1"``/``"0"`` too); ``default`` if absent."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if not isinstance(value, (str, int, Decimal)):
        return default
    folded = str(value).strip().lower()
    if folded in {"true", "1"}:
        return True
    if folded in {"false", "0"}:
        return False
    return default


# 10 ** 15 needs 50 bits: an int of more bits has more than MAX_WHOLE_DIGITS digits (one of 50
# bits may have 16 too: the digit check after it sees to that).
_MAX_WHOLE_BITS = (10**MAX_WHOLE_DIGITS).bit_length()


def _excerpt(value: Any) -> str:
    shown = str(value) if isinstance(value, (str, Decimal)) else ""
    return shown if len(shown) <= 24 else f"{shown[:20]}..."


def redact(data: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of ``data`` with the Hash hidden, and any text holding one of ``secrets`` too."""
    hidden = [s for s in secrets if s]
    return _redact(data, hidden)


def _redact(data: Any, secrets: list[str]) -> Any:
    # What holds nothing to hide is kept, not copied: a body is recorded on every call.
    if isinstance(data, Mapping):
        copy: dict[Any, Any] | None = None
        for key, value in data.items():
            hidden = REDACTED if str(key).lower() == "hash" else _redact(value, secrets)
            if hidden is not value and copy is None:
                copy = dict(data)
            if copy is not None:
                copy[key] = hidden
        return data if copy is None else copy
    if isinstance(data, list):
        items = [_redact(item, secrets) for item in data]
        return data if all(new is old for new, old in zip(items, data, strict=True)) else items
    if isinstance(data, str) and any(secret in data for secret in secrets):
        return REDACTED
    return data
