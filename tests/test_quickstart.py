"""The README opens with a quick start of exactly two commands, and CI runs the second one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quick_start() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return block.strip().splitlines()


def test_two_commands_install_and_demo_then_nox() -> None:
    first, second = quick_start()
    assert "pip install '.[cli]'" in first
    assert first.endswith("fgo demo")
    assert second.endswith("nox")


def test_the_layout_keeps_the_sections_others_write() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    headings = [line for line in readme.splitlines() if line.startswith("## ")]
    assert headings[0] == "## Quick start"
    for heading in (
        "## What the scheduler guarantees",
        "## Benchmarks",
        "## Public API",
        "## Models and wire names",
        "## The simulator: a local FGO",
    ):
        assert heading in headings


def test_ci_runs_nox() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert script.rstrip().endswith("CI=true .ci/venv/bin/nox")


def test_nox_tests_every_python_the_package_declares() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    declared = re.findall(r'"Programming Language :: Python :: (3\.\d+)"', pyproject)
    noxfile = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    matrix = ast.literal_eval(noxfile.split("\nPYTHONS = ", 1)[1].split("\n", 1)[0])
    assert matrix == declared == ["3.10", "3.11", "3.12", "3.13"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "nox runs the tests on\nPython 3.10, 3.11, 3.12 and 3.13" in readme
