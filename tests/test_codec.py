"""The codec both ways: every request model to the wire, every reply model from the wire."""

from __future__ import annotations

import datetime
import json
import re
import time
import urllib.parse
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fgo_async import codec, models
from fgo_async.endpoints import ENDPOINTS
from fgo_async.models import (
    Article,
    ArticleCodes,
    ArticlePage,
    ArticleQuery,
    Articles,
    AssociatedInvoice,
    AssociatedInvoices,
    AwbAssignment,
    ChangedArticle,
    ChangedArticles,
    ChangedArticlesQuery,
    Confirmation,
    Customer,
    CustomerPage,
    CustomerRecord,
    Invoice,
    InvoiceLine,
    InvoiceLink,
    InvoiceRef,
    InvoiceStatus,
    IssuedInvoice,
    Nomenclature,
    NomenclatureItem,
    NoParameters,
    PageRequest,
    Payment,
    PaymentDeletion,
    PaymentReceipt,
    PaymentRecord,
    ReceiptRef,
    Reversal,
    StockInfo,
    Warehouse,
    Warehouses,
)
from fgo_async.models._fields import RAW_KEY, WIRE_KEY
from tests._helpers import company, customer, invoice, line

ROMANIAN = "ăâîșțşţĂÂÎȘȚŞŢ"

# -- decimals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "wire"),
    [
        ("21", "21"),
        ("21.0", "21"),
        ("21.00", "21"),
        ("1E+2", "100"),
        ("1.5E+3", "1500"),
        ("19.99", "19.99"),
        ("6.1", "6.1"),
        ("0.001", "0.001"),
        ("1E-7", "0.0000001"),
        ("-5.25", "-5.25"),
        ("-3", "-3"),
        ("0", "0"),
        ("0.00", "0"),
        ("-0", "0"),
        ("123456789012345678901234567890.12", "123456789012345678901234567890.12"),
    ],
)
def test_format_decimal(text: str, wire: str) -> None:
    assert codec.format_decimal(Decimal(text)) == wire
    assert codec.dumps_json({"x": Decimal(text)}) == '{"x":' + wire + "}"
    assert codec.flatten_form({"x": Decimal(text)}) == [("x", wire)]


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_non_finite_decimals_cannot_be_sent(text: str) -> None:
    with pytest.raises(ValueError, match="finite"):
        codec.format_decimal(Decimal(text))


PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _number_text(body: str, key: str) -> str:
    found = re.search(rf'"{key}":([^,}}\]]+)', body)
    assert found is not None, body
    return found.group(1)


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_any_finite_decimal_goes_out_exactly(value: Decimal) -> None:
    text = codec.dumps_json(codec.to_wire(line(unit_price=value)))
    number = _number_text(text, "PretUnitar")
    assert PLAIN_NUMBER.fullmatch(number), number  # never an exponent
    if value == value.to_integral_value():
        assert "." not in number  # 21, never 21.0
    # parse_int too: a whole number of thousands of digits is valid JSON, beyond int()'s limit.
    parsed = json.loads(text, parse_float=Decimal, parse_int=Decimal)
    assert parsed["PretUnitar"] == value
    assert dict(codec.flatten_form(codec.to_wire(line(unit_price=value))))["PretUnitar"] == number


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=2, min_value=-(10**9), max_value=10**9
    )
)
def test_prices_with_two_places_go_out_as_written(value: Decimal) -> None:
    text = codec.dumps_json({"Valoare": value})
    assert Decimal(_number_text(text, "Valoare")) == value
    assert json.loads(text, parse_float=Decimal)["Valoare"] == value


def test_the_spec_line_goes_out_as_the_vendor_wants() -> None:
    text = codec.dumps_json(codec.to_wire(line(vat_rate=Decimal("21.0"), unit_price="19.99")))
    assert '"CotaTVA":21' in text
    assert '"PretUnitar":19.99' in text
    assert '"NrProduse":1' in text


def test_floats_never_reach_the_wire() -> None:
    with pytest.raises(TypeError):
        codec.dumps_json({"x": 19.99})
    with pytest.raises(TypeError):
        codec.flatten_form({"x": 19.99})
    with pytest.raises(TypeError):
        codec.dumps_json({"x": object()})


def test_dumps_json_writes_plain_values() -> None:
    text = codec.dumps_json({"a": None, "b": True, "c": False, "d": 3, "e": ["x", ("y",)]})
    assert text == '{"a":null,"b":true,"c":false,"d":3,"e":["x",["y"]]}'


# -- strings -------------------------------------------------------------------------------------

names = st.text(alphabet=st.sampled_from(ROMANIAN + "abc XYZ-&'\"\\/.,")) | st.text()


@given(names.filter(lambda s: s.strip() != ""))
def test_any_text_round_trips_through_json(name: str) -> None:
    wire = codec.to_wire(customer(name=name))
    body, content_type = codec.encode_body(wire, "json")
    assert content_type.startswith("application/json")
    assert json.loads(body.decode("utf-8"))["Denumire"] == name


@given(names.filter(lambda s: s.strip() != ""))
def test_any_text_round_trips_through_the_form(name: str) -> None:
    body, content_type = codec.encode_body(codec.to_wire(customer(name=name)), "form")
    assert content_type == "application/x-www-form-urlencoded"
    fields = dict(urllib.parse.parse_qsl(body.decode("ascii"), keep_blank_values=True))
    assert fields["Denumire"] == name


def test_diacritics_are_sent_as_utf8_not_escaped() -> None:
    body, _ = codec.encode_body({"Denumire": ROMANIAN}, "json")
    assert ROMANIAN.encode("utf-8") in body


def test_unknown_wire_format_is_refused() -> None:
    with pytest.raises(ValueError, match="wire format"):
        codec.encode_body({}, "xml")  # type: ignore[arg-type]


# -- every request model to the wire -------------------------------------------------------------

REF = InvoiceRef(series="BV", number="001")

FULL_INVOICE = Invoice(
    series="BV",
    number="0007",
    document_type="Factura",
    currency="RON",
    issue_date=datetime.date(2025, 8, 1),
    due_date=datetime.date(2025, 8, 31),
    text="Delegat: Ion",
    explanations="Comanda 1042",
    vat_on_collection=False,
    check_duplicate=True,
    validate_tax_id=True,
    external_id="1042",
    customer=Customer(
        name="Exemplu Comerț SRL",
        type="PJ",
        country="Romania",
        county="Cluj",
        locality="Cluj-Napoca",
        address="Str. Memorandumului, Nr. 1",
        tax_id="RO18547290",
        trade_register="J12/1/2005",
        email="contabil@example.ro",
        phone="0740000000",
        external_id=77,
        bank_account="RO49AAAA1B31007593840000",
        vat_payer=True,
    ),
    lines=[
        InvoiceLine(
            name="Carte",
            quantity="2.500",
            unit="buc",
            vat_rate=21,
            unit_price="19.99",
            article_code="A1",
            warehouse_code="G1",
            cost_center="CC1",
            description="[[descriere]] ediția a doua",
        ),
        InvoiceLine(name="Reducere", quantity=-1, unit="buc", vat_rate="21.0", total_price="5"),
    ],
)

#: Every request model, an instance with every field set, and its exact wire dict.
REQUESTS: dict[type[Any], tuple[Any, dict[str, Any]]] = {
    Invoice: (
        FULL_INVOICE,
        {
            "Serie": "BV",
            "Client": {
                "Denumire": "Exemplu Comerț SRL",
                "Tip": "PJ",
                "Tara": "Romania",
                "Judet": "Cluj",
                "Localitate": "Cluj-Napoca",
                "Adresa": "Str. Memorandumului, Nr. 1",
                "CodUnic": "RO18547290",
                "NrRegCom": "J12/1/2005",
                "Email": "contabil@example.ro",
                "Telefon": "0740000000",
                "IdExtern": 77,
                "ContBancar": "RO49AAAA1B31007593840000",
                "PlatitorTVA": True,
            },
            "Continut": [
                {
                    "Denumire": "Carte",
                    "NrProduse": Decimal("2.500"),
                    "UM": "buc",
                    "CotaTVA": 21,
                    "PretUnitar": Decimal("19.99"),
                    "CodArticol": "A1",
                    "CodGestiune": "G1",
                    "CodCentruCost": "CC1",
                    "Descriere": "[[descriere]] ediția a doua",
                },
                {
                    "Denumire": "Reducere",
                    "NrProduse": -1,
                    "UM": "buc",
                    "CotaTVA": 21,
                    "PretTotal": 5,
                },
            ],
            "Numar": "0007",
            "TipFactura": "Factura",
            "Valuta": "RON",
            "DataEmitere": "2025-08-01",
            "DataScadenta": "2025-08-31",
            "Text": "Delegat: Ion",
            "Explicatii": "Comanda 1042",
            "TvaLaIncasare": False,
            "VerificareDuplicat": True,
            "ValideazaCodUnicRo": True,
            "IdExtern": "1042",
        },
    ),
    InvoiceRef: (REF, {"Serie": "BV", "Numar": "001"}),
    Payment: (
        Payment(
            invoice=REF,
            payment_type="Card",
            amount="167.69",
            paid_at=datetime.datetime(2025, 8, 1, 9, 5, 7),
            receipt_series="CH",
            account="Banca",
            document_type="Factura",
        ),
        {
            "SerieFactura": "BV",
            "NumarFactura": "001",
            "TipIncasare": "Card",
            "SumaIncasata": Decimal("167.69"),
            "DataIncasare": "2025-08-01 09:05:07",
            "SerieChitanta": "CH",
            "ContIncasare": "Banca",
            "TipFactura": "Factura",
        },
    ),
    PaymentDeletion: (
        PaymentDeletion(invoice=REF, receipt=ReceiptRef(series="CH", number="12")),
        {"SerieFactura": "BV", "NumarFactura": "001", "SerieIncasare": "CH", "NumarIncasare": "12"},
    ),
    Reversal: (
        Reversal(invoice=REF, series="ST", number="5", issue_date=datetime.date(2025, 9, 1)),
        {
            "Serie": "BV",
            "Numar": "001",
            "SerieStorno": "ST",
            "NumarStorno": "5",
            "DataEmitere": "2025-09-01",
        },
    ),
    AwbAssignment: (
        AwbAssignment(invoice=REF, awb="1Z999"),
        {"Serie": "BV", "Numar": "001", "AWB": "1Z999"},
    ),
    PageRequest: (PageRequest(page=3, page_size=50), {"NrPagina": 3, "NrArticole": 50}),
    ArticleQuery: (ArticleQuery(code="A1"), {"CodArticol": "A1"}),
    ArticleCodes: (ArticleCodes(codes=["A1", "B2"]), {"Coduri": ["A1", "B2"]}),
    ChangedArticlesQuery: (
        ChangedArticlesQuery(hours=48, until_hours=24),
        {"NumarOre": 48, "NumarOrePanaLa": 24},
    ),
    NoParameters: (NoParameters(), {}),
}


def test_every_request_model_has_a_case() -> None:
    request_types = {e.request_type for e in ENDPOINTS.values() if e.request_type is not None}
    assert request_types == set(REQUESTS)


def _normalise(value: Any) -> Any:
    """Tuples as lists, so that the expected dicts can be written with lists."""
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    return value


@pytest.mark.parametrize("cls", list(REQUESTS), ids=lambda cls: cls.__name__)
def test_request_model_to_wire(cls: type[Any]) -> None:
    model, expected = REQUESTS[cls]
    wire = codec.to_wire(model)
    assert _normalise(wire) == expected
    # Same key order is not required by the vendor; same keys and values are.
    assert set(wire) == set(expected)


@pytest.mark.parametrize("cls", list(REQUESTS), ids=lambda cls: cls.__name__)
def test_request_model_json_body_reads_back(cls: type[Any]) -> None:
    model, expected = REQUESTS[cls]
    body, _ = codec.encode_body(codec.to_wire(model), "json")
    assert json.loads(body, parse_float=Decimal) == expected


def test_a_datetime_given_as_a_date_goes_out_as_a_date() -> None:
    # datetime is a date to the type checker; the vendor wants yyyy-mm-dd all the same.
    wire = codec.to_wire(invoice(issue_date=datetime.datetime(2025, 8, 1, 10, 30)))
    assert wire["DataEmitere"] == "2025-08-01"


def test_a_datetime_payment_goes_out_with_its_time() -> None:
    model = REQUESTS[Payment][0]
    assert codec.to_wire(model)["DataIncasare"] == "2025-08-01 09:05:07"


def test_unset_optional_fields_are_not_sent() -> None:
    wire = codec.to_wire(invoice())
    assert set(wire) == {"Serie", "Client", "Continut"}
    assert set(wire["Client"]) == {"Denumire", "Tip", "Tara", "Judet"}
    assert set(wire["Continut"][0]) == {"Denumire", "NrProduse", "UM", "CotaTVA", "PretUnitar"}
    assert codec.to_wire(ChangedArticlesQuery()) == {"NumarOre": 24}
    assert codec.to_wire(Reversal(invoice=REF)) == {"Serie": "BV", "Numar": "001"}


def test_false_is_sent_not_dropped() -> None:
    wire = codec.to_wire(invoice(check_duplicate=False, customer=customer(vat_payer=False)))
    assert wire["VerificareDuplicat"] is False
    assert wire["Client"]["PlatitorTVA"] is False


@pytest.mark.parametrize("value", [True, False])
def test_vat_on_collection_goes_out_under_its_v7_name(value: bool) -> None:
    # The v3.2 name "TvaIncasare" may be ignored by the vendor: only the v7.0 name is sent.
    wire = codec.to_wire(invoice(vat_on_collection=value))
    assert wire["TvaLaIncasare"] is value
    assert "TvaIncasare" not in wire
    body, _ = codec.encode_body(wire, "json")
    assert json.loads(body)["TvaLaIncasare"] is value
    assert b"TvaIncasare" not in body
    form, _ = codec.encode_body(wire, "form")
    assert ("TvaLaIncasare", str(value).lower()) in urllib.parse.parse_qsl(form.decode())
    assert b"TvaIncasare" not in form


def test_vat_on_collection_is_read_back_under_either_name() -> None:
    wire = codec.to_wire(invoice(vat_on_collection=True))
    old = {("TvaIncasare" if key == "TvaLaIncasare" else key): v for key, v in wire.items()}
    assert codec.from_wire(old, Invoice).vat_on_collection is True
    assert codec.from_wire(wire, Invoice) == invoice(vat_on_collection=True)


def test_customer_type_goes_out_as_its_code() -> None:
    wire = codec.to_wire(company())
    assert type(wire["Tip"]) is str  # the plain code, not the enum member
    assert wire["Tip"] == "PJ"
    body, _ = codec.encode_body(wire, "json")
    assert json.loads(body)["Tip"] == "PJ"


def test_to_wire_refuses_what_is_not_a_model() -> None:
    with pytest.raises(TypeError, match="not a request model"):
        codec.to_wire("text")


# -- the bracket form ------------------------------------------------------------------------------


def test_form_encoding_uses_bracket_keys() -> None:
    pairs = codec.flatten_form(codec.to_wire(FULL_INVOICE))
    fields = dict(pairs)
    assert len(fields) == len(pairs)
    assert fields["Serie"] == "BV"
    assert fields["Client[Denumire]"] == "Exemplu Comerț SRL"
    assert fields["Client[Tip]"] == "PJ"
    assert fields["Client[IdExtern]"] == "77"
    assert fields["Client[PlatitorTVA]"] == "true"
    assert fields["TvaLaIncasare"] == "false"
    assert "TvaIncasare" not in fields
    assert fields["VerificareDuplicat"] == "true"
    assert fields["Continut[0][Denumire]"] == "Carte"
    assert fields["Continut[0][NrProduse]"] == "2.500"
    assert fields["Continut[0][CotaTVA]"] == "21"
    assert fields["Continut[0][PretUnitar]"] == "19.99"
    assert fields["Continut[1][PretTotal]"] == "5"
    assert fields["Continut[1][NrProduse]"] == "-1"
    assert fields["DataEmitere"] == "2025-08-01"
    assert "Continut[1][PretUnitar]" not in fields


def test_form_encoding_of_a_list_of_codes() -> None:
    pairs = codec.flatten_form(codec.to_wire(ArticleCodes(codes=["A1", "B2"])))
    assert pairs == [("Coduri[0]", "A1"), ("Coduri[1]", "B2")]


def test_form_encoding_skips_none_and_refuses_floats() -> None:
    assert codec.flatten_form({"a": None, "b": {"c": None}}) == []
    with pytest.raises(TypeError):
        codec.flatten_form({"a": [1.5]})


def test_form_body_is_url_encoded_utf8() -> None:
    body, _ = codec.encode_body({"Client": {"Denumire": "Ștefan & Fiii"}}, "form")
    assert body == b"Client%5BDenumire%5D=%C8%98tefan+%26+Fiii"


# -- every reply model from the wire ---------------------------------------------------------------

#: Every reply model, a reply as the vendor sends it, and the model it decodes to.
REPLIES: dict[type[Any], tuple[Any, Any]] = {
    StockInfo: (
        {"CodConta": "371", "Nume": "Carte", "Stoc": "-2"},
        StockInfo(account_code="371", name="Carte", stock=Decimal(-2)),
    ),
    IssuedInvoice: (
        {
            "Numar": "001",
            "Serie": "BV",
            "Link": "https://x/pdf",
            "LinkPlata": "https://x/pay",
            "InfoStoc": [{"CodConta": "371", "Nume": "Carte", "Stoc": 3}],
        },
        IssuedInvoice(
            series="BV",
            number="001",
            link="https://x/pdf",
            payment_link="https://x/pay",
            stock=(StockInfo(account_code="371", name="Carte", stock=Decimal(3)),),
        ),
    ),
    InvoiceLink: (
        {"Numar": "001", "Serie": "BV", "Link": "https://x/pdf"},
        InvoiceLink(series="BV", number="001", link="https://x/pdf"),
    ),
    PaymentRecord: (
        {"SumaIncasata": "100.50", "DataIncasare": "2025-08-01 10:00:00", "Valuta": "RON"},
        PaymentRecord(amount=Decimal("100.50"), date=datetime.date(2025, 8, 1), currency="RON"),
    ),
    InvoiceStatus: (
        {
            "Numar": "001",
            "Serie": "BV",
            "Valoare": "167.69",
            "ValoareAchitata": 100,
            "Incasari": [
                {"SumaIncasata": 100, "DataIncasare": "2025-08-01", "Valuta": "RON"},
            ],
        },
        InvoiceStatus(
            series="BV",
            number="001",
            total=Decimal("167.69"),
            paid=Decimal(100),
            payments=(
                PaymentRecord(amount=Decimal(100), date=datetime.date(2025, 8, 1), currency="RON"),
            ),
        ),
    ),
    PaymentReceipt: (
        {
            "Incasare": {"Numar": "12", "Serie": "CH"},
            "Factura": {"Numar": "002", "Serie": "BV", "Link": "https://x/pdf"},
        },
        PaymentReceipt(
            receipt=ReceiptRef(series="CH", number="12"),
            invoice=InvoiceLink(series="BV", number="002", link="https://x/pdf"),
        ),
    ),
    Confirmation: (
        {"Success": True, "Message": "Factura a fost stearsa"},
        Confirmation(message="Factura a fost stearsa"),
    ),
    AssociatedInvoice: (
        {
            "Numar": "005",
            "Serie": "BV",
            "Valoare": "50",
            "ValoareAchitata": "0",
            "DataEmitere": "2025-08-02",
            "Link": "https://x/5",
        },
        AssociatedInvoice(
            series="BV",
            number="005",
            total=Decimal(50),
            paid=Decimal(0),
            issue_date=datetime.date(2025, 8, 2),
            link="https://x/5",
        ),
    ),
    AssociatedInvoices: (
        {"Facturi": [{"Numar": "005", "Serie": "BV"}, {"Numar": "006", "Serie": "BV"}]},
        AssociatedInvoices(
            items=(
                AssociatedInvoice(series="BV", number="005"),
                AssociatedInvoice(series="BV", number="006"),
            )
        ),
    ),
    Article: (
        {
            "Nume": "Carte",
            "PretUnitar": "19.99",
            "UM": "buc",
            "CodConta": "371",
            "CotaTva": 0.19,
            "Stoc": "-4.5",
            "CodBare": "5941234567890",
        },
        Article(
            name="Carte",
            unit_price=Decimal("19.99"),
            unit="buc",
            account_code="371",
            vat_rate=Decimal(19),
            stock=Decimal("-4.5"),
            barcode="5941234567890",
        ),
    ),
    ArticlePage: (
        {"Total": 11, "NrPagina": 2, "NrArticole": 10, "List": [{"Nume": "Carte"}]},
        ArticlePage(total=11, page=2, page_size=10, items=(Article(name="Carte"),)),
    ),
    Articles: (
        {"Success": True, "Result": [{"Nume": "A"}, {"Nume": "B"}]},
        Articles(items=(Article(name="A"), Article(name="B"))),
    ),
    ChangedArticle: (
        {
            "Nume": "Carte",
            "CodConta": "371",
            "Stoc": 7,
            "CodBare": "594",
            "UltimaUtilizare": "2025-08-01 13:14:15",
        },
        ChangedArticle(
            name="Carte",
            account_code="371",
            stock=Decimal(7),
            barcode="594",
            last_used=datetime.datetime(2025, 8, 1, 13, 14, 15),
        ),
    ),
    ChangedArticles: (
        {"Result": [{"Nume": "Carte", "UltimaUtilizare": "2025-08-01"}]},
        ChangedArticles(
            items=(ChangedArticle(name="Carte", last_used=datetime.datetime(2025, 8, 1)),)
        ),
    ),
    Warehouse: ({"CodGestiune": "G1", "Nume": "Depozit"}, Warehouse(code="G1", name="Depozit")),
    Warehouses: (
        {"List": [{"CodGestiune": "G1", "Nume": "Depozit"}]},
        Warehouses(items=(Warehouse(code="G1", name="Depozit"),)),
    ),
    CustomerRecord: (
        {
            "Nume": "Exemplu SRL",
            "CodUnic": "RO18547290",
            "NrRegCom": "J12/1/2005",
            "Email": "a@b.ro",
            "Telefon": "07",
            "Tara": "Romania",
            "Judet": "Cluj",
            "Adresa": "Str. X",
            "Banca": "BT",
            "ContBanca": "RO49AAAA1B31007593840000",
            "IdExtern": "77",
        },
        CustomerRecord(
            name="Exemplu SRL",
            tax_id="RO18547290",
            trade_register="J12/1/2005",
            email="a@b.ro",
            phone="07",
            country="Romania",
            county="Cluj",
            address="Str. X",
            bank="BT",
            bank_account="RO49AAAA1B31007593840000",
            external_id=77,
        ),
    ),
    CustomerPage: (
        {"Total": 1, "NrPagina": 1, "NrClienti": 10, "List": [{"Nume": "Exemplu SRL"}]},
        CustomerPage(total=1, page=1, page_size=10, items=(CustomerRecord(name="Exemplu SRL"),)),
    ),
    NomenclatureItem: (
        {"Nume": "Brasov", "Valoare": "BV"},
        NomenclatureItem(name="Brasov", value="BV"),
    ),
    Nomenclature: (
        {
            "Success": True,
            "List": [{"Nume": "Brasov", "Valoare": "BV"}, {"Nume": "Cluj", "Cod": "CJ"}],
        },
        Nomenclature(
            items=(
                NomenclatureItem(name="Brasov", value="BV"),
                NomenclatureItem(name="Cluj", value="CJ"),
            )
        ),
    ),
}


def _reply_models() -> set[type[Any]]:
    return {
        cls
        for name in models.__all__
        if attrs.has(cls := getattr(models, name))
        and any(RAW_KEY in f.metadata for f in attrs.fields(cls))
    }


def test_every_reply_model_has_a_case() -> None:
    assert _reply_models() == set(REPLIES)


@pytest.mark.parametrize("cls", list(REPLIES), ids=lambda cls: cls.__name__)
def test_reply_model_from_wire(cls: type[Any]) -> None:
    data, expected = REPLIES[cls]
    result = codec.from_wire(data, cls)
    assert result == expected
    assert result.raw == data
    assert result.raw is data


@pytest.mark.parametrize("cls", list(REPLIES), ids=lambda cls: cls.__name__)
def test_reply_model_from_decoded_json(cls: type[Any]) -> None:
    data, expected = REPLIES[cls]
    decoded = codec.loads_json(json.dumps(data))
    assert codec.from_wire(decoded, cls) == expected


def test_nested_results_keep_their_own_raw() -> None:
    data, _ = REPLIES[InvoiceStatus]
    status = codec.from_wire(data, InvoiceStatus)
    assert status.payments[0].raw == data["Incasari"][0]
    issued = codec.from_wire(REPLIES[IssuedInvoice][0], IssuedInvoice)
    assert issued.stock[0].raw == {"CodConta": "371", "Nume": "Carte", "Stoc": 3}


# -- tolerant decoding -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("167.69", "167.69"),
        (167, "167"),
        (Decimal("167.69"), "167.69"),
        (167.69, "167.69"),
        ("167,69", "167.69"),
        (" 1 234.5 ", "1234.5"),
        ("-3", "-3"),
    ],
)
def test_money_from_a_string_or_a_number(value: Any, expected: str) -> None:
    assert codec.from_wire({"Valoare": value}, InvoiceStatus).total == Decimal(expected)


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=2, min_value=-(10**12), max_value=10**12
    )
)
def test_money_decodes_exactly_from_text_and_json(value: Decimal) -> None:
    assert codec.from_wire({"Valoare": str(value)}, InvoiceStatus).total == value
    decoded = codec.loads_json('{"Valoare": ' + codec.format_decimal(value) + "}")
    assert codec.from_wire(decoded, InvoiceStatus).total == value


@pytest.mark.parametrize("value", ["abc", True, [1], "1,2.3"])
def test_money_that_is_not_a_number_is_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="not a number"):
        codec.from_wire({"Valoare": value}, InvoiceStatus)


@pytest.mark.parametrize("key", ["UM", "um", "Um", "uM"])
def test_key_case_does_not_matter(key: str) -> None:
    assert codec.from_wire({key: "buc", "NUME": "Carte"}, Article) == Article(
        name="Carte", unit="buc"
    )


def test_unknown_keys_are_ignored() -> None:
    article = codec.from_wire({"Nume": "Carte", "CampNou": {"x": 1}, "Altceva": [1]}, Article)
    assert article == Article(name="Carte")


@pytest.mark.parametrize("empty", [None, ""])
def test_null_and_empty_mean_absent(empty: Any) -> None:
    article = codec.from_wire({"Nume": empty, "PretUnitar": empty, "CotaTva": empty}, Article)
    assert article == Article()
    issued = codec.from_wire({"Serie": "BV", "Numar": "1", "InfoStoc": empty}, IssuedInvoice)
    assert issued.stock == ()


@pytest.mark.parametrize(
    ("value", "percent"),
    [
        (0.19, "19"),
        ("0.19", "19"),
        ("0,21", "21"),
        (0.09, "9"),
        ("0.055", "5.5"),
        (19, "19"),
        ("19.00", "19"),
        (0, "0"),
        (21, "21"),
    ],
)
def test_article_vat_fraction_becomes_a_percentage(value: Any, percent: str) -> None:
    rate = codec.from_wire({"CotaTva": value}, Article).vat_rate
    assert rate == Decimal(percent)
    assert str(rate) == percent  # written plainly: 19, not 19.00 or 1.9E+1


@pytest.mark.parametrize(
    "item",
    [
        {"Nume": "Brasov", "Valoare": "BV"},
        {"Nume": "Brasov", "Cod": "BV"},
        {"nume": "Brasov", "cod": "BV"},
    ],
)
def test_nomenclature_items_with_valoare_or_cod(item: dict[str, str]) -> None:
    assert codec.from_wire(item, NomenclatureItem) == NomenclatureItem(name="Brasov", value="BV")


def test_valoare_wins_over_cod_when_both_come() -> None:
    item = codec.from_wire({"Nume": "X", "Valoare": "V", "Cod": "C"}, NomenclatureItem)
    assert item.value == "V"


def test_numbers_where_text_is_expected_become_text() -> None:
    assert codec.from_wire({"Numar": 7, "Serie": "BV"}, InvoiceLink).number == "7"
    assert codec.from_wire({"Nume": Decimal("12.50")}, Warehouse).name == "12.50"
    with pytest.raises(ValueError, match="not text"):
        codec.from_wire({"Nume": {"x": 1}}, Warehouse)


@pytest.mark.parametrize(
    ("value", "expected"), [("11", 11), (11, 11), (Decimal("11.0"), 11), ("11,0", 11)]
)
def test_integers_from_text_or_numbers(value: Any, expected: int) -> None:
    assert codec.from_wire({"Total": value}, ArticlePage).total == expected


@pytest.mark.parametrize("value", ["11.5", True])
def test_integers_that_are_not_whole_are_refused(value: Any) -> None:
    with pytest.raises(ValueError, match=r"not an integer|not a number"):
        codec.from_wire({"Total": value}, ArticlePage)


@pytest.mark.parametrize(
    "value", ["2025-08-01", "2025-08-01 10:00:00", "2025-08-01T10:00:00", datetime.date(2025, 8, 1)]
)
def test_dates_in_the_forms_the_vendor_uses(value: Any) -> None:
    assert codec.from_wire({"DataEmitere": value}, AssociatedInvoice).issue_date == datetime.date(
        2025, 8, 1
    )


def test_date_from_a_datetime_object() -> None:
    when = datetime.datetime(2025, 8, 1, 10)
    assert codec.from_wire({"DataEmitere": when}, AssociatedInvoice).issue_date == when.date()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-08-01 13:14:15", datetime.datetime(2025, 8, 1, 13, 14, 15)),
        ("2025-08-01T13:14:15Z", datetime.datetime(2025, 8, 1, 13, 14, 15)),
        ("2025-08-01", datetime.datetime(2025, 8, 1)),
        (datetime.date(2025, 8, 1), datetime.datetime(2025, 8, 1)),
        (datetime.datetime(2025, 8, 1, 1), datetime.datetime(2025, 8, 1, 1)),
    ],
)
def test_datetimes_in_the_forms_the_vendor_uses(value: Any, expected: datetime.datetime) -> None:
    assert codec.from_wire({"UltimaUtilizare": value}, ChangedArticle).last_used == expected


@pytest.mark.parametrize("model", [ChangedArticle, AssociatedInvoice])
def test_a_date_that_is_not_a_date_is_refused(model: type[Any]) -> None:
    with pytest.raises(ValueError, match="not a date"):
        codec.from_wire({"UltimaUtilizare": 5, "DataEmitere": 5}, model)


def test_a_reply_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValueError, match="expected an object"):
        codec.from_wire(["x"], Article)


def test_a_missing_required_field_is_refused() -> None:
    with pytest.raises(KeyError, match="numar"):
        codec.from_wire({"Serie": "BV"}, IssuedInvoice)


def test_loads_json_reads_decimals_never_floats() -> None:
    data = codec.loads_json(b'{"a": 19.99, "b": 21, "c": 1e2}')
    assert data == {"a": Decimal("19.99"), "b": 21, "c": Decimal("1E+2")}
    assert isinstance(data["a"], Decimal)


def test_make_converter_gives_an_independent_converter() -> None:
    conv = codec.make_converter()
    assert conv is not codec.converter
    assert conv.to_wire(REF) == {"Serie": "BV", "Numar": "001"}
    assert conv.from_wire({"numar": "1", "serie": "BV"}, InvoiceLink).ref == InvoiceRef(
        series="BV", number="1"
    )


def test_bool_from_reply() -> None:
    conv = codec.converter
    for text in ("true", "1", "da", "yes", " True "):
        assert conv.structure(text, bool) is True
    for text in ("false", "0", "nu", "no"):
        assert conv.structure(text, bool) is False
    assert conv.structure(1, bool) is True
    assert conv.structure(Decimal(0), bool) is False
    with pytest.raises(ValueError, match="not a boolean"):
        conv.structure("poate", bool)


# -- bounded decoding: what a hostile reply cannot do ---------------------------------------------


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_up_to_the_limit_is_read() -> None:
    assert codec.loads_json(_nested(codec.MAX_DEPTH)) == json.loads(_nested(codec.MAX_DEPTH))
    deep_objects = '{"a":' * codec.MAX_DEPTH + "1" + "}" * codec.MAX_DEPTH
    assert codec.loads_json(deep_objects) is not None


@pytest.mark.parametrize(
    "text",
    [
        _nested(codec.MAX_DEPTH + 1),
        _nested(1000),  # 2 KB: RecursionError from the stdlib parser
        _nested(100_000),
        "[" * 100_000,  # never closed
        '{"a":' * 1000 + "1" + "}" * 1000,
        '{"Success": true, "Factura": ' + _nested(1000) + "}",
        '["\\\\", ' + _nested(40) + "]",  # an escaped backslash ends its string
    ],
)
def test_deep_nesting_is_refused_before_parsing(text: str) -> None:
    with pytest.raises(codec.ReplyTooComplex, match="nested"):
        codec.loads_json(text.encode())


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = json.dumps({"Message": "[" * 5000 + '\\" {{{', "List": ["]]]" * 100, "{" * 99]})
    assert codec.loads_json(text)["Message"].startswith("[[[")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-32"])
def test_nesting_is_measured_in_every_json_encoding(encoding: str) -> None:
    assert codec.loads_json('{"ș": [[1]]}'.encode(encoding)) == {"ș": [[1]]}
    with pytest.raises(codec.ReplyTooComplex):
        codec.loads_json(_nested(1000).encode(encoding))


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_numbers(text: str) -> None:
    with pytest.raises(ValueError, match="not a number"):
        codec.loads_json(f'{{"Total": {text}}}')


@pytest.mark.parametrize(
    "text",
    [
        "1e200000",
        "1E+999999",
        "-1e-200000",
        "1e100",
        "1e99999999999999999999",
        "9" * 65,
        "-" + "9" * 64,
    ],
)
def test_numbers_too_large_to_compute_with_are_refused(text: str) -> None:
    with pytest.raises(codec.ReplyTooComplex):
        codec.loads_json(f'{{"Total": {text}}}')


def test_numbers_at_the_limits_are_read() -> None:
    data = codec.loads_json(f"[1e99, -1E-99, {'9' * 64}, 0.{'1' * 62}]")
    assert data == [Decimal("1e99"), Decimal("-1e-99"), int("9" * 64), Decimal("0." + "1" * 62)]


def test_an_overlong_reply_is_refused_unread() -> None:
    body = b'{"Message": "' + b"x" * codec.MAX_REPLY_LENGTH + b'"}'
    with pytest.raises(codec.ReplyTooComplex, match="bytes"):
        codec.loads_json(body)


def test_every_refusal_is_a_value_error() -> None:
    assert issubclass(codec.ReplyTooComplex, ValueError)
    for body in (b"\xff\xfe\x00", b"{", b"<html>", b"[1,]"):
        with pytest.raises(ValueError, match=r"."):
            codec.loads_json(body)


#: Numbers a reply must not smuggle into a model: not finite, or too large to compute with.
HOSTILE_NUMBERS: list[Any] = [
    "NaN",
    "sNaN",
    "-sNaN",
    "Infinity",
    "-inf",
    "1E+999999",
    "1e-999999",
    "1e99999999999999999999",
    "9" * 100_000,
    Decimal("NaN"),
    Decimal("sNaN"),
    Decimal("Infinity"),
    Decimal("1E+200000"),
    Decimal("1E-200000"),
    float("nan"),
    float("inf"),
    10**5000,
]

#: Every numeric field of every reply model: (model, wire name).
NUMERIC_FIELDS = [
    (cls, field.metadata[WIRE_KEY])
    for cls in REPLIES
    for field in attrs.fields(attrs.resolve_types(cls))
    if field.type in (Decimal, Decimal | None, int, int | None)
]


def test_every_model_with_numbers_has_numeric_fields_listed() -> None:
    assert {cls for cls, _ in NUMERIC_FIELDS} == {
        Article,
        ArticlePage,
        ChangedArticle,
        CustomerPage,
        CustomerRecord,
        StockInfo,
        PaymentRecord,
        InvoiceStatus,
        AssociatedInvoice,
    }


@pytest.mark.parametrize(("cls", "wire_name"), NUMERIC_FIELDS, ids=str)
def test_hostile_numbers_are_refused_in_every_numeric_field(cls: type[Any], wire_name: str) -> None:
    for value in HOSTILE_NUMBERS:
        started = time.perf_counter()
        with pytest.raises(ValueError, match=r"number|integer") as caught:
            codec.from_wire({"Serie": "BV", "Numar": "1", wire_name: value}, cls)
        assert time.perf_counter() - started < 0.05, value
        assert len(str(caught.value)) < 200  # the value is described, never written out whole


@pytest.mark.parametrize("value", [Decimal("1E+99"), Decimal("-1E-99"), 10**63, "1" * 64])
def test_large_numbers_within_the_bounds_are_read(value: Any) -> None:
    assert codec.from_wire({"Valoare": value}, InvoiceStatus).total == Decimal(value)


@pytest.mark.parametrize(
    ("cls", "wire_name"),
    [(ArticlePage, "List"), (InvoiceStatus, "Incasari"), (IssuedInvoice, "InfoStoc")],
)
def test_a_string_where_a_list_belongs_is_refused_at_once(cls: type[Any], wire_name: str) -> None:
    for value in ("x" * 1_000_000, {"Nume": "A"}, 5, Decimal(1)):
        started = time.perf_counter()
        with pytest.raises(ValueError, match="expected a list") as caught:
            codec.from_wire({"Serie": "BV", "Numar": "1", wire_name: value}, cls)
        assert time.perf_counter() - started < 0.05
        assert len(str(caught.value)) < 200


def test_a_list_longer_than_the_limit_is_refused_unread() -> None:
    items = [{"Nume": "A"}] * (codec.MAX_LIST_ITEMS + 1)
    with pytest.raises(codec.ReplyTooComplex, match="items"):
        codec.from_wire({"List": items}, ArticlePage)
    assert len(codec.from_wire({"List": items[:-1]}, ArticlePage)) == codec.MAX_LIST_ITEMS


def test_a_bad_item_is_named_by_its_index() -> None:
    with pytest.raises(ValueError, match="item 1: "):
        codec.from_wire({"List": [{"Nume": "A"}, {"Stoc": "sNaN"}]}, ArticlePage)


def test_deep_or_huge_values_are_described_not_written_out() -> None:
    deep: list[Any] = []
    for _ in range(100_000):  # deeper than repr() can go
        deep = [deep]
    for value in (deep, ["x"] * 1_000_000, {"a": deep}, object()):
        with pytest.raises(ValueError, match="not text") as caught:
            codec.from_wire({"Serie": "BV", "Numar": value}, IssuedInvoice)
        assert len(str(caught.value)) < 200
    for value in (deep, ["x"] * 1_000_000, "x" * 1_000_000, object()):
        with pytest.raises(ValueError, match="expected an object") as caught:
            codec.from_wire(value, IssuedInvoice)
        assert len(str(caught.value)) < 200
