"""The exit statuses of ``fgo``, and the one line that tells a person what went wrong.

=====  =====================================================================================
0      done
1      an unexpected error (a bug: ``--debug`` shows the traceback; please report it)
2      the command line or the configuration is wrong
3      the input is not valid (checked locally: nothing was sent)
4      the vendor refused (its message is shown)
5      the vendor could not be reached, or the call could not be sent: nothing was done
6      the outcome is unknown: the vendor may have done it; reconcile before trying again
130    interrupted (Ctrl-C)
143    stopped by SIGTERM (a process manager, a container stop, ``timeout``)
=====  =====================================================================================

``fgo batch`` stops alike on Ctrl-C and on SIGTERM: the calls in flight finish and are recorded,
the queued ones are not sent; a second Ctrl-C or SIGTERM abandons the calls in flight.

``fgo batch`` exits with the highest status among its lines (0 when every line is issued).
"""

from __future__ import annotations

import enum
import signal

from ..errors import (
    FgoApiError,
    FgoClosedError,
    FgoConfigurationError,
    FgoDecodeError,
    FgoDuplicateError,
    FgoError,
    FgoOutcomeUnknownError,
    FgoQueueTimeoutError,
    FgoServerError,
    FgoTransportError,
    FgoValidationError,
    Problem,
)

__all__ = ["CliError", "ExitStatus", "describe", "exit_status_of"]


class ExitStatus(enum.IntEnum):
    """What the exit status of ``fgo`` means."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    INVALID = 3
    REFUSED = 4
    UNREACHABLE = 5
    UNKNOWN = 6
    INTERRUPTED = 130
    TERMINATED = 143

    @classmethod
    def stopped_by(cls, signum: int) -> ExitStatus:
        """The status of a process stopped by signal ``signum``: 130 for SIGINT, 143 for SIGTERM."""
        return cls.TERMINATED if signum == signal.SIGTERM else cls.INTERRUPTED


class CliError(Exception):
    """An error of the command itself (a file that cannot be read...), with its exit status."""

    def __init__(self, message: str, status: ExitStatus = ExitStatus.USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def exit_status_of(error: BaseException) -> ExitStatus:
    """The exit status an error ends ``fgo`` with."""
    if isinstance(error, CliError):
        return error.status
    if isinstance(error, FgoConfigurationError):
        return ExitStatus.USAGE
    if isinstance(error, FgoValidationError):
        return ExitStatus.INVALID
    if isinstance(error, FgoApiError):
        return ExitStatus.REFUSED
    if isinstance(error, FgoOutcomeUnknownError):
        return ExitStatus.UNKNOWN
    if isinstance(error, (FgoTransportError, FgoDecodeError, FgoQueueTimeoutError, FgoClosedError)):
        # A read whose reply was lost changes nothing: it is as if it had not been sent.
        return ExitStatus.UNREACHABLE
    return ExitStatus.FAILURE


def _problem(problem: Problem) -> str:
    wire = f", {problem.wire_name} for the vendor" if problem.wire_name else ""
    return f"{problem.field}: {problem.message} (rule {problem.rule}{wire})"


def describe(error: BaseException) -> str:
    """One line for a person: which field and rule, what the vendor said, what to do."""
    if isinstance(error, CliError):
        return error.message
    if isinstance(error, FgoValidationError):
        what = f"{error.model} is not valid" if error.model else "invalid input"
        problems = "; ".join(_problem(p) for p in error.problems)
        return f"{what}, nothing was sent: {problems}"
    if isinstance(error, FgoDuplicateError):
        existing = f" as {error.existing}" if error.existing is not None else ""
        return f"already issued{existing}, the vendor refused a second one: {error}"
    if isinstance(error, FgoApiError):
        status = f" (HTTP {error.status})" if error.status not in (None, 200) else ""
        return f"the vendor refused{status}: {error}"
    if isinstance(error, FgoOutcomeUnknownError):
        return (
            f"outcome unknown, the vendor may have done it: {error}. Reconcile before trying "
            "again (README: Reconciling an unknown outcome)"
        )
    if isinstance(error, FgoServerError):
        return f"the vendor's server failed (HTTP {error.status}): {error}"
    if isinstance(error, FgoTransportError):
        return f"could not reach the vendor: {error}"
    if isinstance(error, FgoError):
        return str(error)
    return f"unexpected error: {type(error).__name__}: {error} (run with --debug for details)"
