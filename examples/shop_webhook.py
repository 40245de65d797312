"""A shop that issues the invoice when its payment provider says an order was paid.

An aiohttp.web application with one FgoClient for the whole process, built at start-up and
shared by every request; its calls go through the event loop's scheduler: however many webhooks
arrive at once, FGO sees one call at a time and at most one invoice call per second, and each
request waits its turn.

``POST /webhooks/order-paid`` issues the order's invoice. The order id goes as ``external_id``
with ``check_duplicate``, so a webhook delivered twice (payment providers do that) cannot bill
twice: the second delivery is refused by FGO as a duplicate, and answered with the invoice
that stands. A reply lost on the way is retried, and the retry finds the invoice the lost
attempt made. An order whose outcome stays unknown is recorded for reconciliation (here in
memory; a real shop keeps it in its database) and never issued again blindly.
``GET /invoices/{series}/{number}`` answers an invoice's total and amount paid, or 404.

Run it against the simulator::

    python examples/shop_webhook.py              # starts a simulator in-process too
    curl -X POST localhost:8080/webhooks/order-paid -d @examples/order.json
    curl localhost:8080/invoices/WEB/001

or against FGO's test environment, with FGO_COD_UNIC, FGO_PRIVATE_KEY, FGO_PLATFORM_URL and
FGO_ENV=test (or FGO_BASE_URL=http://127.0.0.1:8089/v1 for ``fgo simulator``) set.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from fgo_async import (
    CallIdentity,
    Customer,
    FgoAuthenticationError,
    FgoClient,
    FgoDuplicateError,
    FgoError,
    FgoNotFoundError,
    FgoOutcomeUnknownError,
    FgoQueueTimeoutError,
    FgoValidationError,
    Invoice,
    InvoiceLine,
    InvoiceRef,
)

logger = logging.getLogger("shop")

#: The shop's one client: a view of it whose calls are interactive, with a queue timeout.
FGO: web.AppKey[FgoClient] = web.AppKey("fgo", FgoClient)
#: The orders whose invoice may or may not exist: order id -> what identifies the call.
TO_RECONCILE: web.AppKey[dict[str, CallIdentity | None]] = web.AppKey("to_reconcile", dict)

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
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
        # Not an order at all. (An order whose invoice is not valid raises
        # FgoValidationError, which fgo_errors answers with 400 and the fields.)
        return web.json_response({"error": f"bad order: {error!r}"}, status=400)
    try:
        issued = await request.app[FGO].issue_invoice(invoice)
    except FgoDuplicateError as error:
        # Issued by an earlier delivery of this webhook: that invoice stands.
        existing = error.existing
        found = {"series": existing.series, "number": existing.number} if existing else {}
        return web.json_response({**found, "link": error.existing_link, "duplicate": True})
    except FgoOutcomeUnknownError as error:
        # FGO may have issued it: record the order to be looked up, never issue it blindly.
        request.app[TO_RECONCILE][str(order["id"])] = error.identity
        logger.warning("order %s: outcome unknown, to reconcile: %s", order["id"], error)
        return web.json_response({"status": "to reconcile"}, status=202)
    return web.json_response(
        {
            "series": issued.series,
            "number": issued.number,
            "link": issued.link,
            # True when a lost reply was retried and FGO's duplicate check found the invoice.
            "deduplicated": issued.deduplicated,
        }
    )


async def invoice_status(request: web.Request) -> web.Response:
    """GET /invoices/{series}/{number}: the invoice's total and the amount paid."""
    ref = InvoiceRef(series=request.match_info["series"], number=request.match_info["number"])
    status = await request.app[FGO].invoice_status(ref)
    return web.json_response({"total": str(status.total), "paid": str(status.paid)})


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def fgo_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The answer to each error that no handler took."""
    try:
        return await handler(request)
    except FgoValidationError as error:  # found locally: nothing was sent
        return web.json_response({"error": str(error), "fields": error.fields}, status=400)
    except FgoNotFoundError as error:  # no such invoice at FGO
        return web.json_response({"error": error.message}, status=404)
    except FgoQueueTimeoutError:  # no turn within QUEUE_TIMEOUT: nothing was sent
        return web.json_response(
            {"error": "busy, try later"}, status=503, headers={"Retry-After": "30"}
        )
    except FgoAuthenticationError:  # the CUI, the key or the API user: fix the configuration
        logger.exception("FGO refused the shop's credentials")  # an alert, in a real shop
        return web.json_response({"error": "invoicing is not configured"}, status=500)
    except FgoError as error:  # refused, or failed, at the vendor: what it said
        return web.json_response({"error": error.message}, status=502)


def build_app(make_client: Callable[[], FgoClient]) -> web.Application:
    """The shop's application; ``make_client`` builds its one FgoClient at start-up."""

    async def fgo_client(app: web.Application) -> AsyncIterator[None]:
        async with make_client() as client:  # closed when the application stops
            # A person waits behind every request: overtake batch work, but not forever.
            # (Never asyncio.wait_for around a call: cancelled in flight, its outcome is
            # unknown; a queue timeout only ever expires calls that were not sent.)
            app[FGO] = client.with_options(interactive=True, queue_timeout=QUEUE_TIMEOUT)
            yield

    app = web.Application(middlewares=[fgo_errors])
    app[TO_RECONCILE] = {}
    app.cleanup_ctx.append(fgo_client)
    app.router.add_post("/webhooks/order-paid", order_paid)
    app.router.add_get("/invoices/{series}/{number}", invoice_status)
    return app


def client_from_environment() -> FgoClient:
    """The client the environment describes (FGO_COD_UNIC, FGO_PRIVATE_KEY...)."""
    where: dict[str, Any] = (
        {"base_url": os.environ["FGO_BASE_URL"]}
        if os.environ.get("FGO_BASE_URL")
        else {"environment": os.environ.get("FGO_ENV", "test")}  # or "production"
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
