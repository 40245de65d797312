"""A shop that issues the invoice when its payment provider says an order was paid.

An aiohttp.web application with one FgoClient (and so one scheduler) for the whole process,
shared by every request: however many webhooks arrive at once, FGO sees one call at a time and
at most one invoice call per second, and each request waits its turn. The order id is sent as
``external_id`` with ``check_duplicate``, so a webhook delivered twice (payment providers do
that) cannot produce two invoices: the second gets the first invoice back.

Run it against the simulator::

    python examples/shop_webhook.py              # starts a simulator in-process too
    curl -X POST localhost:8080/webhooks/order-paid -d @examples/order.json

or against FGO's test environment, with FGO_COD_UNIC, FGO_PRIVATE_KEY, FGO_PLATFORM_URL and
FGO_ENV=test (or FGO_BASE_URL=http://127.0.0.1:8089/v1 for ``fgo simulator``) set.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from fgo_async import (
    Customer,
    Environment,
    FgoApiError,
    FgoClient,
    FgoDuplicateError,
    FgoError,
    FgoOutcomeUnknownError,
    FgoValidationError,
    Invoice,
    InvoiceLine,
)

FGO: web.AppKey[FgoClient] = web.AppKey("fgo", FgoClient)

#: How long a customer's request may wait for its turn before we answer "try later".
QUEUE_TIMEOUT = 20.0


def invoice_for(order: dict[str, Any]) -> Invoice:
    """The invoice of a paid order, as the shop's webhook describes it."""
    buyer = order["customer"]
    return Invoice(
        series=os.environ.get("SHOP_SERIES", "WEB"),
        currency="RON",
        external_id=str(order["id"]),
        check_duplicate=True,  # a webhook delivered twice must not bill twice
        customer=Customer(
            name=buyer["name"],
            type=buyer.get("type", "PF"),
            country=buyer.get("country", "Romania"),
            county=buyer.get("county"),
            locality=buyer.get("city"),
            email=buyer.get("email"),
        ),
        lines=[
            InvoiceLine(
                name=item["name"],
                quantity=item["quantity"],
                unit=item.get("unit", "buc"),
                vat_rate=item.get("vat_rate", 21),
                unit_price=str(item["unit_price"]),  # prices arrive as text: never floats
            )
            for item in order["items"]
        ],
    )


async def order_paid(request: web.Request) -> web.Response:
    """POST /webhooks/order-paid: issue the order's invoice, answer its number and PDF link."""
    try:
        order = await request.json()
        invoice = invoice_for(order)
    except (ValueError, KeyError, TypeError, FgoValidationError) as error:
        return web.json_response({"error": f"bad order: {error}"}, status=400)
    # A person is waiting behind this webhook: let it overtake batch work, but not forever.
    fgo = request.app[FGO].with_options(interactive=True, queue_timeout=QUEUE_TIMEOUT)
    try:
        issued = await fgo.issue_invoice(invoice)
    except FgoDuplicateError as error:
        # Issued by an earlier delivery of this webhook: that invoice stands.
        existing = error.existing
        found = {"series": existing.series, "number": existing.number} if existing else {}
        return web.json_response({**found, "duplicate": True})
    except FgoValidationError as error:
        return web.json_response({"error": str(error), "fields": list(error.fields)}, status=422)
    except FgoApiError as error:
        return web.json_response({"error": error.message}, status=502)
    except FgoOutcomeUnknownError as error:
        # Asking the provider to redeliver is safe: the duplicate check stops a second invoice.
        return web.json_response({"error": str(error)}, status=503)
    except FgoError as error:
        return web.json_response({"error": str(error)}, status=503)
    return web.json_response(
        {"series": issued.series, "number": issued.number, "link": issued.link}
    )


def build_app(make_client: Callable[[], FgoClient]) -> web.Application:
    """The shop's application; ``make_client`` builds its one FgoClient at start-up."""

    async def fgo_client(app: web.Application) -> AsyncIterator[None]:
        async with make_client() as client:  # closed when the application stops
            app[FGO] = client
            yield

    app = web.Application()
    app.cleanup_ctx.append(fgo_client)
    app.router.add_post("/webhooks/order-paid", order_paid)
    return app


def client_from_environment() -> FgoClient:
    """The client the environment describes (FGO_COD_UNIC, FGO_PRIVATE_KEY...)."""
    where: dict[str, Any] = (
        {"base_url": os.environ["FGO_BASE_URL"]}
        if os.environ.get("FGO_BASE_URL")
        else {"environment": Environment[os.environ.get("FGO_ENV", "test").upper()]}
    )
    return FgoClient(
        cod_unic=os.environ["FGO_COD_UNIC"],
        private_key=os.environ["FGO_PRIVATE_KEY"],
        platform_url=os.environ.get("FGO_PLATFORM_URL", "https://shop.example.ro"),
        **where,
    )


async def serve_with_a_simulator(port: int) -> None:
    """The shop on ``port``, its FGO a simulator in this process."""
    from fgo_async.simulator import FgoSimulator

    simulator = FgoSimulator(companies={"12345678": "example-key"})
    runner = web.AppRunner(build_app(simulator.client))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"shop on http://127.0.0.1:{port}/webhooks/order-paid (FGO: a simulator in-process)")
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    """Serve the shop: against the FGO the environment names, or against a simulator."""
    port = int(os.environ.get("PORT", "8080"))
    if os.environ.get("FGO_COD_UNIC"):
        web.run_app(build_app(client_from_environment), host="127.0.0.1", port=port)
    else:
        asyncio.run(serve_with_a_simulator(port))


if __name__ == "__main__":
    main()
