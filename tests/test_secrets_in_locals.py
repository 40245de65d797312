"""No frame of ours holds the key or a computed Hash as a plain local when an error is raised.

Error trackers (Sentry's default ``include_local_variables``), ``rich.traceback(show_locals=True)``
and ``traceback.TracebackException(capture_locals=True)`` record the local variables of every
frame of an error, and of its ``__cause__`` and ``__context__``. Every error path of the client
and the command line is formatted that way here, against the simulator over real HTTP where
aiohttp's own frames are involved, and neither the key nor any Hash the client computed may
appear.
"""

from __future__ import annotations

import json
import socket
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from fgo_async import FgoClient, FgoError, InvoiceRef
from fgo_async.cli import run as fgo
from fgo_async.errors import FgoConfigurationError
from fgo_async.scheduling import RetryPolicy, Scheduler
from fgo_async.signing import compute_hash
from fgo_async.simulator import FgoSimulator
from fgo_async.transport import AiohttpTransport
from tests.simulator.sim_helpers import make_invoice

COMPANY = "18547290"
KEY = "s3cret-key-that-must-never-show"
NO_RETRY = RetryPolicy(max_attempts=1)


TESTS = str(Path(__file__).resolve().parent)


def formatted(error: BaseException) -> str:
    """The error as an error tracker records it: the locals of every frame of the chain
    (``__cause__`` and ``__context__`` too), but for the frames of the tests themselves (the
    application, which holds its own key)."""
    texts = []
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        captured = traceback.TracebackException.from_exception(current, capture_locals=True)
        texts.append("".join(captured.format_exception_only()))
        for frame in captured.stack:
            if frame.filename.startswith(TESTS):
                continue
            texts.append(f"{frame.filename}:{frame.lineno} {frame.line}")
            texts.extend(f"{name}={value}" for name, value in (frame.locals or {}).items())
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        pending.extend(getattr(current, "retry_history", ()))
        cause = getattr(current, "cause", None)
        if isinstance(cause, BaseException):
            pending.append(cause)
    return "\n".join(texts)


class Secrets:
    """The key, and every Hash the transports of the test computed."""

    def __init__(self) -> None:
        self.hashes: set[str] = set()

    def watch(self, transport: AiohttpTransport) -> AiohttpTransport:
        send = transport.send

        async def recording(request: Any, *, timeout: float) -> Any:
            body = request.body.decode()
            if body.startswith("{"):
                self.hashes.add(json.loads(body)["Hash"])
            return await send(request, timeout=timeout)

        transport.send = recording  # type: ignore[method-assign]
        return transport

    def assert_absent(self, error: BaseException) -> None:
        text = formatted(error)
        assert KEY not in text
        for digest in self.hashes | {compute_hash(COMPANY, KEY, "Ionescu Popescu SRL")}:
            assert digest not in text


@pytest.fixture
async def simulator() -> Any:
    async with FgoSimulator({COMPANY: KEY}) as sim:
        yield sim


def client_of(base_url: str, secrets: Secrets) -> FgoClient:
    """A client on a transport of its own (so that it closes it), watched by ``secrets``."""
    fgo = FgoClient(
        cod_unic=COMPANY,
        private_key=KEY,
        platform_url="https://shop.example.ro",
        base_url=base_url,
        scheduler=Scheduler(retry_policy=NO_RETRY),
    )
    secrets.watch(fgo._transport)  # type: ignore[arg-type]
    return fgo


@pytest.mark.parametrize(
    "settings",
    [
        {"platform_url": "www.example.ro"},
        {"timeout": 0},
        {"wire_format": "xml"},
        {"base_url": "https://api.fgo.ro/"},
        {"environment": "prod", "base_url": None},
        {"base_url": "http://api.fgo.ro/v1"},
    ],
)
def test_a_configuration_error_holds_no_key_in_any_frame(settings: dict[str, Any]) -> None:
    options: dict[str, Any] = {
        "cod_unic": COMPANY,
        "private_key": KEY,
        "platform_url": "https://shop.example.ro",
        "base_url": "https://api.fgo.ro/v1",
        **settings,
    }
    with pytest.raises(FgoConfigurationError) as caught:
        FgoClient(**options)
    Secrets().assert_absent(caught.value)


ErrorPath = Callable[[FgoSimulator, FgoClient], Awaitable[object]]


async def _invalid(sim: FgoSimulator, fgo: FgoClient) -> object:
    return await fgo.issue_invoice(make_invoice(customer=make_invoice().customer, lines=[]))


async def _refused(sim: FgoSimulator, fgo: FgoClient) -> object:
    return await fgo.invoice_status(InvoiceRef(series="NU", number="404"))


async def _lost_reply(sim: FgoSimulator, fgo: FgoClient) -> object:
    sim.faults.script("drop-after", method="factura/emitere")
    return await fgo.issue_invoice(make_invoice())


async def _broken_reply(sim: FgoSimulator, fgo: FgoClient) -> object:
    sim.faults.script("broken-json", method="factura/emitere")
    return await fgo.issue_invoice(make_invoice())


async def _server_error(sim: FgoSimulator, fgo: FgoClient) -> object:
    sim.faults.script("502", method="factura/emitere")
    return await fgo.issue_invoice(make_invoice())


@pytest.mark.realtime
@pytest.mark.parametrize("path", [_invalid, _refused, _lost_reply, _broken_reply, _server_error])
async def test_every_error_of_a_call_holds_no_secret_in_any_frame(
    simulator: FgoSimulator, path: ErrorPath
) -> None:
    secrets = Secrets()
    async with client_of(simulator.base_url, secrets) as fgo:
        with pytest.raises(FgoError) as caught:
            await path(simulator, fgo)
    if path is not _invalid:
        assert secrets.hashes, "the call was sent and signed"
    secrets.assert_absent(caught.value)


@pytest.mark.realtime
async def test_a_connection_refused_holds_no_secret_in_any_frame() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    secrets = Secrets()
    async with client_of(f"http://127.0.0.1:{port}/v1", secrets) as fgo:
        with pytest.raises(FgoError) as caught:
            await fgo.issue_invoice(make_invoice())
    secrets.assert_absent(caught.value)


@pytest.mark.realtime
async def test_the_command_lines_errors_hold_no_secret_in_any_frame(
    simulator: FgoSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every error the ``fgo`` command turns into one line, caught where it is reported."""
    seen: list[BaseException] = []
    from fgo_async.cli import app

    report = app.describe

    def keep(error: BaseException, *args: Any, **kwargs: Any) -> Any:
        seen.append(error)
        return report(error, *args, **kwargs)

    monkeypatch.setattr(app, "describe", keep)
    monkeypatch.setenv("FGO_COD_UNIC", COMPANY)
    monkeypatch.setenv("FGO_PRIVATE_KEY", KEY)
    monkeypatch.setenv("FGO_BASE_URL", simulator.base_url)
    monkeypatch.setenv("FGO_PLATFORM_URL", "https://shop.example.ro")
    monkeypatch.chdir(tmp_path)
    order = tmp_path / "order.json"
    order.write_text("{}", encoding="utf-8")
    runs = [
        ["status", "NU", "404"],  # refused by the vendor
        ["issue", str(order)],  # an invoice file that is not an invoice
        ["status", "NU", "1", "--base-url", "ftp://x/v1"],  # a configuration error
        ["status", "NU", "1", "--base-url", "http://127.0.0.1:9/v1"],  # connection refused
    ]
    for argv in runs:
        assert await fgo(argv) != 0
    assert len(seen) >= len(runs) - 1
    for error in seen:
        Secrets().assert_absent(error)
