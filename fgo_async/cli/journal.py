"""The results file of ``fgo batch``: one JSON line per outcome, appended as each arrives.

::

    {"line": 1, "key": "1042", "cod_unic": "12345678", "status": "issued", "series": "BV",
     "number": "0001", "link": "https://...", "at": "2025-03-01 10:00:01"}
    {"line": 2, "key": "#2", "cod_unic": "12345678", "status": "failed", "error":
     "FgoApiError", "message": "...", "outcome_known": true, "exit_status": 4, "at": "..."}
    {"line": 3, "key": "1044", "cod_unic": "12345678", "status": "unknown", "error":
     "FgoOutcomeUnknownError", "message": "...", "outcome_known": false, "exit_status": 6, ...}

``status`` is ``issued``, ``failed`` (the vendor refused, or the input was invalid: nothing was
issued, a rerun tries again) or ``unknown`` (the reply was lost: the invoice may exist; a rerun
leaves it alone until it is reconciled). A line's latest record is the one that counts. Each
record is written with one ``write``, flushed and synced before the next call's outcome, so a
crash loses at most the record being written. A complete last record whose newline was lost gets
its newline before the next run appends; a last line cut short mid-record is refused rather than
guessed at, since that line may have said "issued".
"""

from __future__ import annotations

import contextlib
import datetime
import enum
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import attrs

from .exits import CliError

__all__ = ["Journal", "Record", "Status", "read_results", "records"]

#: Bytes read at a time, from the end, to find the results file's last line.
_TAIL_BLOCK = 4096


class Status(str, enum.Enum):
    """Where an order of the batch stands."""

    ISSUED = "issued"
    FAILED = "failed"
    UNKNOWN = "unknown"


def _now() -> str:
    return datetime.datetime.now().replace(microsecond=0).isoformat(sep=" ")


@attrs.frozen(kw_only=True)
class Record:
    """One outcome of one order of the batch."""

    line: int
    key: str
    cod_unic: str
    status: Status = attrs.field(converter=Status)
    series: str | None = None
    number: str | None = None
    link: str | None = None
    error: str | None = None
    message: str | None = None
    outcome_known: bool | None = None
    exit_status: int | None = None
    note: str | None = None
    at: str = attrs.field(factory=_now)

    @property
    def identity(self) -> tuple[str, str]:
        """The company and key of the order."""
        return self.cod_unic, self.key

    def to_json(self) -> str:
        """The record as one JSON line (without its newline); absent fields are left out."""
        data = {k: v for k, v in attrs.asdict(self).items() if v is not None}
        data["status"] = self.status.value
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Record:
        """A record from its JSON line; raises ValueError."""
        data: Any = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        try:
            return cls(**data)
        except TypeError as error:
            raise ValueError(str(error)) from None


def read_results(path: Path) -> dict[tuple[str, str], Record]:
    """The latest record of each order in the results file (none when it does not exist)."""
    latest: dict[tuple[str, str], Record] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return latest
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"cannot read results file {path}: {error}") from None
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = Record.from_json(line)
        except ValueError:
            torn = number == len(lines)  # no newline after it: the run died writing it
            why = "was cut short when a run was killed" if torn else "cannot be read"
            raise CliError(
                f"line {number} of {path} {why}: it may record an invoice that was issued. "
                "Check that order in FGO, then fix or remove the line and run again"
            ) from None
        latest[record.identity] = record
    return latest


class Journal:
    """Appends records to the results file, each flushed to disk before the next.

    Holds an exclusive lock on the file while open (POSIX), so that two runs of one batch
    cannot both issue its orders.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def __enter__(self) -> Journal:
        try:
            self._file = self.path.open("a", encoding="utf-8")
        except OSError as error:
            raise CliError(f"cannot write results file {self.path}: {error.strerror}") from None
        try:
            _lock(self._file)
        except BlockingIOError:
            self._file.close()
            raise CliError(
                f"another fgo batch is writing {self.path}; wait for it to end"
            ) from None
        self._end_last_line()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._file is not None:
            self._file.close()  # closing releases the lock
            self._file = None

    def append(self, record: Record) -> None:
        """Write ``record`` and push it to the disk."""
        self._write(record.to_json() + "\n")

    def _write(self, text: str) -> None:
        assert self._file is not None, "use the journal in a with block"
        self._file.write(text)
        self._file.flush()
        os.fsync(self._file.fileno())

    def _end_last_line(self) -> None:
        # A run killed between a record and its newline leaves a complete last record without
        # one: the next record would be glued to it, and the file refused after. A last line
        # cut mid-record is left as it is, for read_results to refuse.
        last = _unended_last_line(self.path)
        if last is None:
            return
        try:
            Record.from_json(last)
        except ValueError:
            return
        self._write("\n")


def _unended_last_line(path: Path) -> str | None:
    """The file's last line when no newline ends it; None when one does or the file is empty."""
    with path.open("rb") as file:
        end = file.seek(0, os.SEEK_END)
        if end == 0:
            return None
        file.seek(end - 1)
        if file.read(1) == b"\n":
            return None
        # Read back in blocks to the previous newline: the file holds a whole batch's records.
        tail, position = b"", end
        while position > 0 and b"\n" not in tail:
            step = min(_TAIL_BLOCK, position)
            position -= step
            file.seek(position)
            tail = file.read(step) + tail
    return tail.rpartition(b"\n")[2].decode("utf-8", errors="replace")


def _lock(file: IO[str]) -> None:
    with contextlib.suppress(ImportError):
        import fcntl

        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def records(path: Path) -> Iterator[Record]:
    """Every record of the results file, in order (for tests and reports)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield Record.from_json(line)
