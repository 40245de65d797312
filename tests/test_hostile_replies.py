"""Hostile replies: whatever a reply holds, decoding gives a typed result or a typed error, fast.

Every reply of every endpoint is taken with each of its fields in turn replaced by a hostile value
(deep nesting, NaN, Infinity, sNaN, huge exponents and digit runs, a megabyte string where a list
belongs...). ``parse_response`` must answer with the endpoint's result type or an error of the
FgoDecodeError / FgoApiError families, never with RecursionError, OverflowError, InvalidOperation
or any other Python error; what it returns must be safe to ``repr`` and compare; and it must
return within 50 ms, since it runs on the event loop.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import json
import time
import typing
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fgo_async import codec
from fgo_async.endpoints import ENDPOINTS, Endpoint
from fgo_async.errors import FgoApiError, FgoDecodeError
from fgo_async.models._fields import LOCAL_KEY, RAW_KEY, WIRE_KEY
from fgo_async.protocol import Request, parse_response
from tests._helpers import protocol
from tests._replies import payload_for

#: The longest the event loop may be held by decoding one reply.
PAUSE_BUDGET = 0.050

_HOLE = "__hostile_value__"

#: Raw JSON texts put in place of a field: an id for the test report, then the text.
HOSTILE: dict[str, str] = {
    "nan": "NaN",
    "infinity": "Infinity",
    "minus-infinity": "-Infinity",
    "nan-text": '"NaN"',
    "snan-text": '"sNaN"',
    "minus-snan-text": '"-sNaN"',
    "infinity-text": '"Infinity"',
    "huge-exponent": "1e200000",
    "huge-exponent-upper": "1E+999999",
    "tiny-exponent": "-1e-200000",
    "beyond-decimal": "1e99999999999999999999",
    "huge-exponent-text": '"1E+999999"',
    "beyond-decimal-text": '"1e99999999999999999999"',
    "long-integer": "9" * 5000,
    "long-fraction": "1." + "0" * 5000 + "1",
    "long-digits-text": '"' + "9" * 100_000 + '"',
    "nested-2kb": "[" * 1000 + "]" * 1000,
    "nested-objects": '{"a":' * 1000 + "1" + "}" * 1000,
    "nested-unclosed": "[" * 100_000,
    "megabyte-string": '"' + "x" * 1_000_000 + '"',
    "long-list": "[" + ",".join(["{}"] * (codec.MAX_LIST_ITEMS + 1)) + "]",
    "long-list-of-numbers": "[" + ",".join(["1e99"] * 20_000) + "]",
    "object": '{"Nume": "A"}',
    "empty-list": "[]",
    "true": "true",
    "zero": "0",
    "negative": "-1",
    "bad-date": '"2025-13-45"',
    "bad-datetime": '"2025-08-01T25:99:00"',
    "lone-surrogate": '"\\ud800"',
}


def _request(endpoint: Endpoint) -> Request:
    if endpoint.signed:
        return protocol().build_request(endpoint, payload_for(endpoint.name))
    return protocol().build_nomenclature_request(endpoint)


def _plain_type(kind: Any) -> Any:
    """``X`` for ``X | None``."""
    args = [arg for arg in typing.get_args(kind) if arg is not type(None)]
    return args[0] if typing.get_origin(kind) is not tuple and len(args) == 1 else kind


def _sample(cls: type[Any]) -> dict[str, Any]:
    """A wire dict of a reply model with every field set (and one item in every list)."""
    scalars: dict[Any, Any] = {
        str: "x",
        Decimal: "1.5",
        int: 1,
        bool: True,
        datetime.date: "2025-08-01",
        datetime.datetime: "2025-08-01 10:00:00",
    }
    sample: dict[str, Any] = {}
    for field in attrs.fields(attrs.resolve_types(cls)):
        if RAW_KEY in field.metadata or LOCAL_KEY in field.metadata:
            continue
        kind = _plain_type(field.type)
        if typing.get_origin(kind) is tuple:
            value: Any = [_sample(typing.get_args(kind)[0])]
        elif attrs.has(kind):
            value = _sample(kind)
        else:
            value = scalars[kind]
        sample[field.metadata[WIRE_KEY]] = value
    return sample


def _reply_around(endpoint: Endpoint, part: dict[str, Any]) -> dict[str, Any]:
    """The successful reply from which ``endpoint.extract`` takes ``part``."""
    extract = endpoint.extract.__name__
    if extract.startswith("part_"):
        return {"Success": True, "Message": "", extract.removeprefix("part_"): part}
    if extract == "_issued":
        invoice = dict(part)
        return {"Success": True, "Factura": invoice, "InfoStoc": invoice.pop("InfoStoc")}
    return {"Success": True, "Message": "", **part}


def _sample_reply(endpoint: Endpoint) -> dict[str, Any]:
    return _reply_around(endpoint, _sample(endpoint.result_type))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a decoded reply: each key and list item, nested ones included."""
    children: Any = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in children:
        yield (*prefix, key)
        if isinstance(child, (dict, list)):
            yield from _paths(child, (*prefix, key))


def _body(reply: dict[str, Any], path: tuple[Any, ...], hostile: str) -> bytes:
    """``reply`` as JSON text with the value at ``path`` replaced by the raw text ``hostile``."""
    holed = copy.deepcopy(reply)
    node: Any = holed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = _HOLE
    return json.dumps(holed).replace(f'"{_HOLE}"', hostile).encode()


def _walk(value: Any) -> Iterator[Any]:
    """Every value inside a result: its fields, nested models, tuples and the raw reply."""
    stack = [value]
    while stack:
        item = stack.pop()
        yield item
        if attrs.has(type(item)):
            stack.extend(getattr(item, f.name) for f in attrs.fields(type(item)))
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def _decode(endpoint: Endpoint, request: Request, body: bytes) -> Any:
    """parse_response's result or typed error, checked to be safe to show and compare."""
    try:
        result = parse_response(request, 200, {}, body)
    except (FgoDecodeError, FgoApiError) as error:
        shown = (str(error), repr(error), repr(getattr(error, "raw", None)))
        assert all(shown)
        return error
    assert type(result) is endpoint.result_type
    assert repr(result)
    assert result == attrs.evolve(result)
    for item in _walk(result):
        if isinstance(item, Decimal):
            assert item.is_finite(), item
    return result


ALL_ENDPOINTS = list(ENDPOINTS.values())
_IDS = [endpoint.name for endpoint in ALL_ENDPOINTS]


@pytest.mark.parametrize("endpoint", ALL_ENDPOINTS, ids=_IDS)
def test_the_sample_reply_of_every_endpoint_reads_every_field(endpoint: Endpoint) -> None:
    part = _sample(endpoint.result_type)
    reply = _sample_reply(endpoint)
    assert endpoint.extract(reply).items() >= part.items()  # _whole adds Success and Message
    result = parse_response(_request(endpoint), 200, {}, json.dumps(reply).encode())
    assert type(result) is endpoint.result_type
    assert result == codec.from_wire(part, endpoint.result_type)
    # Every field was read: none is left at its default.
    for field in attrs.fields(endpoint.result_type):
        if RAW_KEY not in field.metadata and LOCAL_KEY not in field.metadata:
            assert getattr(result, field.name) not in (None, ()), field.name


@pytest.mark.parametrize("endpoint", ALL_ENDPOINTS, ids=_IDS)
def test_hostile_values_in_every_field_of_every_reply(endpoint: Endpoint) -> None:
    request = _request(endpoint)
    reply = _sample_reply(endpoint)
    for path in _paths(reply):
        for name, hostile in HOSTILE.items():
            try:
                _decode(endpoint, request, _body(reply, path, hostile))
            except Exception as error:  # name the case in the report
                raise AssertionError(f"{name} at {path}: {error!r}") from error


@pytest.mark.parametrize("endpoint", ALL_ENDPOINTS, ids=_IDS)
@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_body_is_a_decode_error(endpoint: Endpoint, name: str) -> None:
    outcome = _decode(endpoint, _request(endpoint), HOSTILE[name].encode())
    assert isinstance(outcome, FgoDecodeError)


def _json_text(value: Any) -> str:
    """JSON text of generated data, writing Decimals as they are: NaN and 1E+999999 included."""
    if isinstance(value, Decimal):
        if value.is_snan():
            return json.dumps(str(value))
        return str(value)  # "NaN", "Infinity", "-Infinity" or a JSON number such as 1E+999999
    if isinstance(value, list):
        return "[" + ",".join(_json_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_json_text(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**80), max_value=10**80),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [Decimal("1E+200000"), Decimal("-1E-999999"), Decimal("sNaN"), Decimal("-sNaN")]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["NaN", "sNaN", "Infinity", "1E+999999", "2025-02-30", "0,19", " 7 "]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@st.composite
def _hostile_replies(draw: st.DrawFn) -> tuple[Endpoint, bytes]:
    endpoint = draw(st.sampled_from(ALL_ENDPOINTS))
    reply = _sample_reply(endpoint)
    path = draw(st.sampled_from(list(_paths(reply))))
    return endpoint, _body(reply, path, _json_text(draw(_VALUES)))


@settings(max_examples=400, deadline=None)
@given(_hostile_replies())
def test_any_value_in_any_field_gives_a_result_or_a_typed_error(
    case: tuple[Endpoint, bytes],
) -> None:
    endpoint, body = case
    _decode(endpoint, _request(endpoint), body)


def _cpu_time_of(request: Request, body: bytes) -> float:
    """The shortest of three decodings: what holds the loop, without other processes' noise."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        with contextlib.suppress(FgoDecodeError, FgoApiError):
            parse_response(request, 200, {}, body)
        times.append(time.perf_counter() - started)
    return min(times)


@pytest.mark.parametrize("name", list(HOSTILE))
@pytest.mark.timing
def test_no_hostile_reply_holds_the_event_loop(name: str) -> None:
    # The field a value lands in decides what reads it (a list, a number, a date, text), so
    # every field of the replies that hold each kind is tried.
    slowest = (0.0, "")
    for method in ("factura/emitere", "factura/getstatus", "articol/list", "articol/get"):
        endpoint = ENDPOINTS[method]
        request = _request(endpoint)
        reply = _sample_reply(endpoint)
        for path in (*_paths(reply), ()):
            body = _body(reply, path, HOSTILE[name]) if path else HOSTILE[name].encode()
            slowest = max(slowest, (_cpu_time_of(request, body), f"{method} {path}"))
    assert slowest[0] < PAUSE_BUDGET, slowest
