"""Fixtures of the journal's tests: an in-process simulator, and where the journal's file goes."""

from __future__ import annotations

from pathlib import Path

import pytest

from fgo_async.simulator import FgoSimulator
from fgo_async.testing import TEST_COMPANY, TEST_PRIVATE_KEY


@pytest.fixture
def sim() -> FgoSimulator:
    """A simulator with the test company, reached in-process (it works on virtual time)."""
    return FgoSimulator({TEST_COMPANY: TEST_PRIVATE_KEY}, seed=3)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """The journal's file, in the test's own directory."""
    return tmp_path / "journal.sqlite"
