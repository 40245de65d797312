"""The project's sessions. ``nox`` runs tests, lint and typecheck; ``nox -s bench`` benchmarks."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.default_venv_backend = "venv"

# Every Python we support, from the oldest (3.10) to the newest (3.13).
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

TEST_DEPS = ["pytest", "pytest-asyncio", "aioresponses", "hypothesis", "coverage[toml]"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite, with a coverage report (fails under 90 %)."""
    session.install("-e", ".[cli]", *TEST_DEPS)
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "report", "--fail-under=90")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package (fgo_async.testing imports pytest and pytest-asyncio)."""
    session.install("-e", ".[cli]", "mypy", "pytest", "pytest-asyncio")
    session.run("mypy", "--strict", "fgo_async")


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks under benchmarks/: each prints its table of figures."""
    # aiolimiter: the "Lock + aiolimiter" alternative a user would write, measured beside ours.
    session.install("-e", ".", "aiolimiter")
    for script in sorted(__import__("pathlib").Path("benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)
