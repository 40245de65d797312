"""Models to and from plain JSON under their Python field names: batch files, ``fgo --json``.

:mod:`fgo_async.codec` speaks the vendor's names (``Client``, ``Continut``); people and files
speak the models' own (``{"series": "BV", "customer": {...}, "lines": [...]}``). This is that
second converter, built the cattrs way as the wire one is (:func:`make_converter` makes a
:class:`PlainConverter`, :func:`configure_converter` registers the hooks):

- **In** (:func:`structure`, :func:`loads`): a key that is not a field is refused, so that a
  misspelt ``"unitprice"`` cannot silently drop a price; money is a Decimal, an int or a decimal
  string, never a float (:func:`loads` reads JSON numbers as Decimals, exactly); dates are
  ``yyyy-mm-dd``, date-times ``yyyy-mm-dd hh:mm:ss``. Every problem becomes a
  :class:`~fgo_async.errors.Problem` with its field path (``lines[1].unit_price``), all of them
  in one :class:`~fgo_async.errors.FgoValidationError`.
- **Out** (:func:`unstructure`, :func:`dumps`): every field under its Python name, Decimals as
  exact strings (``"19.99"``: most JSON readers would turn a number into a float), dates in ISO
  form, and the vendor's ``raw`` reply left out.
"""

from __future__ import annotations

import datetime
import enum
import json
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import attrs
from cattrs import Converter
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from . import codec
from .errors import FgoValidationError, Problem
from .models import CustomerType
from .models._fields import RAW_KEY, WIRE_KEY

__all__ = [
    "PlainConverter",
    "configure_converter",
    "converter",
    "dumps",
    "loads",
    "make_converter",
    "structure",
    "unstructure",
]

T = TypeVar("T")

#: The field path of a problem with the whole object (not an object at all, for instance).
_TOP = "(top level)"


class PlainConverter(Converter):
    """A cattrs converter between the models and JSON data under the models' field names."""

    def load(self, data: Any, cls: type[T]) -> T:
        """A model from decoded JSON; raises FgoValidationError naming every bad field."""
        try:
            return self.structure(data, cls)
        except FgoValidationError as error:
            raise FgoValidationError(error.problems, model=cls.__name__) from None
        except (ClassValidationError, IterableValidationError) as error:
            problems = list(_problems(error, ""))
            raise FgoValidationError(problems, model=cls.__name__) from None
        except (TypeError, ValueError) as error:
            problem = Problem(field=_TOP, rule="type", message=str(error))
            raise FgoValidationError([problem], model=cls.__name__) from None


# ---------------------------------------------------------------------------------------------
# In


def _decimal(value: Any, _: Any = None) -> Decimal:
    if isinstance(value, (bool, float)):
        # A float is not money: 19.99 as a float is not 19.99. loads() never makes one.
        raise ValueError(f"{value!r} is not accepted; write a number or a string such as '19.99'")
    if isinstance(value, (Decimal, int)):
        return Decimal(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
        if number.is_finite():
            return number
    raise ValueError(f"{value!r} is not a number")


def _text(value: Any, _: Any = None) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # an order id written as 1042 means "1042"
    raise ValueError(f"{value!r} is not text")


def _integer(value: Any, _: Any = None) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ValueError(f"{value!r} is not a whole number")


def _boolean(value: Any, _: Any = None) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"{value!r} is not true or false")


def _date(value: Any, _: Any = None) -> datetime.date:
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date (yyyy-mm-dd)")


def _datetime(value: Any, _: Any = None) -> datetime.datetime:
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date and time (yyyy-mm-dd hh:mm:ss)")


def _customer_type(value: Any, _: Any = None) -> CustomerType:
    try:
        return CustomerType(str(value).strip().upper())
    except ValueError:
        raise ValueError(f"{value!r} is not a customer type; use 'PF' or 'PJ'") from None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _problems(error: BaseException, path: str) -> Iterator[Problem]:
    """The problems of a cattrs error tree, each with the field path it happened at."""
    if isinstance(error, IterableValidationError):
        indexed, loose = error.group_exceptions()
        for inner, item in indexed:
            yield from _problems(inner, f"{path}[{item.index}]")
        for inner in loose:
            yield from _problems(inner, path)
    elif isinstance(error, ClassValidationError):
        named, loose = error.group_exceptions()
        for inner, attribute in named:
            yield from _problems(inner, _join(path, attribute.name))
        for inner in loose:
            yield from _problems(inner, path)
    elif isinstance(error, ForbiddenExtraKeysError):
        known = ", ".join(f.name for f in attrs.fields(error.cl))
        for key in sorted(error.extra_fields):
            yield Problem(
                field=_join(path, key),
                rule="unknown-field",
                message=f"not a field of {error.cl.__name__} (its fields: {known})",
            )
    elif isinstance(error, KeyError):
        yield Problem(field=path, rule="required", message="is required")
    elif isinstance(error, FgoValidationError):
        # A model refused a value on construction and named its own field: lines[0] + unit_price.
        for problem in error.problems:
            yield attrs.evolve(problem, field=_join(path, problem.field))
    else:
        yield Problem(field=path or _TOP, rule="type", message=str(error))


# ---------------------------------------------------------------------------------------------
# Out


def _decimal_out(value: Decimal) -> str:
    # Exact, without an exponent, trailing zeros kept: "167.00" stays "167.00".
    return format(value, "f")


def _date_out(value: datetime.date) -> str:
    return value.isoformat()


def _datetime_out(value: datetime.datetime) -> str:
    return value.isoformat(sep=" ")


def _enum_out(value: enum.Enum) -> Any:
    return value.value


def _is_model(cls: Any) -> bool:
    return attrs.has(cls) and any(
        WIRE_KEY in f.metadata or RAW_KEY in f.metadata for f in attrs.fields(cls)
    )


def _structure_factory(conv: PlainConverter) -> Callable[[Any], Callable[[Any, Any], Any]]:
    def factory(cls: Any) -> Callable[[Any, Any], Any]:
        generated = make_dict_structure_fn(cls, conv, _cattrs_forbid_extra_keys=True)

        def structure_object(data: Any, _: Any) -> Any:
            if not isinstance(data, Mapping):
                raise ValueError(f"expected an object for {cls.__name__}, got {data!r}")
            return generated(data, cls)

        return structure_object

    return factory


def _unstructure_factory(conv: PlainConverter) -> Callable[[Any], Callable[[Any], Any]]:
    def factory(cls: Any) -> Callable[[Any], Any]:
        omitted: dict[str, Any] = {
            f.name: override(omit=True) for f in attrs.fields(cls) if RAW_KEY in f.metadata
        }
        return make_dict_unstructure_fn(cls, conv, **omitted)

    return factory


def configure_converter(conv: PlainConverter) -> None:
    """Register the plain-JSON hooks on ``conv``."""
    conv.register_structure_hook(Decimal, _decimal)
    conv.register_structure_hook(str, _text)
    conv.register_structure_hook(int, _integer)
    conv.register_structure_hook(bool, _boolean)
    conv.register_structure_hook(datetime.datetime, _datetime)
    conv.register_structure_hook(datetime.date, _date)
    conv.register_structure_hook(CustomerType, _customer_type)
    conv.register_unstructure_hook(Decimal, _decimal_out)
    conv.register_unstructure_hook(datetime.datetime, _datetime_out)
    conv.register_unstructure_hook(datetime.date, _date_out)
    conv.register_unstructure_hook(CustomerType, _enum_out)
    conv.register_structure_hook_factory(_is_model, _structure_factory(conv))
    conv.register_unstructure_hook_factory(_is_model, _unstructure_factory(conv))


def make_converter() -> PlainConverter:
    """A new plain-JSON converter; unknown keys are refused."""
    conv = PlainConverter(forbid_extra_keys=True)
    configure_converter(conv)
    return conv


#: The converter the library uses.
converter = make_converter()


def structure(data: Any, cls: type[T]) -> T:
    """A model from decoded JSON under Python names; raises FgoValidationError."""
    return converter.load(data, cls)


def unstructure(value: Any) -> Any:
    """Plain JSON data of a model (or a list of them): Python names, Decimals as strings."""
    return converter.unstructure(value)


def loads(text: str | bytes) -> Any:
    """Decode JSON, reading every number with a fraction as a Decimal (never a float).

    Bounded as the replies are (:func:`fgo_async.codec.loads_json`): text nested too deep, or a
    number such as ``1e200000`` or ``NaN``, is a ``ValueError`` like any text that is not JSON.
    """
    return codec.loads_json(text)


def dumps(value: Any, *, indent: int | None = None) -> str:
    """JSON text of a model or of plain data (see :func:`unstructure`)."""
    return json.dumps(unstructure(value), ensure_ascii=False, indent=indent)
