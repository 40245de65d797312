"""Pure parts of the simulator: body decoding, redaction, nomenclators, amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fgo_async.codec import encode_form
from fgo_async.simulator import billing, nomenclators
from fgo_async.simulator.wire import BodyError, boolean, decimal, decode_body, redact, text


def test_form_and_json_bodies_decode_alike() -> None:
    wire = {
        "Client": {"Denumire": "Ana", "IdExtern": 5},
        "Continut": [{"Denumire": "A", "NrProduse": 1}, {"Denumire": "B", "NrProduse": 2}],
        "Coduri": ["X", "Y"],
        "VerificareDuplicat": True,
    }
    form = decode_body(encode_form(wire).encode(), "application/x-www-form-urlencoded")
    assert form == {
        "Client": {"Denumire": "Ana", "IdExtern": "5"},
        "Continut": [{"Denumire": "A", "NrProduse": "1"}, {"Denumire": "B", "NrProduse": "2"}],
        "Coduri": ["X", "Y"],
        "VerificareDuplicat": "true",
    }
    assert decode_body(b'{"Coduri": ["X"], "P": 1.50}', "application/json") == {
        "Coduri": ["X"],
        "P": Decimal("1.50"),
    }
    assert decode_body(b"Coduri[]=A&Coduri[]=B") == {"Coduri": ["A", "B"]}
    assert decode_body(b"") == {}


@pytest.mark.parametrize("body", [b'{"a":', b"[1, 2]", b"%%%=&&"])
def test_bad_bodies(body: bytes) -> None:
    with pytest.raises(BodyError):
        decode_body(body, "application/json" if body.startswith((b"{", b"[")) else "")


def test_loose_values() -> None:
    assert [text(True), text(Decimal("21.0")), text(21), text(None)] == ["true", "21.0", "21", None]
    assert [decimal(v, "P") for v in ("19,99", 3, "x", True)] == [
        Decimal("19.99"),
        3,
        None,
        None,
    ]
    assert [boolean("1"), boolean("false"), boolean(None, True), boolean("maybe")] == [
        True,
        False,
        True,
        None,
    ]


def test_redaction() -> None:
    body = {"Hash": "ABC", "hash": "x", "Client": {"Text": "key=s3cret!"}, "L": ["s3cret"]}
    assert redact(body, ["s3cret"]) == {
        "Hash": "***",
        "hash": "***",
        "Client": {"Text": "***"},
        "L": ["***"],
    }


def test_nomenclators_hold_real_data() -> None:
    assert len(nomenclators.COUNTIES) == 42
    assert nomenclators.find_county("Brașov") == ("Brasov", "BV")
    assert nomenclators.find_county("Municipiul București") == ("Bucuresti", "B")
    assert nomenclators.find_country("ro") == ("Romania", "RO")
    assert nomenclators.find_country("Germania") == ("Germania", "DE")
    assert len(nomenclators.COUNTRIES) > 240
    assert nomenclators.is_romania("România")
    assert not nomenclators.is_romania("Ungaria")
    assert nomenclators.localities("Marte") is None
    assert nomenclators.localities("Olt") == ()
    assert nomenclators.nomenclator_reply("nimic") is None


def test_amounts_in_both_directions() -> None:
    classic = billing.from_unit_price(Decimal("3"), Decimal("10.005"), Decimal("21"))
    assert (classic.net, classic.vat, classic.total) == (
        Decimal("30.02"),
        Decimal("6.30"),
        Decimal("36.32"),
    )
    reverse = billing.from_total(Decimal("-2"), Decimal("24.20"), Decimal("21"))
    assert (reverse.total, reverse.net, reverse.vat, reverse.unit_price) == (
        Decimal("-24.20"),
        Decimal("-20.00"),
        Decimal("-4.20"),
        Decimal("10.0000"),
    )
    assert billing.document_total([Decimal("1.005"), Decimal("2")]) == Decimal("3.01")
