"""Hostile input: whatever arrives, the simulator answers at once, in the vendor's shape.

Huge numbers (``1e999999999``, 5000 digits, ``"1E+999999"`` in a text field read as a number),
deep nesting, form garbage, wrong content types, verbs and paths: every answer is the vendor's
JSON (``{"Success": ..., "Message": ...}``) or one of the CDN's HTML pages the simulator sends on
purpose (a GET with a body: 403), never a hang and never a Python error. These tests measure
real time (``time.perf_counter``): the bound is generous, a hang or a quadratic blow-up is not.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fgo_async.codec import dumps_json, encode_form, loads_json
from fgo_async.endpoints import ENDPOINTS, Bucket
from fgo_async.simulator import FgoSimulator
from fgo_async.testing import TEST_COMPANY, TEST_PRIVATE_KEY
from fgo_async.transport import RawResponse
from tests.simulator.sim_helpers import invoice_payload, send, sign

#: Seconds any one answer may take; a hang or a blow-up takes far longer.
FAST = 0.5

#: What hostile numbers look like on the wire: raw JSON numbers and text read as a number.
HUGE_NUMBERS = [
    "1e999999999",
    "-1e999999999",
    "1e-999999999",
    "0e999999999",
    "1E+30",
    "9" * 5000,
    '"1E+999999"',
    '"1e999999999"',
    '"' + "9" * 5000 + '"',
    '"' + "0." + "0" * 5000 + '1"',
    "NaN",
    "-Infinity",
]

PAYMENT = {
    "NumarFactura": "001",
    "SerieFactura": "BV",
    "TipIncasare": "Card",
    "SumaIncasata": "1",
    "DataIncasare": "2025-09-01 10:00:00",
}

#: Every field a method reads as a number, with a payload the method accepts otherwise.
NUMBER_FIELDS: list[tuple[str, dict[str, Any], tuple[str | int, ...]]] = [
    ("factura/emitere", invoice_payload(), ("Continut", 0, "NrProduse")),
    ("factura/emitere", invoice_payload(), ("Continut", 0, "PretUnitar")),
    ("factura/emitere", invoice_payload(), ("Continut", 0, "CotaTVA")),
    ("factura/emitere", invoice_payload(), ("Client", "IdExtern")),
    ("factura/incasare", PAYMENT, ("SumaIncasata",)),
    ("articol/list", {"NrPagina": 1, "NrArticole": 10}, ("NrPagina",)),
    ("articol/list", {"NrPagina": 1, "NrArticole": 10}, ("NrArticole",)),
    ("client/list", {"NrPagina": 1}, ("NrPagina",)),
    ("articol/articolemodificate", {"NumarOre": 24}, ("NumarOre",)),
    ("articol/articolemodificate", {"NumarOre": 24}, ("NumarOrePanaLa",)),
]


def total_price_line() -> tuple[str, dict[str, Any], tuple[str | int, ...]]:
    payload = invoice_payload()
    del payload["Continut"][0]["PretUnitar"]
    payload["Continut"][0]["PretTotal"] = "10"
    return "factura/emitere", payload, ("Continut", 0, "PretTotal")


NUMBER_FIELDS.append(total_price_line())


def open_simulator() -> FgoSimulator:
    """No limits, no 409 window: every call reaches the method and its number readers."""
    return FgoSimulator(
        {TEST_COMPANY: TEST_PRIVATE_KEY},
        limits=dict.fromkeys(Bucket, 0.0),
        identical_window=0,
    )


def signed_body(method: str, payload: dict[str, Any]) -> bytes:
    return dumps_json(sign(method, payload, company=TEST_COMPANY, key=TEST_PRIVATE_KEY)).encode()


def with_raw_number(
    method: str, payload: dict[str, Any], path: tuple[str | int, ...], raw: str
) -> bytes:
    """The signed JSON body of ``payload`` with ``raw`` written as is at ``path``."""
    signed = json.loads(signed_body(method, payload))
    node: Any = signed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = "\x00RAW\x00"
    return json.dumps(signed).replace('"\\u0000RAW\\u0000"', raw).encode()


def assert_vendor_shape(reply: RawResponse, elapsed: float, *, head: bool = False) -> Any:
    """The reply is the vendor's JSON (or the CDN's deliberate 403 page), and came fast."""
    assert elapsed < FAST, f"{elapsed:.3f} s"
    content_type = reply.headers.get("Content-Type", "")
    if reply.status == 403 and content_type.startswith("text/html"):
        assert reply.body.startswith(b"<html>")
        return None
    assert content_type.startswith("application/json"), (reply.status, reply.body[:200])
    if head:
        return None
    data = loads_json(reply.body)
    assert isinstance(data, dict)
    assert isinstance(data.get("Success"), bool)
    if data["Success"] is False:
        assert isinstance(data.get("Message"), str)
        assert data["Message"]
        assert "Traceback" not in data["Message"]
    assert reply.status in (200, 400, 403, 404, 405, 409, 413, 429)
    return data


async def timed(sim: FgoSimulator, *args: Any, **kwargs: Any) -> tuple[RawResponse, float]:
    started = time.perf_counter()
    reply = await asyncio.wait_for(sim.handle(*args, **kwargs), 5)
    return reply, time.perf_counter() - started


# -- huge numbers in every numeric field --------------------------------------------------------


@pytest.mark.parametrize("raw", HUGE_NUMBERS, ids=lambda raw: raw[:14])
@pytest.mark.parametrize(
    ("method", "payload", "path"), NUMBER_FIELDS, ids=lambda v: v if isinstance(v, str) else ""
)
async def test_a_huge_number_is_refused_at_once(
    method: str, payload: dict[str, Any], path: tuple[str | int, ...], raw: str
) -> None:
    sim = open_simulator()
    # An invoice to pay, so that a payment gets as far as reading its amount.
    assert (await send(sim, "factura/emitere", invoice_payload(IdExtern="x")))[0] == 200
    body = with_raw_number(method, payload, path, raw)
    reply, elapsed = await timed(
        sim, "POST", f"/v1/{method}", {}, {"Content-Type": "application/json"}, body
    )
    data = assert_vendor_shape(reply, elapsed)
    assert reply.status in (200, 400)
    if data["Success"] is False and reply.status == 200:
        # Refused by the field's reader, which names the field.
        assert str(path[-1]) in data["Message"]


async def test_a_huge_number_in_a_form_body_is_refused_at_once() -> None:
    sim = open_simulator()
    signed = sign("articol/list", {}, company=TEST_COMPANY, key=TEST_PRIVATE_KEY)
    body = (
        f"CodUnic={TEST_COMPANY}&Hash={signed['Hash']}&NrPagina=1e999999999&NrArticole=".encode()
        + b"9" * 5000
    )
    reply, elapsed = await timed(
        sim, "POST", "/v1/articol/list", {},
        {"Content-Type": "application/x-www-form-urlencoded"}, body,
    )  # fmt: skip
    data = assert_vendor_shape(reply, elapsed)
    assert reply.status == 200
    assert data["Message"].startswith("NrPagina: valoarea 1e999999999 este in afara")


async def test_large_amounts_within_range_are_computed() -> None:
    sim = open_simulator()
    payload = invoice_payload()
    payload["Continut"][0].update(NrProduse="999999999999999", PretUnitar="999999999999999.99")
    reply, elapsed = await timed(
        sim, "POST", "/v1/factura/emitere", {}, {"Content-Type": "application/json"},
        signed_body("factura/emitere", payload),
    )  # fmt: skip
    assert assert_vendor_shape(reply, elapsed)["Success"] is True


# -- random input over the whole surface ---------------------------------------------------------

PATHS = [f"/v1/{name}" for name in ENDPOINTS] + [
    "/v1/factura",
    "/v1/",
    "/",
    "/v1/nomenclator/nimic",
    "/v2/factura/emitere",
    "/v1/document/x.pdf",
]
VERBS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "text/plain",
    "application/xml",
    "",
]
FIELD_NAMES = [
    "CodUnic", "Hash", "Client", "Continut", "Numar", "Serie", "NrPagina", "NrArticole",
    "NumarOre", "NumarOrePanaLa", "SumaIncasata", "NrProduse", "PretUnitar", "PretTotal",
    "CotaTVA", "IdExtern", "Coduri", "judet", "TipIncasare", "DataIncasare", "DataEmitere",
    "VerificareDuplicat", "TvaLaIncasare", "AWB", "CodArticol",
]  # fmt: skip


def _decimal_text(value: Decimal) -> str:
    return str(value)  # "1E+5", "-0.001": JSON numbers as they are written


#: JSON text of a leaf: the hostile numbers, exact decimals in any notation, plain values.
leaf_texts = (
    st.sampled_from(HUGE_NUMBERS)
    | st.decimals(allow_nan=False, allow_infinity=False).map(_decimal_text)
    | st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)).map(json.dumps)
)
field_names = st.sampled_from(FIELD_NAMES) | st.text(max_size=10)


def _object_text(pairs: dict[str, str]) -> str:
    return "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in pairs.items()) + "}"


#: JSON text of any value, hostile numbers at any depth.
json_texts = st.recursive(
    leaf_texts,
    lambda children: (
        st.lists(children, max_size=4).map(lambda xs: "[" + ",".join(xs) + "]")
        | st.dictionaries(field_names, children, max_size=5).map(_object_text)
    ),
    max_leaves=25,
)


def nested(depth: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    if kind == "object":
        return b'{"a":' * depth + b"1" + b"}" * depth
    return b'{"Client":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"


deep_bodies = st.builds(
    nested,
    st.sampled_from([10, 17, 500, 990, 1100, 5000, 100_000]),
    st.sampled_from(["list", "object", "in"]),
)
form_bodies = st.lists(
    st.tuples(
        st.text(alphabet="Client[]Continut0123456789%&=+ab", max_size=40),
        st.text(max_size=20) | st.sampled_from(HUGE_NUMBERS),
    ),
    max_size=6,
).map(lambda pairs: "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8", "surrogatepass"))
deep_form_keys = st.sampled_from([5, 20, 990, 3000]).map(
    lambda depth: ("Client" + "[a]" * depth + "=1").encode()
)
huge_form_index = st.sampled_from([7, 100, 5000]).map(
    lambda digits: ("Continut[" + "9" * digits + "][UM]=buc").encode()
)
bodies = (
    json_texts.map(str.encode)
    | deep_bodies
    | form_bodies
    | deep_form_keys
    | huge_form_index
    | st.binary(max_size=200)
)
queries = st.dictionaries(
    st.sampled_from(["judet", "Judet", "x"]), st.text(max_size=20) | st.just("9" * 5000), max_size=2
)


DEEP = [nested(depth, kind) for depth in (1100, 100_000) for kind in ("list", "object", "in")]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("application/json", body) for body in DEEP]
    + [
        ("application/x-www-form-urlencoded", ("Client" + "[a]" * 3000 + "=1").encode()),
        ("application/x-www-form-urlencoded", ("Continut[" + "9" * 5000 + "][UM]=buc").encode()),
    ],
    ids=lambda value: value[:20] if isinstance(value, bytes) else value,
)
@pytest.mark.parametrize("method", ["factura/emitere", "articol/list", "nomenclator/judet"])
async def test_deep_nesting_is_refused_at_once(method: str, content_type: str, body: bytes) -> None:
    reply, elapsed = await timed(
        open_simulator(), "POST", f"/v1/{method}", {}, {"Content-Type": content_type}, body
    )
    data = assert_vendor_shape(reply, elapsed)
    assert (reply.status, data["Success"]) == (400, False)
    assert data["Message"].startswith("Cerere invalida: ")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    verb=st.sampled_from(["POST", "POST", *VERBS]),  # the vendor's verb, more often
    path=st.sampled_from(PATHS) | st.text(max_size=40).map(lambda p: "/" + p),
    content_type=st.sampled_from(CONTENT_TYPES) | st.text(max_size=30),
    body=bodies,
    query=queries,
)
def test_any_call_gets_a_vendor_shaped_answer_at_once(
    verb: str, path: str, content_type: str, body: bytes, query: dict[str, str]
) -> None:
    async def main() -> None:
        sim = open_simulator()
        reply, elapsed = await timed(sim, verb, path, query, {"Content-Type": content_type}, body)
        assert_vendor_shape(reply, elapsed)

    asyncio.run(main())


REF = {"Numar": "001", "Serie": "BV"}
#: A payload each signed method accepts, once invoice BV 001 and its payment CH 001 exist.
VALID: dict[str, dict[str, Any]] = {
    "factura/emitere": invoice_payload(),
    "factura/print": REF,
    "factura/stergere": REF,
    "factura/anulare": REF,
    "factura/getstatus": REF,
    "factura/stornare": REF,
    "factura/awb": {**REF, "AWB": "X1"},
    "factura/listfacturiasociate": REF,
    "factura/incasare": PAYMENT,
    "factura/stergereincasare": {
        "NumarFactura": "001", "SerieFactura": "BV", "SerieIncasare": "CH", "NumarIncasare": "001",
    },
    "articol/list": {"NrPagina": 1, "NrArticole": 10},
    "articol/get": {"CodArticol": "CARTE-1"},
    "articol/getlist": {"Coduri": ["CARTE-1", "X"]},
    "articol/articolemodificate": {"NumarOre": 24, "NumarOrePanaLa": 1},
    "articol/gestiune": {},
    "client/list": {"NrPagina": 1, "NrArticole": 10},
}  # fmt: skip


def leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every leaf of a JSON-like value, and of every object and list too."""
    found = [path] if path else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += leaf_paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += leaf_paths(child, (*path, index))
    return found


def as_text(value: Any, changes: dict[tuple[Any, ...], str], path: tuple[Any, ...] = ()) -> str:
    """``value`` as JSON text, with the raw JSON text of ``changes`` at their paths."""
    if path in changes:
        return changes[path]
    if isinstance(value, dict):
        return _object_text({k: as_text(v, changes, (*path, k)) for k, v in value.items()})
    if isinstance(value, list):
        return "[" + ",".join(as_text(v, changes, (*path, i)) for i, v in enumerate(value)) + "]"
    return dumps_json(value)


@st.composite
def mutated_calls(draw: st.DrawFn) -> tuple[str, bytes]:
    """A signed call of a valid payload with a few of its values (or new fields) replaced by
    random JSON: past the credentials, into the method's own readers."""
    method = draw(st.sampled_from(sorted(VALID)))
    signed = sign(method, VALID[method], company=TEST_COMPANY, key=TEST_PRIVATE_KEY)
    # Changing the hashed value (the customer's name, the number) only tests the credentials.
    paths = [p for p in leaf_paths(signed) if p[0] not in ("CodUnic", "Hash")]
    values = leaf_texts | json_texts
    changes = (
        draw(st.dictionaries(st.sampled_from(paths), values, min_size=1, max_size=3))
        if paths
        else {}
    )
    extra = draw(st.dictionaries(st.sampled_from(FIELD_NAMES), json_texts, max_size=2))
    changes.update({(key,): text for key, text in extra.items() if (key,) not in changes})
    for key in extra:
        signed.setdefault(key, None)
    return method, as_text(signed, changes).encode()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(call=mutated_calls(), form=st.booleans())
def test_random_values_in_a_signed_call_get_a_vendor_shaped_answer_at_once(
    call: tuple[str, bytes], form: bool
) -> None:
    method, body = call

    async def main() -> None:
        sim = open_simulator()
        await send(sim, "factura/emitere", invoice_payload(IdExtern="first"))
        await send(sim, "factura/incasare", {**PAYMENT, "SumaIncasata": "1"})
        content_type = "application/json"
        payload = body
        if form:
            # The same values in the older bracket form, where they arrive as text.
            as_written = {"parse_float": str, "parse_int": str, "parse_constant": str}
            try:
                payload = encode_form(json.loads(body, **as_written)).encode()
            except (ValueError, TypeError, RecursionError):
                return
            content_type = "application/x-www-form-urlencoded"
        reply, elapsed = await timed(
            sim, "POST", f"/v1/{method}", {}, {"Content-Type": content_type}, payload
        )
        assert_vendor_shape(reply, elapsed)

    asyncio.run(main())


# -- over real HTTP -----------------------------------------------------------------------------


def http_cases() -> Iterator[tuple[str, str, str, bytes]]:
    """(verb, path, content type, body) of hostile calls worth a real socket."""
    yield "POST", "/v1/articol/list", "application/json", nested(50_000, "list")
    yield "POST", "/v1/factura/emitere", "application/json", nested(3_000, "in")
    method, payload, path = NUMBER_FIELDS[5]
    yield (
        "POST",
        f"/v1/{method}",
        "application/json",
        with_raw_number(method, payload, path, "1e999999999"),
    )
    yield "POST", "/v1/articol/list", "application/json", b'{"NrPagina": ' + b"9" * 5000 + b"}"
    yield "POST", "/v1/factura/emitere", "application/x-www-form-urlencoded", b"%%%=&&[[["
    yield "POST", "/v1/client/list", "text/plain", b"\xff\xfe\x00garbage"
    yield "PUT", "/v1/factura/emitere", "application/json", b"{}"
    yield "DELETE", "/v1/nomenclator/tva", "", b""
    yield "GET", "/nowhere/at/all", "", b""
    yield "POST", "/v1/document/nothing.pdf", "", b""
    yield "GET", "/v1/document/nothing.pdf", "", b""
    yield "POST", "/v1/factura/emitere", "application/json", b"{" + b" " * (2 * 1024**2) + b"}"


@pytest.mark.realtime
async def test_hostile_calls_over_http_get_vendor_shaped_answers() -> None:
    async with open_simulator() as sim, aiohttp.ClientSession() as session:
        root = sim.base_url.removesuffix("/v1")
        for verb, path, content_type, body in http_cases():
            started = time.perf_counter()
            async with session.request(
                verb, root + path, data=io.BytesIO(body), headers={"Content-Type": content_type}
            ) as response:
                payload = await response.read()
            reply = RawResponse(
                status=response.status, headers=dict(response.headers), body=payload
            )
            data = assert_vendor_shape(reply, time.perf_counter() - started)
            assert data is not None
            assert data["Success"] is False, (verb, path)
        # The server is still there and answers the vendor's API as before.
        async with session.get(f"{sim.base_url}/nomenclator/judet") as response:
            assert (await response.json())["Success"] is True
