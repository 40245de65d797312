"""The example of SPEC.md, end to end through the client and a mock transport."""

from __future__ import annotations

import json

from fgo_async import Customer, Environment, FgoClient, Invoice, InvoiceLine
from fgo_async.protocol import Request
from fgo_async.transport import MockTransport, RawResponse


def issued(request: Request) -> RawResponse:
    reply = {"Success": True, "Message": "", "Factura": {"Numar": "001", "Serie": "BV"}}
    return RawResponse(status=200, body=json.dumps(reply).encode())


async def test_spec_example_is_signed_with_the_vendor_hash() -> None:
    transport = MockTransport(issued)
    async with FgoClient(
        cod_unic="2864518",
        private_key="1234567890",
        platform_url="https://shop.example.ro",
        environment=Environment.TEST,
        transport=transport,
    ) as fgo:
        invoice = Invoice(
            series="BV",
            customer=Customer(
                name="Ionescu Popescu", type="PF", country="Romania", county="Brasov"
            ),
            lines=[
                InvoiceLine(name="Carte", quantity=1, unit="buc", vat_rate=21, unit_price="19.99")
            ],
        )
        result = await fgo.issue_invoice(invoice)

    assert result.ref.number == "001"
    body = transport.requests[0].body.decode()
    assert json.loads(body)["Hash"] == "8C3A7726804C121C6933F7D68494B439463996E2"
    assert '"CotaTVA":21' in body
    assert '"PretUnitar":19.99' in body
