"""Writing the simulator's replies: the same JSON text as :func:`fgo_async.codec.dumps_json`,
written by the standard library's C encoder.

The codec's writer walks a reply in Python, one piece at a time; a busy simulator writes
thousands of replies a second, and that walk was a third of a call's time. Here the C encoder
writes everything but the decimals, which it hands to ``default``: each comes back as a marker
string holding its exact text (:func:`fgo_async.codec.format_decimal`, never through a float),
and one pass replaces the quoted markers by the bare numbers. The marker holds a random token
drawn at start-up, so that no text a client sent can pass for one.
"""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal
from typing import Any

from ..codec import format_decimal

__all__ = ["dumps_reply"]

_TOKEN = secrets.token_hex(8)
# The encoder writes the marker's NUL as \u0000: a client's text cannot hold that token.
_MARKER = re.compile(r'"\\u0000' + _TOKEN + r':([-0-9.]+)"')
_ENCODER = json.JSONEncoder(
    ensure_ascii=False,
    separators=(",", ":"),
    allow_nan=False,
    default=lambda value: _decimal_marker(value),
)


def _decimal_marker(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"\x00{_TOKEN}:{format_decimal(value)}"
    raise TypeError(f"a {type(value).__name__} cannot be written to the wire")


def dumps_reply(reply: Any) -> bytes:
    """``reply`` as UTF-8 JSON, decimals written exactly: what ``dumps_json`` writes."""
    text = _ENCODER.encode(reply)
    if _TOKEN in text:
        text = _MARKER.sub(r"\1", text)
    return text.encode("utf-8")
