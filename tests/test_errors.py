"""The exception tree of errors.py, and what each error tells its catcher."""

from __future__ import annotations

import pytest

from fgo_async import errors
from fgo_async.errors import (
    CallIdentity,
    FgoApiError,
    FgoAuthenticationError,
    FgoClosedError,
    FgoConfigurationError,
    FgoConnectError,
    FgoConnectionLostError,
    FgoDecodeError,
    FgoDuplicateError,
    FgoError,
    FgoIssueTimeoutError,
    FgoJournalError,
    FgoNotFoundError,
    FgoOutcomeUnknownError,
    FgoQueueFullError,
    FgoQueueTimeoutError,
    FgoRateLimitedError,
    FgoServerError,
    FgoTimeoutError,
    FgoTransportError,
    FgoValidationError,
    FgoValidationWarning,
    Problem,
)

#: The tree drawn in the docstring of errors.py: each error and its parent.
TREE = {
    FgoConfigurationError: FgoError,
    FgoValidationError: FgoError,
    FgoApiError: FgoError,
    FgoAuthenticationError: FgoApiError,
    FgoNotFoundError: FgoApiError,
    FgoIssueTimeoutError: FgoApiError,
    FgoRateLimitedError: FgoApiError,
    FgoDuplicateError: FgoApiError,
    FgoTransportError: FgoError,
    FgoConnectError: FgoTransportError,
    FgoTimeoutError: FgoTransportError,
    FgoConnectionLostError: FgoTransportError,
    FgoServerError: FgoTransportError,
    FgoDecodeError: FgoError,
    FgoOutcomeUnknownError: FgoError,
    FgoQueueTimeoutError: FgoError,
    FgoQueueFullError: FgoQueueTimeoutError,
    FgoJournalError: FgoError,
    FgoClosedError: FgoError,
}


@pytest.mark.parametrize("cls", list(TREE), ids=lambda cls: cls.__name__)
def test_the_tree(cls: type[FgoError]) -> None:
    assert issubclass(cls, TREE[cls])
    assert cls.__name__ in (errors.__doc__ or "")


def test_every_exported_error_is_in_the_tree() -> None:
    exported = {
        getattr(errors, name)
        for name in errors.__all__
        if isinstance(getattr(errors, name), type) and issubclass(getattr(errors, name), FgoError)
    }
    assert exported == set(TREE) | {FgoError}


def test_configuration_and_validation_errors_are_value_errors() -> None:
    assert issubclass(FgoConfigurationError, ValueError)
    assert issubclass(FgoValidationError, ValueError)
    assert issubclass(FgoValidationWarning, UserWarning)


IDENTITY = CallIdentity(method="factura/emitere", company="18547290", series="BV", external_id="7")


@pytest.mark.parametrize(
    ("error", "known"),
    [
        (FgoError("x"), True),
        (FgoApiError("x", identity=IDENTITY), True),
        (FgoIssueTimeoutError("x", code=2), True),
        (FgoRateLimitedError("x", retry_after=3.0), True),
        (FgoDuplicateError("x"), True),
        (FgoConnectError("x"), True),
        (FgoTransportError("x", sent=False), True),
        (FgoTransportError("x"), False),
        (FgoTimeoutError("x"), False),
        (FgoConnectionLostError("x"), False),
        (FgoServerError("x", status=502), False),
        (FgoDecodeError("x"), False),
        (FgoOutcomeUnknownError("x"), False),
        (FgoQueueTimeoutError("x"), True),
        (FgoClosedError("x"), True),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_outcome_known(error: FgoError, known: bool) -> None:
    assert error.outcome_known is known


def test_sent_flags() -> None:
    assert FgoConnectError("x").sent is False
    assert FgoConnectError("x", sent=True).sent is True
    assert FgoTimeoutError("x").sent is True
    assert FgoServerError("x", status=500).sent is True


def test_call_errors_say_which_call() -> None:
    error = FgoApiError("Seria nu exista", identity=IDENTITY, status=200, raw={"Success": False})
    assert error.method == "factura/emitere"
    assert str(error) == "factura/emitere company 18547290 BV (IdExtern 7): Seria nu exista"
    assert error.message == "Seria nu exista"
    assert FgoApiError("x").method is None
    assert str(FgoApiError("x")) == "x"


@pytest.mark.parametrize(
    ("identity", "text"),
    [
        (CallIdentity(method="articol/gestiune"), "articol/gestiune"),
        (CallIdentity(method="factura/print", number="001"), "factura/print 001"),
        (
            CallIdentity(
                method="factura/emitere", company="1", customer_name="Ion", external_id="9"
            ),
            "factura/emitere company 1 (IdExtern 9, Ion)",
        ),
        (
            CallIdentity(method="factura/print", series="BV", number="001"),
            "factura/print BV-001",
        ),
    ],
)
def test_call_identity_describe(identity: CallIdentity, text: str) -> None:
    assert identity.describe() == text


def test_outcome_unknown_carries_its_cause() -> None:
    cause = FgoConnectionLostError("reset", identity=IDENTITY)
    error = FgoOutcomeUnknownError("lost", identity=IDENTITY, cause=cause)
    assert error.cause is cause
    assert error.identity is IDENTITY
    assert error.retry_history == ()


def test_validation_error_lists_every_problem() -> None:
    problems = [
        Problem(field="series", rule="required", message="is required", wire_name="Serie"),
        Problem(field="lines[2].unit_price", rule="one_price", message="give one"),
    ]
    error = FgoValidationError(problems, model="Invoice")
    assert error.problems == tuple(problems)
    assert error.fields == ("series", "lines[2].unit_price")
    assert str(error) == (
        "Invoice is not valid: series: is required; lines[2].unit_price: give one"
    )
    assert str(FgoValidationError([])) == "invalid input: "
    assert error.outcome_known


def test_validation_warning_carries_its_problem() -> None:
    problem = Problem(field="customer.tax_id", rule="cnp_check_digit", message="bad", warning=True)
    warning = FgoValidationWarning(problem)
    assert warning.problem is problem
    assert str(warning) == "customer.tax_id: bad"
