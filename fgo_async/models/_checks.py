"""What every request field accepts: converters for the convenient inputs, validators for the rest.

The attrs way: a field's converter turns a convenient input into its type (``"19.99"`` into a
Decimal, ``"2025-08-01"`` into a date, any iterable of lines into a tuple) and leaves anything
else as it is; the field's validator then refuses a value of the wrong kind with
:class:`~fgo_async.errors.FgoValidationError`, one :class:`~fgo_async.errors.Problem` naming the
field, the rule and the vendor's name of the field. Both run on construction and in
``attrs.evolve``, so a request of the wrong shape never exists, let alone gets queued.

What is checked here is the kind of each value. Whether the values make a request the vendor
accepts (lengths, check digits, one price per line...) is for
:func:`fgo_async.validation.find_problems`, which reports every such problem of a request at
once. So a required text or date left as ``None`` passes here, and is reported there as
``required`` beside the request's other problems.

Each function starts with the case that holds for valid input: a 20-line invoice runs about two
hundred of them.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from ..errors import FgoValidationError, Problem
from ._fields import WIRE_KEY, DecimalInput

__all__ = [
    "MAX_EXPONENT",
    "boolean",
    "date",
    "date_time",
    "decimal",
    "describe",
    "instance_of",
    "integer",
    "refusal",
    "text",
    "to_date",
    "to_date_time",
    "to_decimal",
    "to_tuple",
    "tuple_of",
    "type_problems",
]

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]

#: A number beyond ``1E±99`` is refused: the vendor keeps prices as XXXX.XX, and the text of a
#: Decimal such as ``1E+999999999`` would take a gigabyte.
MAX_EXPONENT = 99
#: Integers are the vendor's 64-bit integers.
_INT_LIMIT = 2**63
#: Text longer than this is not read as a number or a date at all.
_LONGEST_NUMBER_TEXT = 100
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?([+-]\d{2}:\d{2})?"
)


def describe(value: Any) -> str:
    """A short description of a value for an error message: never a huge or failing ``repr``.

    The text is taken with the base type's own methods, so that a subclass's ``__repr__``
    cannot run (nor raise) here.
    """
    if isinstance(value, str):
        text = str.__str__(value)
        return repr(text) if len(text) <= 40 else f"{text[:40]!r}... ({len(text)} characters)"
    if value is None or isinstance(value, bool):
        return repr(bool(value)) if value is not None else "None"
    if isinstance(value, int):
        return int.__repr__(value) if value.bit_length() <= 128 else "a very large integer"
    if isinstance(value, (Decimal, float)):
        shown = Decimal.__str__(value) if isinstance(value, Decimal) else float.__repr__(value)
        return shown if len(shown) <= 40 else f"{shown[:40]}... (a number)"
    if isinstance(value, datetime.date):
        return value.isoformat() if type(value) in (datetime.date, datetime.datetime) else "a date"
    kind = type(value).__name__
    return f"{'an' if kind[:1] in 'aeiouAEIOU' else 'a'} {kind}"


def _wire_name(owner: Any, field: attrs.Attribute[Any]) -> str | None:
    name = field.metadata.get(WIRE_KEY)
    if name is None:
        return None  # a reference sent as two flat keys has no single name
    parent = getattr(owner, "_wire_parent", None)  # Client, for the fields of a Customer
    return f"{parent}[{name}]" if parent else str(name)


def refusal(
    owner: Any, field: attrs.Attribute[Any], rule: str, message: str, *, index: int | None = None
) -> FgoValidationError:
    """The error refusing the value of ``field`` of the model ``owner``.

    ``index`` names an item of a list field: ``lines[2]``, on the wire ``Continut[2]``.
    """
    name, wire_name = field.name, _wire_name(owner, field)
    if index is not None:
        name = f"{name}[{index}]"
        wire_name = f"{wire_name}[{index}]" if wire_name else None
    problem = Problem(field=name, rule=rule, message=message, wire_name=wire_name)
    return FgoValidationError([problem], model=type(owner).__name__)


def _optional(field: attrs.Attribute[Any]) -> bool:
    """True for a field whose default is None: None is then a value, not a missing one."""
    return field.default is None


def _kind(value: Any) -> str:
    return type(value).__name__


# -- converters: the convenient inputs, converted; anything else left for the validator ----------


def to_decimal(value: DecimalInput | None) -> Any:
    """A Decimal from an int or a decimal string (``" 19.99 "``); anything else unchanged."""
    if isinstance(value, str) and len(value) <= _LONGEST_NUMBER_TEXT:
        try:
            return Decimal(value)  # which ignores surrounding spaces
        except InvalidOperation:
            return value
    if type(value) is int and value.bit_length() <= 4 * MAX_EXPONENT:  # not a bool
        return Decimal(value)
    return value


def to_date(value: datetime.date | str | None) -> Any:
    """A date from a ``"yyyy-mm-dd"`` string or a datetime (its day); anything else unchanged."""
    if isinstance(value, datetime.datetime):
        return value.date()  # a datetime cannot be compared with a date: the due date check
    if isinstance(value, str) and len(value) <= _LONGEST_NUMBER_TEXT:
        day = value.strip()
        if _DATE.fullmatch(day):
            try:
                return datetime.date.fromisoformat(day)
            except ValueError:  # 2025-02-30
                return value
    return value


def to_date_time(value: datetime.datetime | datetime.date | str | None) -> Any:
    """A datetime from a date (its midnight) or an ISO string such as ``"2025-08-01 10:30:00"``.

    Anything else is left unchanged.
    """
    if isinstance(value, datetime.datetime) or value is None:
        return value
    if isinstance(value, datetime.date):
        return datetime.datetime.combine(value, datetime.time())
    if isinstance(value, str) and len(value) <= _LONGEST_NUMBER_TEXT:
        moment = value.strip()
        if moment.endswith("Z"):  # Python 3.10 reads "+00:00", not "Z"
            moment = moment[:-1] + "+00:00"
        if _DATE_TIME.fullmatch(moment):
            try:
                return datetime.datetime.fromisoformat(moment)
            except ValueError:  # 2025-02-30, 25:00
                return value
    return value


def to_tuple(value: Any) -> Any:
    """A tuple of the items of any iterable but a string or a mapping; anything else unchanged."""
    if isinstance(value, (tuple, str, bytes, Mapping)):
        return value
    if isinstance(value, Iterable):
        return tuple(value)
    return value


# -- validators: the value of each field is of its kind, or the field is named in an error -------


def text(owner: Any, field: attrs.Attribute[Any], value: Any) -> None:
    """Validator of a text field: a ``str`` (or None, which find_problems reports if required)."""
    if isinstance(value, str) or value is None:
        return
    raise refusal(owner, field, "string", f"must be a string, not {_kind(value)}")


def boolean(owner: Any, field: attrs.Attribute[Any], value: Any) -> None:
    """Validator of a boolean field: ``True`` or ``False``, never ``"yes"`` or ``1``."""
    if value is True or value is False or (value is None and _optional(field)):
        return
    raise refusal(owner, field, "bool", f"must be True or False, not {describe(value)}")


def integer(owner: Any, field: attrs.Attribute[Any], value: Any) -> None:
    """Validator of an integer field: an ``int`` between -2**63 and 2**63, not a bool or float."""
    if type(value) is int and -_INT_LIMIT < value < _INT_LIMIT:
        return
    if value is None:
        if _optional(field):
            return
        raise refusal(owner, field, "required", "is required")
    if isinstance(value, int) and not isinstance(value, bool):
        raise refusal(owner, field, "integer", f"{describe(value)} is out of range")
    raise refusal(owner, field, "integer", f"must be a whole number (int), not {describe(value)}")


def decimal(owner: Any, field: attrs.Attribute[Any], value: Any) -> None:
    """Validator of a money or quantity field: a finite Decimal within ``1E±99``.

    A float is refused, not guessed at (``19.99`` as a float is not 19.99), and so is a bool.
    """
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise refusal(owner, field, "decimal", f"{describe(value)} is not a finite number")
        if not -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
            raise refusal(owner, field, "decimal", f"{describe(value)} is beyond 1E±99")
        return
    if value is None:
        if _optional(field):
            return
        raise refusal(owner, field, "required", "is required")
    if isinstance(value, (bool, float)):
        raise refusal(
            owner,
            field,
            "decimal",
            f"a {_kind(value)} is not accepted here; "
            "pass a Decimal, an int or a string such as '19.99'",
        )
    if isinstance(value, (str, int)):  # what to_decimal could not read
        raise refusal(owner, field, "decimal", f"{describe(value)} is not a number")
    raise refusal(owner, field, "decimal", f"a {_kind(value)} is not a number")


def date(owner: Any, field: attrs.Attribute[Any], value: Any) -> None:
    """Validator of a date field: a ``date``, not a ``datetime`` (:func:`to_date` takes its day)."""
    if (isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)) or (
        value is None
    ):
        return
    message = f"must be a date or a 'yyyy-mm-dd' string, not {describe(value)}"
    raise refusal(owner, field, "date", message)


def date_time(owner: Any, field: attrs.Attribute[Any], value: Any) -> None:
    """Validator of a date-and-time field: a ``datetime``."""
    if isinstance(value, datetime.datetime) or value is None:
        return
    message = f"must be a datetime or a 'yyyy-mm-dd hh:mm:ss' string, not {describe(value)}"
    raise refusal(owner, field, "datetime", message)


def instance_of(cls: type[Any]) -> Validator:
    """Validator of a field holding one model of ``cls`` (a customer, an invoice reference)."""
    noun = cls.__name__

    def check(owner: Any, field: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, cls):
            return
        if value is None:
            if _optional(field):
                return
            raise refusal(owner, field, "required", f"is required (a {noun})")
        raise refusal(owner, field, "type", f"must be a {noun}, not {describe(value)}")

    check.__name__ = f"instance_of_{noun}"
    return check


def tuple_of(cls: type[Any]) -> Validator:
    """Validator of a field holding several ``cls`` (after :func:`to_tuple`).

    An item of another kind is named by its index: ``lines[2]``.
    """
    noun = cls.__name__

    def check(owner: Any, field: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, tuple):
            if value is None:
                raise refusal(owner, field, "required", f"is required (a list of {noun})")
            message = f"must be a list of {noun}, not {describe(value)}"
            raise refusal(owner, field, "type", message)
        for index, item in enumerate(value):
            if not isinstance(item, cls):
                message = f"must be a {noun}, not {describe(item)}"
                raise refusal(owner, field, "type", message, index=index)

    check.__name__ = f"tuple_of_{noun}"
    return check


def type_problems(model: Any) -> list[Problem]:
    """The problems the validators of ``model``'s fields find in it now.

    A model built normally has none; one built with attrs' validators disabled, or altered
    behind its back, may. Field names are the model's own (``unit_price``, ``lines[2]``).
    """
    problems: list[Problem] = []
    for name, validator, field in _validators_of(type(model)):
        try:
            validator(model, field, getattr(model, name))
        except FgoValidationError as error:
            problems.extend(error.problems)
    return problems


_VALIDATORS: dict[type[Any], tuple[tuple[str, Validator, attrs.Attribute[Any]], ...]] = {}


def _validators_of(cls: type[Any]) -> tuple[tuple[str, Validator, attrs.Attribute[Any]], ...]:
    found = _VALIDATORS.get(cls)
    if found is None:
        found = tuple((f.name, f.validator, f) for f in attrs.fields(cls) if f.validator)
        _VALIDATORS[cls] = found
    return found
