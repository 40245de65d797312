"""What ``fgo`` shows a person: tables of results and progress bars, drawn with rich.

Only the CLI imports this module, and only once it knows rich is installed (the ``cli`` extra):
the library itself never imports rich. Results are turned into plain data by
:mod:`fgo_async.plain` first (Python field names, Decimals as exact text), then laid out: an
object as a table of fields and values, a list of objects as a table with a column per field.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from .. import plain

__all__ = ["ProgressBar", "console", "progress_bar", "show_result", "table_of_rows"]


def console(*, stderr: bool = False) -> Console:
    """A console on the current stdout (or stderr); plain text when it is not a terminal."""
    return Console(file=sys.stderr if stderr else sys.stdout, highlight=False)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


def _flatten(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{name}.")
        else:
            yield name, value


def table_of_rows(rows: Sequence[Mapping[str, Any]], title: str | None = None) -> Table:
    """A table with a column per key (nested objects as ``a.b`` columns) and a row per item."""
    flat = [dict(_flatten(row)) for row in rows]
    columns = list(dict.fromkeys(key for row in flat for key in row))
    # A column nobody has a value in is noise in a terminal (the JSON output keeps it).
    columns = [c for c in columns if any(row.get(c) not in (None, [], "") for row in flat)]
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in flat:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    return table


def _tables_of_object(data: Mapping[str, Any], title: str | None) -> list[Table]:
    fields = Table(title=title, title_justify="left", show_header=False)
    fields.add_column("field", style="bold")
    fields.add_column("value", overflow="fold")
    lists: list[Table] = []
    for name, value in _flatten(data):
        if isinstance(value, list):
            if value and isinstance(value[0], Mapping):
                lists.append(table_of_rows(value, title=name))
            elif value:
                fields.add_row(name, ", ".join(_cell(v) for v in value))
        elif value is not None:
            fields.add_row(name, _cell(value))
    return [fields, *lists] if fields.row_count else lists


def show_result(out: Console, result: Any, *, title: str | None = None) -> None:
    """Print a result (a model, or a list of models) as tables."""
    data = plain.unstructure(result)
    if isinstance(data, list):
        if not data:
            out.print("(none)")
            return
        out.print(table_of_rows(data, title=title))
        return
    if isinstance(data, Mapping) and set(data) == {"items"}:
        show_result(out, list(getattr(result, "items", ())), title=title)
        return
    tables = _tables_of_object(data, title) if isinstance(data, Mapping) else []
    if not tables:
        out.print("done" if data in ({}, None) else _cell(data))
    for table in tables:
        out.print(table)


class _RateColumn(ProgressColumn):
    """Outcomes per second, as measured over the last moments."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("   -  /s" if speed is None else f"{speed:5.2f}/s")


class ProgressBar:
    """One progress bar: ``advance()`` as outcomes arrive, ``describe()`` to change its text."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task

    def advance(self, steps: int = 1) -> None:
        """Count ``steps`` more outcomes."""
        self._progress.advance(self._task, steps)

    def describe(self, text: str) -> None:
        """Change the text in front of the bar."""
        self._progress.update(self._task, description=text)


@contextmanager
def progress_bar(out: Console, description: str, total: int) -> Iterator[ProgressBar]:
    """A progress bar with the count, the rate and the time left, shown while the block runs."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        TimeElapsedColumn(),
        console=out,
        transient=False,
    )
    with progress:
        yield ProgressBar(progress, progress.add_task(description, total=total))
