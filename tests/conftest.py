"""Fixtures shared by the tests; the fixtures fgo_async ships for its users are used here too."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses

pytest_plugins = ["fgo_async.testing"]

# aiohttp 3.14 added a required ``stream_writer`` argument to ClientResponse, which
# aioresponses 0.7.9 (the latest release) does not pass: pnuckowski/aioresponses#289.
# Its responses are built after the request was "sent", so a writer reporting 0 bytes is
# all aiohttp reads from it.
_NEEDS_STREAM_WRITER = "stream_writer" in inspect.signature(aiohttp.ClientResponse).parameters


class _CompatResponse(aiohttp.ClientResponse):
    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        if _NEEDS_STREAM_WRITER:
            kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


class CompatAioresponses(aioresponses):
    """aioresponses with the response class above as its default."""

    def add(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("response_class") is None:
            kwargs["response_class"] = _CompatResponse
        super().add(*args, **kwargs)


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    """Every aiohttp request of the test answered by aioresponses: nothing reaches a network."""
    with CompatAioresponses() as mock:
        yield mock
