"""The project's sessions. ``nox`` runs tests, lint and typecheck; ``nox -s bench`` benchmarks."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.default_venv_backend = "venv"

# Every Python we support, from the oldest (3.10) to the newest (3.13).
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

TEST_DEPS = [
    "pytest",
    "pytest-asyncio",
    "aioresponses",
    "hypothesis",
    "coverage[toml]",
    # The SDK's in-memory exporter and reader, and the aiohttp instrumentation the library must
    # not trace twice with.
    "opentelemetry-sdk",
    "opentelemetry-instrumentation-aiohttp-client",
    # The "Lock + aiolimiter" alternative, run on the virtual clock.
    "aiolimiter",
]
#: Every optional part of the package: the tests exercise them all.
EXTRAS = ".[cli,redis,otel]"


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite, with a coverage report (fails under 90 %).

    The tests that time the event loop's pauses run after, outside coverage: its tracing
    makes the code several times slower than it is. The Redis tests need Debian's
    ``redis-server`` on the PATH (``.ci/run`` installs it).
    """
    session.install("-e", EXTRAS, *TEST_DEPS)
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", "-m", "not timing", *session.posargs)
    session.run("coverage", "report", "--fail-under=90")
    session.run("pytest", "-m", "timing", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package, with its extras (fgo_async.testing imports pytest)."""
    session.install("-e", EXTRAS, "mypy", "pytest", "pytest-asyncio")
    session.run("mypy", "--strict", "fgo_async")


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks under benchmarks/: each prints its table of figures."""
    # aiolimiter: the "Lock + aiolimiter" alternative a user would write, measured beside ours.
    session.install("-e", ".", "aiolimiter")
    for script in sorted(__import__("pathlib").Path("benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)
