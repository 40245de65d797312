"""Which journal instances are alive: a lock file per instance, held while it lives.

A row left ``sending`` by a process that died must be recovered; one held by a process that is
still sending must be left alone. Each open journal holds an exclusive ``flock`` on a file of
its own next to the database; the kernel releases it when the process ends, however it ends
(``kill -9`` included). Another instance that can take that lock knows its owner is gone.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from pathlib import Path
from typing import IO

__all__ = ["OwnerLock", "owners_dir"]

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: only this instance is known to be alive
    fcntl = None  # type: ignore[assignment]


def owners_dir(database: Path) -> Path:
    """The directory of the owners' lock files of a journal database."""
    return database.with_name(database.name + ".owners")


class OwnerLock:
    """This journal instance's token and the lock that says it is alive."""

    def __init__(self, database: Path) -> None:
        self.directory = owners_dir(database)
        self.token = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"
        self._file: IO[bytes] | None = None

    def acquire(self) -> None:
        """Create and lock this instance's file (raises OSError when it cannot)."""
        self.directory.mkdir(exist_ok=True)
        file = (self.directory / f"{self.token}.lock").open("wb")
        if fcntl is not None:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._file = file

    def release(self) -> None:
        """Unlock and remove this instance's file."""
        if self._file is None:
            return
        with contextlib.suppress(OSError):
            (self.directory / f"{self.token}.lock").unlink()
        self._file.close()
        self._file = None

    def alive(self, token: str | None) -> bool:
        """True when the instance ``token`` may still be running."""
        if token is None:
            return False
        if token == self.token:
            return self._file is not None
        if fcntl is None or not token.startswith(socket.gethostname() + "-"):
            return True  # cannot tell: never take over another machine's calls
        path = self.directory / f"{token}.lock"
        try:
            file = path.open("rb")
        except FileNotFoundError:
            return False
        with file:
            try:
                fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            # Nobody held it: its owner ended without removing it (kill -9). Tidy up.
            with contextlib.suppress(OSError):
                path.unlink()
            return False
