"""The Hash rules of SPEC.md: the test vector, each hash input, UTF-8, diacritics."""

from __future__ import annotations

import datetime
import hashlib
import json
import urllib.parse
from decimal import Decimal
from typing import Any

import pytest

from fgo_async import InvoiceRef, Payment, ReceiptRef
from fgo_async.endpoints import ENDPOINTS
from fgo_async.errors import FgoValidationError
from fgo_async.models import (
    ArticleCodes,
    ArticleQuery,
    AwbAssignment,
    ChangedArticlesQuery,
    NoParameters,
    PageRequest,
    PaymentDeletion,
    Reversal,
)
from fgo_async.protocol import Request
from fgo_async.signing import Credentials, compute_hash, flatten_diacritics
from tests._helpers import (
    COD_UNIC,
    SECRET_KEY,
    SPEC_COD_UNIC,
    SPEC_HASH,
    SPEC_KEY,
    body_of,
    client,
    customer,
    invoice,
    protocol,
    reply,
)


def reference_hash(text: str) -> str:
    """SHA-1 of the UTF-8 text, upper-case hex: the rule as SPEC.md writes it."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest().upper()


def test_vendor_test_vector() -> None:
    assert compute_hash(SPEC_COD_UNIC, SPEC_KEY, "Ionescu Popescu") == SPEC_HASH


def test_credentials_sign_with_the_vendor_test_vector() -> None:
    credentials = Credentials(cod_unic=2864518, private_key=SPEC_KEY)
    assert credentials.cod_unic == SPEC_COD_UNIC
    assert credentials.sign("Ionescu Popescu") == SPEC_HASH


def test_invoice_number_rule() -> None:
    # SHA-1 of "28645181234567890123", computed once with `sha1sum` and kept as a known answer.
    assert compute_hash(SPEC_COD_UNIC, SPEC_KEY, "123") == (
        "6D7E20FCBA3960857BFF910DDA2E731485CC2BE5"
    )
    assert compute_hash(SPEC_COD_UNIC, SPEC_KEY, "123") == reference_hash(
        "2864518" + "1234567890" + "123"
    )


def test_empty_hash_input_for_articles_and_customers() -> None:
    assert compute_hash(SPEC_COD_UNIC, SPEC_KEY) == reference_hash("28645181234567890")
    assert compute_hash(SPEC_COD_UNIC, SPEC_KEY, "") == compute_hash(SPEC_COD_UNIC, SPEC_KEY)


def test_hash_is_upper_case_hex_of_sha1() -> None:
    digest = compute_hash("1", "2", "3")
    assert len(digest) == 40
    assert digest == digest.upper()
    int(digest, 16)


def test_invoice_number_is_a_string_001_is_not_1() -> None:
    assert compute_hash(SPEC_COD_UNIC, SPEC_KEY, "001") != compute_hash(
        SPEC_COD_UNIC, SPEC_KEY, "1"
    )
    assert compute_hash(SPEC_COD_UNIC, SPEC_KEY, "001") == reference_hash("28645181234567890001")


def test_names_are_hashed_as_utf8() -> None:
    name = "Ștefănescu Țărână SRL"
    assert compute_hash(SPEC_COD_UNIC, SPEC_KEY, name) == reference_hash(
        SPEC_COD_UNIC + SPEC_KEY + name
    )
    # Another encoding of the same text would give another hash: the rule is UTF-8.
    legacy = hashlib.sha1((SPEC_COD_UNIC + SPEC_KEY + "Stefanescu").encode("utf-16")).hexdigest()
    assert compute_hash(SPEC_COD_UNIC, SPEC_KEY, "Stefanescu") != legacy.upper()


@pytest.mark.parametrize(
    ("text", "flat"),
    [
        ("ăâîșț", "aaist"),
        ("ĂÂÎȘȚ", "AAIST"),
        ("şţŞŢ", "stST"),  # the older cedilla forms
        ("Ștefănescu Țâră", "Stefanescu Tara"),
        ("Müller & Co. 123", "Müller & Co. 123"),  # nothing else changes
    ],
)
def test_flatten_diacritics(text: str, flat: str) -> None:
    assert flatten_diacritics(text) == flat


def test_credentials_never_show_the_key() -> None:
    credentials = Credentials(cod_unic=COD_UNIC, private_key=SECRET_KEY)
    assert SECRET_KEY not in repr(credentials)
    assert SECRET_KEY not in str(credentials)


# -- the hash input of every endpoint, taken from the exact wire value ---------------------------

REF = InvoiceRef(series="BV", number="0042")

#: For every signed method: a payload, and where SPEC.md says the hash input is on the wire.
SIGNED_CASES: dict[str, tuple[Any, tuple[str, ...] | None]] = {
    "factura/emitere": (invoice(customer=customer(name="Ionescu Popescu")), ("Client", "Denumire")),
    "factura/print": (REF, ("Numar",)),
    "factura/stergere": (REF, ("Numar",)),
    "factura/anulare": (REF, ("Numar",)),
    "factura/getstatus": (REF, ("Numar",)),
    "factura/stornare": (Reversal(invoice=REF, series="ST", number="9"), ("Numar",)),
    "factura/awb": (AwbAssignment(invoice=REF, awb="AWB123"), ("Numar",)),
    "factura/listfacturiasociate": (REF, ("Numar",)),
    "factura/incasare": (
        Payment(
            invoice=REF,
            payment_type="Card",
            amount="10",
            paid_at=datetime.datetime(2025, 8, 1, 12, 30),
        ),
        ("NumarFactura",),
    ),
    "factura/stergereincasare": (
        PaymentDeletion(invoice=REF, receipt=ReceiptRef(series="CH", number="77")),
        ("NumarFactura",),
    ),
    "articol/list": (PageRequest(page=1, page_size=10), None),
    "articol/get": (ArticleQuery(code="A1"), None),
    "articol/getlist": (ArticleCodes(codes=["A1", "A2"]), None),
    "articol/articolemodificate": (ChangedArticlesQuery(), None),
    "articol/gestiune": (NoParameters(), None),
    "client/list": (PageRequest(page=1, page_size=10), None),
}


def test_every_signed_endpoint_has_a_case() -> None:
    signed = {name for name, endpoint in ENDPOINTS.items() if endpoint.signed}
    assert signed == set(SIGNED_CASES)


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


@pytest.mark.parametrize("name", sorted(SIGNED_CASES))
def test_hash_input_is_the_exact_wire_value(name: str) -> None:
    payload, path = SIGNED_CASES[name]
    request = protocol().build_request(ENDPOINTS[name], payload)
    body = body_of(request)
    subject = "" if path is None else _dig(body, path)
    assert isinstance(subject, str)
    if path is not None:
        assert subject  # the number or the name, never empty
    assert body["CodUnic"] == COD_UNIC
    assert body["Hash"] == reference_hash(COD_UNIC + SECRET_KEY + subject)


@pytest.mark.parametrize("name", sorted(SIGNED_CASES))
def test_hash_input_in_form_encoding(name: str) -> None:
    payload, path = SIGNED_CASES[name]
    request = protocol(wire_format="form").build_request(ENDPOINTS[name], payload)
    fields = dict(urllib.parse.parse_qsl(request.body.decode("ascii")))
    key = "" if path is None else path[0] + "".join(f"[{part}]" for part in path[1:])
    subject = fields[key] if key else ""
    assert fields["Hash"] == reference_hash(COD_UNIC + SECRET_KEY + subject)


def test_nomenclators_are_not_signed() -> None:
    for name, endpoint in ENDPOINTS.items():
        if endpoint.signed:
            continue
        request = protocol().build_nomenclature_request(endpoint)
        assert request.method == "GET", name
        assert request.body == b""
        assert "Hash" not in request.url


def test_hash_uses_the_number_not_the_series() -> None:
    body = body_of(protocol().build_request(ENDPOINTS["factura/print"], REF))
    assert body["Hash"] == reference_hash(COD_UNIC + SECRET_KEY + "0042")
    assert body["Hash"] != reference_hash(COD_UNIC + SECRET_KEY + "BV0042")


def test_a_number_with_leading_zeros_is_hashed_as_sent() -> None:
    one = body_of(
        protocol().build_request(ENDPOINTS["factura/print"], InvoiceRef(series="B", number="1"))
    )
    zeros = body_of(
        protocol().build_request(ENDPOINTS["factura/print"], InvoiceRef(series="B", number="001"))
    )
    assert zeros["Numar"] == "001"
    assert zeros["Hash"] != one["Hash"]
    assert zeros["Hash"] == reference_hash(COD_UNIC + SECRET_KEY + "001")


def test_empty_hash_input_is_refused_before_signing() -> None:
    with pytest.raises(FgoValidationError) as caught:
        protocol().build_request(ENDPOINTS["factura/print"], InvoiceRef(series="BV", number=""))
    assert caught.value.problems[0].field == "Numar"


def test_utf8_customer_name_is_hashed_byte_identical_to_the_name_sent() -> None:
    name = "Țară Nouă Ștefănescu"
    request = protocol().build_request(
        ENDPOINTS["factura/emitere"], invoice(customer=customer(name=name))
    )
    assert name.encode("utf-8") in request.body  # sent as UTF-8, not \u escapes
    body = body_of(request)
    assert body["Client"]["Denumire"] == name
    assert body["Hash"] == reference_hash(COD_UNIC + SECRET_KEY + name)


# -- flatten_diacritics on the client --------------------------------------------------------------

NAME = "Ștefănescu Țâră şi Fiii"


def _issued(request: Request) -> Any:
    return reply({"Success": True, "Factura": {"Serie": "BV", "Numar": "001"}})


@pytest.mark.parametrize("wire_format", ["json", "form"])
async def test_flattened_name_is_both_sent_and_hashed(wire_format: str) -> None:
    fgo, transport = client(_issued, flatten_diacritics=True, wire_format=wire_format)
    async with fgo:
        await fgo.issue_invoice(invoice(customer=customer(name=NAME)))
    request = transport.requests[0]
    if wire_format == "json":
        body = body_of(request)
        sent, digest = body["Client"]["Denumire"], body["Hash"]
    else:
        fields = dict(urllib.parse.parse_qsl(request.body.decode("ascii")))
        sent, digest = fields["Client[Denumire]"], fields["Hash"]
    assert sent == "Stefanescu Tara si Fiii"
    assert digest == reference_hash(COD_UNIC + SECRET_KEY + sent)


async def test_diacritics_are_kept_by_default() -> None:
    fgo, transport = client(_issued)
    async with fgo:
        await fgo.issue_invoice(invoice(customer=customer(name=NAME)))
    body = body_of(transport.requests[0])
    assert body["Client"]["Denumire"] == NAME
    assert body["Hash"] == reference_hash(COD_UNIC + SECRET_KEY + NAME)


async def test_flattening_touches_only_the_issue_call_name() -> None:
    fgo, transport = client(_issued, flatten_diacritics=True)
    async with fgo:
        await fgo.issue_invoice(
            invoice(customer=customer(name=NAME, address="Str. Ștefan cel Mare"))
        )
    body = body_of(transport.requests[0])
    assert body["Client"]["Adresa"] == "Str. Ștefan cel Mare"


def test_spec_example_goes_out_with_the_vendor_hash() -> None:
    proto = protocol(credentials=Credentials(cod_unic=SPEC_COD_UNIC, private_key=SPEC_KEY))
    request = proto.build_request(
        ENDPOINTS["factura/emitere"], invoice(customer=customer(name="Ionescu Popescu"))
    )
    body = json.loads(request.body, parse_float=Decimal)
    assert body["Hash"] == SPEC_HASH
    assert b'"CotaTVA":21' in request.body
    assert b'"PretUnitar":19.99' in request.body
