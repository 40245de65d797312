"""The simulator over HTTP: an aiohttp.web application around :meth:`FgoSimulator.handle`.

Routes:

- ``/v1/<controller>/<method>``: the vendor's API (``POST`` methods, nomenclators by ``GET`` or
  ``POST``); any other path is answered by the simulator too, as an unknown method (HTTP 404 with
  the vendor's JSON), so that a client never meets a reply of another shape by mistake.
- ``GET /v1/document/<token>.pdf``: the PDF a document's ``Link`` points to (a one-page stand-in).
- ``/_simulator/...``: control and inspection for tools other than Python: ``GET calls``,
  ``GET summary``, ``GET faults``, ``POST faults`` (a rule as JSON), ``DELETE faults``.

A body larger than :data:`~fgo_async.simulator.core.MAX_BODY` is refused with HTTP 413 and the
vendor's JSON shape, as :meth:`FgoSimulator.handle` refuses it in-process.

A fault that drops the connection closes it, before or after the call was processed. The server
binds to loopback unless told otherwise, with ``allow_remote``: it has no authentication of its
own beyond the vendor's hash.
"""

from __future__ import annotations

import json
import socket
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..transport import is_loopback
from .core import MAX_BODY, SimulatedDisconnect
from .encoding import dumps_reply
from .faults import FaultRule

if TYPE_CHECKING:
    from .core import FgoSimulator

__all__ = ["API_PREFIX", "SimulatorServer", "build_app"]

#: Where the API is served, as the vendor serves it under ``https://api.fgo.ro/v1``.
API_PREFIX = "/v1"

_SIMULATOR_KEY: web.AppKey[FgoSimulator] = web.AppKey("fgo_simulator")

# A tiny valid PDF: enough for a client that downloads and checks the link.
_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _vendor_json(status: int, message: str) -> web.Response:
    return web.Response(
        status=status,
        body=dumps_reply({"Success": False, "Message": message}),
        content_type="application/json",
        charset="utf-8",
    )


async def _api(request: web.Request) -> web.StreamResponse:
    simulator = request.app[_SIMULATOR_KEY]
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _vendor_json(413, f"Cerere invalida: corpul cererii depaseste {MAX_BODY} octeti.")
    try:
        reply = await simulator.handle(
            request.method, request.path, dict(request.query), dict(request.headers), body
        )
    except SimulatedDisconnect:
        if request.transport is not None:
            request.transport.close()
        # Nothing reaches the client: its connection is already closed.
        raise web.HTTPInternalServerError() from None
    return web.Response(status=reply.status, headers=dict(reply.headers), body=reply.body)


async def _document(request: web.Request) -> web.StreamResponse:
    simulator = request.app[_SIMULATOR_KEY]
    document = simulator.document_for_link(request.match_info["token"])
    if document is None:
        return _vendor_json(404, "Documentul nu exista.")
    return web.Response(body=_PDF, content_type="application/pdf")


def _json(data: Any, status: int = 200) -> web.Response:
    # Control data holds floats (times, probabilities): the stdlib writer, Decimals as text.
    return web.Response(
        status=status, text=json.dumps(data, default=str), content_type="application/json"
    )


async def _calls(request: web.Request) -> web.StreamResponse:
    simulator = request.app[_SIMULATOR_KEY]
    listed = [
        {
            "index": c.index,
            "method": c.method,
            "company": c.company,
            "bucket": None if c.bucket is None else c.bucket.value,
            "arrival": c.arrival,
            "reply_time": c.reply_time,
            "status": c.status,
            "outcome": c.outcome.value,
            "message": c.message,
            "fault": c.fault,
            "overlap": c.overlap,
            "rate_violation": c.rate_violation,
        }
        for c in simulator.calls
    ]
    return _json(listed)


async def _summary(request: web.Request) -> web.StreamResponse:
    summary = request.app[_SIMULATOR_KEY].summary()
    return _json(
        {
            "calls": summary.calls,
            "rate_violations": summary.rate_violations,
            "overlaps": summary.overlaps,
            "throttled": summary.throttled,
            "outcomes": {k.value: v for k, v in summary.outcomes.items()},
        }
    )


async def _faults(request: web.Request) -> web.StreamResponse:
    simulator = request.app[_SIMULATOR_KEY]
    if request.method == "DELETE":
        simulator.faults.clear()
    elif request.method == "POST":
        try:
            data = json.loads(await request.read())
            rule = simulator.faults.add(FaultRule.from_mapping(data))
        except (ValueError, TypeError) as error:
            return _json({"error": str(error)}, status=400)
        return _json(rule.describe(), status=201)
    return _json([rule.describe() for rule in simulator.faults.rules])


def build_app(simulator: FgoSimulator) -> web.Application:
    """The aiohttp application serving ``simulator``."""
    app = web.Application(client_max_size=MAX_BODY)
    app[_SIMULATOR_KEY] = simulator
    app.router.add_get(f"{API_PREFIX}/document/{{token}}.pdf", _document)
    app.router.add_get("/_simulator/calls", _calls)
    app.router.add_get("/_simulator/summary", _summary)
    app.router.add_route("*", "/_simulator/faults", _faults)
    # Last: the API, and every other path answered as an unknown method.
    app.router.add_route("*", "/{path:.*}", _api)
    return app


class SimulatorServer:
    """Runs the application on one socket; ``port=0`` picks a free port."""

    def __init__(
        self, simulator: FgoSimulator, *, host: str, port: int, allow_remote: bool = False
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(
                f"the simulator serves loopback only; {host!r} would expose it "
                "(pass allow_remote=True, or --allow-remote, to mean it)"
            )
        self.simulator = simulator
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1`` once started."""
        if self._base_url is None:
            raise RuntimeError("the server is not started")
        return self._base_url

    async def start(self) -> None:
        """Bind and serve."""
        info = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(info[0], socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(info[4])
        except OSError:
            sock.close()
            raise
        # Calls still being processed at shutdown are cancelled quickly: it is a test server.
        runner = web.AppRunner(build_app(self.simulator), access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        self._runner = runner
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        self._base_url = f"http://{shown}:{port}{API_PREFIX}"

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
