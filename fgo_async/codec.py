"""Models to the vendor's wire payloads and back, with one cattrs converter.

Built the way ``cattrs.preconf`` builds its converters: :func:`make_converter` makes a
:class:`WireConverter` and :func:`configure_converter` registers the hooks, so that a user can
configure a converter of their own the same way. The field names come from the ``wire`` metadata
of the models, never from a second table.

Going out (:func:`to_wire`): English names become the vendor's names, unset optional fields are
left out, nested references the vendor wants flat (``NumarFactura``) are flattened, dates become
``yyyy-mm-dd`` (``yyyy-mm-dd hh:mm:ss`` for a datetime), and decimals stay ``Decimal`` until
:func:`dumps_json` or :func:`encode_form` writes them exactly: a JSON number with no float on the
way and no exponent, a whole number without a fraction (``21``, never ``21.0``).

Coming back (:func:`from_wire`): tolerant, as the vendor is loose. Keys match without regard to
case (``UM``/``um``), unknown keys are ignored, money comes from a string or a number, empty
strings and nulls mean "absent", the article VAT fraction ``0.19`` becomes ``19``, and every
reply model keeps the mapping it came from in ``raw``.

Bounded (:func:`loads_json`, :func:`from_wire`): a reply is the vendor's, or whoever answers in
its place, so a hostile one must cost little. A reply longer than :data:`MAX_REPLY_LENGTH` or
nested deeper than :data:`MAX_DEPTH` is refused before it is parsed, and a number longer than
:data:`MAX_NUMBER_LENGTH` or beyond ``1E±99`` as soon as it is met (:class:`ReplyTooComplex`);
``NaN`` and ``Infinity`` are not numbers. A list longer than :data:`MAX_LIST_ITEMS`, a number out
of bounds or a value of the wrong kind is refused at once, never walked through nor converted at
length. Every refusal is a ``ValueError``; what is read is always safe to ``repr`` and compare.
"""

from __future__ import annotations

import datetime
import enum
import itertools
import json
import re
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from json.encoder import encode_basestring
from typing import Any, Literal, TypeVar
from urllib.parse import urlencode

import attrs
from cattrs import Converter
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .models import CustomerType
from .models._checks import MAX_EXPONENT, describe
from .models._fields import (
    ALIASES_KEY,
    FLATTEN_KEY,
    FRACTION_PERCENT_KEY,
    LOCAL_KEY,
    RAW_KEY,
    WIRE_KEY,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_LIST_ITEMS",
    "MAX_NUMBER_LENGTH",
    "MAX_REPLY_LENGTH",
    "ReplyTooComplex",
    "WireConverter",
    "WireFormat",
    "configure_converter",
    "converter",
    "dig",
    "dumps_json",
    "encode_body",
    "encode_form",
    "flatten_form",
    "format_decimal",
    "from_wire",
    "loads_json",
    "make_converter",
    "to_wire",
]

T = TypeVar("T")

#: How a POST body is encoded: JSON (the default) or the older bracket form encoding.
WireFormat = Literal["json", "form"]

_RAW_SLOT = "\x00raw"  # a key no vendor reply can hold, carrying the reply into the raw field
_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"

#: The longest reply read, in bytes: a page of 10,000 articles is about 1.5 MB.
MAX_REPLY_LENGTH = 4_000_000
#: How deep a reply may nest lists and objects; the vendor's replies nest four deep at most.
MAX_DEPTH = 32
#: The most items a list of a reply may hold (a page of articles or customers, a nomenclator).
MAX_LIST_ITEMS = 10_000
#: The longest number read, in characters, whether a JSON number or a number written as text.
MAX_NUMBER_LENGTH = 64
#: Integers read stay below 2**212 (64 digits), so that their text and arithmetic stay cheap.
_MAX_INT_BITS = 212
#: Longer than any date and time the vendor writes ("2025-08-01T10:00:00.000000+03:00").
_LONGEST_DATETIME = 64


class ReplyTooComplex(ValueError):
    """A reply refused unread: too long, nested too deep, or holding a number too long or large.

    Reading it could exhaust the stack or hold the event loop for seconds; the vendor never
    sends such a reply.
    """


class WireConverter(Converter):
    """A cattrs converter that speaks the FGO wire format."""

    def to_wire(self, model: Any) -> dict[str, Any]:
        """The wire dict of a request model (see :func:`to_wire`)."""
        result = self.unstructure(model)
        if not isinstance(result, dict):
            raise TypeError(f"{type(model).__name__} is not a request model")
        return result

    def from_wire(self, data: Any, cls: type[T]) -> T:
        """A reply model from a decoded reply (see :func:`from_wire`)."""
        return self.structure(data, cls)


# ---------------------------------------------------------------------------------------------
# Scalars


def format_decimal(value: Decimal) -> str:
    """The exact text of a decimal as the vendor wants it: no exponent, no ``.0`` on whole numbers.

    >>> [format_decimal(Decimal(text)) for text in ("21.0", "1E+2", "19.99")]
    ['21', '100', '19.99']
    """
    if not value.is_finite():
        raise ValueError(f"{value} cannot be sent: only finite numbers can")
    if value.is_zero():
        return "0"
    if value == value.to_integral_value():
        return format(value.to_integral_value(), "f")
    return format(value, "f")


def _bounded(number: Decimal, value: Any) -> Decimal:
    """``number`` when it is finite and within ``1E±99``, so that arithmetic on it stays cheap.

    Many digits cost little (they are read and written in linear time); only a large exponent
    turns into minutes when the number becomes an int or is written out.
    """
    if not number.is_finite():
        raise ValueError(f"{describe(value)} is not a finite number")
    if not -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT:
        raise ValueError(f"{describe(value)} is too large or too small to be a number here")
    return number


def _decimal_from_reply(value: Any, _: Any = None) -> Decimal:
    if isinstance(value, Decimal):
        return _bounded(value, value)
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int):
        if value.bit_length() > _MAX_INT_BITS:
            raise ValueError(f"{describe(value)} is too large to be a number here")
        return Decimal(value)
    if isinstance(value, float):
        # json.loads is told to give Decimals; a float only arrives from a caller's own dict.
        return _bounded(Decimal(repr(value)), value)
    if isinstance(value, str):
        if len(value) > MAX_NUMBER_LENGTH:
            raise ValueError(f"{describe(value)} is too long to be a number")
        text = value.strip().replace(" ", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")  # "167,69": the Romanian decimal comma
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{describe(value)} is not a number") from None
        return _bounded(number, value)
    raise ValueError(f"{describe(value)} is not a number")


def _percent_from_fraction(value: Any, _: Any = None) -> Decimal:
    rate = _decimal_from_reply(value)
    # The vendor sends 19 and answers 0.19; a rate below 1 % is not a rate Romania has ever had,
    # so anything strictly between 0 and 1 is read as a fraction.
    if 0 < abs(rate) < 1:
        rate = rate * 100
    return _plain(rate)


def _plain(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent form: ``19.00`` -> ``19``."""
    if value == value.to_integral_value():
        return Decimal(int(value))
    return value.normalize()


def _bool_from_reply(value: Any, _: Any = None) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, Decimal)):
        return bool(_decimal_from_reply(value))
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "da", "yes"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "0", "nu", "no"}:
        return False
    raise ValueError(f"{describe(value)} is not a boolean")


def _int_from_reply(value: Any, _: Any = None) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not an integer")
    if isinstance(value, int):
        if value.bit_length() > _MAX_INT_BITS:
            raise ValueError(f"{describe(value)} is too large to be an integer here")
        return value
    number = _decimal_from_reply(value)
    if number != number.to_integral_value():
        raise ValueError(f"{describe(value)} is not an integer")
    return int(number)


def _str_from_reply(value: Any, _: Any = None) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return format_decimal(_decimal_from_reply(value))
    raise ValueError(f"{describe(value)} is not text")


def _date_from_reply(value: Any, _: Any = None) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        # "2025-02-02", "2025-02-02 10:00:00" and "2025-02-02T10:00:00" all occur.
        try:
            return datetime.date.fromisoformat(value.strip()[:10])
        except ValueError:
            raise ValueError(f"{describe(value)} is not a date") from None
    raise ValueError(f"{describe(value)} is not a date")


def _datetime_from_reply(value: Any, _: Any = None) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, datetime.date):
        return datetime.datetime.combine(value, datetime.time())
    if isinstance(value, str) and len(value) <= _LONGEST_DATETIME:
        text = value.strip()
        try:
            if len(text) == 10:
                return datetime.datetime.combine(datetime.date.fromisoformat(text), datetime.time())
            return datetime.datetime.fromisoformat(text.replace(" ", "T", 1).rstrip("Z"))
        except ValueError:
            pass
    raise ValueError(f"{describe(value)} is not a date and time")


def _enum_value(value: enum.Enum) -> Any:
    return value.value


def _date_to_wire(value: datetime.date) -> str:
    # A datetime is a date to the type checker; the vendor wants the day alone all the same.
    return value.isoformat()[:10]


def _datetime_to_wire(value: datetime.datetime) -> str:
    return value.strftime(_DATETIME_FORMAT)


def _decimal_to_wire(value: Decimal) -> Decimal:
    # Kept as a Decimal so that the writer, not a float, decides its text.
    return _plain(value) if value == value.to_integral_value() else value


# ---------------------------------------------------------------------------------------------
# Models


def _is_wire_model(cls: Any) -> bool:
    # Every field of a model names its wire key (or is flattened, the raw reply, or local).
    return attrs.has(cls) and all(
        WIRE_KEY in f.metadata
        or FLATTEN_KEY in f.metadata
        or RAW_KEY in f.metadata
        or LOCAL_KEY in f.metadata
        for f in attrs.fields(cls)
    )


def _unstructure_factory(conv: WireConverter) -> Callable[[Any], Callable[[Any], Any]]:
    def factory(cls: Any) -> Callable[[Any], Any]:
        overrides: dict[str, Any] = {}
        flattened: list[tuple[str, dict[str, str]]] = []
        for field in attrs.fields(cls):
            if FLATTEN_KEY in field.metadata:
                flattened.append((field.name, field.metadata[FLATTEN_KEY]))
                overrides[field.name] = override(omit=True)
            elif RAW_KEY in field.metadata or LOCAL_KEY in field.metadata:
                overrides[field.name] = override(omit=True)
            else:
                overrides[field.name] = override(
                    rename=field.metadata[WIRE_KEY],
                    omit_if_default=field.default is None,
                )
        generated = make_dict_unstructure_fn(cls, conv, **overrides)
        if not flattened:
            return generated

        def unstructure_flattening(model: Any) -> dict[str, Any]:
            result: dict[str, Any] = {}
            for name, names in flattened:
                nested = getattr(model, name)
                for attribute, wire_name in names.items():
                    result[wire_name] = conv.unstructure(getattr(nested, attribute))
            result.update(generated(model))
            return result

        return unstructure_flattening

    return factory


def _structure_factory(conv: WireConverter) -> Callable[[Any], Callable[[Any, Any], Any]]:
    def factory(cls: Any) -> Callable[[Any, Any], Any]:
        overrides: dict[str, Any] = {}
        aliases: list[tuple[str, tuple[str, ...]]] = []
        raw_field: str | None = None
        for field in attrs.fields(cls):
            if RAW_KEY in field.metadata:
                raw_field = field.name
                overrides[field.name] = override(rename=_RAW_SLOT, struct_hook=_identity)
                continue
            if FLATTEN_KEY in field.metadata:
                continue
            if LOCAL_KEY in field.metadata:
                overrides[field.name] = override(omit=True)
                continue
            key = field.metadata[WIRE_KEY].lower()
            if field.metadata.get(FRACTION_PERCENT_KEY):
                overrides[field.name] = override(
                    rename=key, struct_hook=_optional(_percent_from_fraction)
                )
            else:
                overrides[field.name] = override(rename=key)
            if field.metadata.get(ALIASES_KEY):
                aliases.append((key, tuple(a.lower() for a in field.metadata[ALIASES_KEY])))
        generated = make_dict_structure_fn(
            cls,
            conv,
            _cattrs_forbid_extra_keys=False,
            _cattrs_detailed_validation=False,
            **overrides,
        )

        def structure_tolerantly(data: Any, _: Any) -> Any:
            if not isinstance(data, Mapping):
                raise ValueError(f"expected an object for {cls.__name__}, got {describe(data)}")
            # Absent, null and "" all mean "not given": the defaults of the model then apply.
            folded = {str(k).lower(): v for k, v in data.items() if v is not None and v != ""}
            for key, others in aliases:
                if key not in folded:
                    for other in others:
                        if other in folded:
                            folded[key] = folded[other]
                            break
            if raw_field is not None:
                folded[_RAW_SLOT] = data
            return generated(folded, cls)

        return structure_tolerantly

    return factory


def _identity(value: Any, _: Any) -> Any:
    return value


def _is_item_tuple(type_: Any) -> bool:
    args = typing.get_args(type_)
    return typing.get_origin(type_) is tuple and len(args) == 2 and args[1] is Ellipsis


def _item_tuple_factory(conv: WireConverter) -> Callable[[Any], Callable[[Any, Any], Any]]:
    def factory(type_: Any) -> Callable[[Any, Any], tuple[Any, ...]]:
        item_type = typing.get_args(type_)[0]
        structure_item = conv.get_structure_hook(item_type)

        def structure_items(data: Any, _: Any) -> tuple[Any, ...]:
            # Only a list is a list: a string would be walked character by character, and a
            # long one would hold the loop for as long.
            if not isinstance(data, (list, tuple)):
                raise ValueError(f"expected a list of {item_type.__name__}, got {describe(data)}")
            if len(data) > MAX_LIST_ITEMS:
                raise ReplyTooComplex(
                    f"a list of {len(data)} items; at most {MAX_LIST_ITEMS} are read"
                )
            items = []
            for index, item in enumerate(data):
                try:
                    items.append(structure_item(item, item_type))
                except ValueError as error:
                    raise ValueError(f"item {index}: {error}") from None
            return tuple(items)

        return structure_items

    return factory


def _optional(hook: Callable[[Any, Any], T]) -> Callable[[Any, Any], T | None]:
    def structure(value: Any, type_: Any) -> T | None:
        return None if value is None else hook(value, type_)

    return structure


def configure_converter(conv: WireConverter) -> None:
    """Register the FGO wire hooks on ``conv`` (as ``cattrs.preconf.*.configure_converter``)."""
    conv.register_unstructure_hook(Decimal, _decimal_to_wire)
    # A str-enum is a str first: cattrs would pass it through as the enum member itself, and
    # the wire dict is meant to hold plain values only.
    conv.register_unstructure_hook(CustomerType, _enum_value)
    conv.register_unstructure_hook(datetime.datetime, _datetime_to_wire)
    conv.register_unstructure_hook(datetime.date, _date_to_wire)
    conv.register_structure_hook(Decimal, _decimal_from_reply)
    conv.register_structure_hook(bool, _bool_from_reply)
    conv.register_structure_hook(int, _int_from_reply)
    conv.register_structure_hook(str, _str_from_reply)
    conv.register_structure_hook(datetime.datetime, _datetime_from_reply)
    conv.register_structure_hook(datetime.date, _date_from_reply)
    conv.register_unstructure_hook_factory(_is_wire_model, _unstructure_factory(conv))
    conv.register_structure_hook_factory(_is_wire_model, _structure_factory(conv))
    conv.register_structure_hook_factory(_is_item_tuple, _item_tuple_factory(conv))


def make_converter() -> WireConverter:
    """A new converter configured for the FGO wire format."""
    conv = WireConverter()
    configure_converter(conv)
    return conv


#: The converter the library uses.
converter = make_converter()


def dig(data: Mapping[str, Any], *path: str) -> Any:
    """``data[path[0]][path[1]]...`` in a wire dict, or None when any step is missing."""
    value: Any = data
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def to_wire(model: Any) -> dict[str, Any]:
    """The wire dict of a request model: the vendor's names, unset fields left out."""
    return converter.to_wire(model)


def from_wire(data: Any, cls: type[T]) -> T:
    """A reply model decoded tolerantly from a decoded reply (or part of one)."""
    return converter.from_wire(data, cls)


# ---------------------------------------------------------------------------------------------
# Bodies


def dumps_json(value: Any) -> str:
    """JSON text for a wire dict, writing every Decimal exactly as :func:`format_decimal` does.

    The stdlib encoder can only write a Decimal through a float; this small writer keeps the
    exact digits. Floats are refused: they have no place in a payload about money.
    """
    parts: list[str] = []
    _write_json(value, parts.append)
    return "".join(parts)


def _write_json(value: Any, write: Callable[[str], object]) -> None:
    # The commonest kinds first: this runs once per value of every body sent.
    if isinstance(value, str):
        write(encode_basestring(value))  # what json.dumps(value, ensure_ascii=False) writes
    elif isinstance(value, Decimal):
        write(format_decimal(value))
    elif isinstance(value, Mapping):
        write("{")
        first = True
        for key, item in value.items():
            if not first:
                write(",")
            first = False
            write(encode_basestring(str(key)))
            write(":")
            _write_json(item, write)
        write("}")
    elif isinstance(value, (list, tuple)):
        write("[")
        for index, item in enumerate(value):
            if index:
                write(",")
            _write_json(item, write)
        write("]")
    elif value is None:
        write("null")
    elif value is True:
        write("true")
    elif value is False:
        write("false")
    elif isinstance(value, int):
        write(str(value))
    else:
        raise TypeError(f"a {type(value).__name__} cannot be written to the wire")


def flatten_form(value: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The bracket form of a wire dict: ``Client[Denumire]``, ``Continut[0][Denumire]``."""
    pairs: list[tuple[str, str]] = []

    def walk(prefix: str, item: Any) -> None:
        if isinstance(item, Mapping):
            for key, nested in item.items():
                walk(f"{prefix}[{key}]" if prefix else str(key), nested)
        elif isinstance(item, (list, tuple)):
            for index, nested in enumerate(item):
                walk(f"{prefix}[{index}]", nested)
        elif item is None:
            return
        elif isinstance(item, bool):
            pairs.append((prefix, "true" if item else "false"))
        elif isinstance(item, Decimal):
            pairs.append((prefix, format_decimal(item)))
        elif isinstance(item, str):
            # The text itself: str() of a str enum would be "Color.RED", where JSON has "red".
            pairs.append((prefix, str.__str__(item)))
        elif isinstance(item, int):
            pairs.append((prefix, str(item)))
        else:
            raise TypeError(f"a {type(item).__name__} cannot be written to the wire")

    walk("", value)
    return pairs


def encode_form(value: Mapping[str, Any]) -> str:
    """The ``application/x-www-form-urlencoded`` text of a wire dict, in bracket form."""
    return urlencode(flatten_form(value))


def encode_body(value: Mapping[str, Any], wire_format: WireFormat) -> tuple[bytes, str]:
    """The body bytes and Content-Type of a wire dict in the chosen format."""
    if wire_format == "json":
        return dumps_json(value).encode("utf-8"), "application/json; charset=utf-8"
    if wire_format == "form":
        return encode_form(value).encode("ascii"), "application/x-www-form-urlencoded"
    raise ValueError(f"unknown wire format {wire_format!r}; use 'json' or 'form'")


def loads_json(body: bytes | bytearray | str) -> Any:
    """Decode a reply, reading every non-integer number as a Decimal (never through a float).

    Bounded: a reply longer than :data:`MAX_REPLY_LENGTH` or nested deeper than
    :data:`MAX_DEPTH` is refused before it is parsed, a number longer than
    :data:`MAX_NUMBER_LENGTH` or beyond ``1E±99`` as it is met (:class:`ReplyTooComplex`), and
    ``NaN`` or ``Infinity`` too. Each is a ``ValueError``, as is any text that is not JSON.
    """
    if isinstance(body, str):
        text = body
        _check_size_and_depth(body.encode("utf-8", "surrogatepass"))
    else:
        raw = body if isinstance(body, bytes) else bytes(body)
        encoding = json.detect_encoding(raw)
        if encoding.startswith("utf-8"):
            _check_size_and_depth(raw)  # before decoding: a huge body is refused unread
            text = raw.decode(encoding, "surrogatepass")
        else:  # UTF-16 or 32: measured in UTF-8 all the same
            text = raw.decode(encoding, "surrogatepass")
            _check_size_and_depth(text.encode("utf-8", "surrogatepass"))
    return json.loads(
        text, parse_float=_decimal_token, parse_int=_int_token, parse_constant=_refuse_constant
    )


def _decimal_token(text: str) -> Decimal:
    # "1e200000" makes a Decimal at once, and an int of 200,001 digits after minutes.
    if len(text) > MAX_NUMBER_LENGTH:
        raise ReplyTooComplex(f"a number of {len(text)} characters; at most {MAX_NUMBER_LENGTH}")
    try:
        number = Decimal(text)
    except InvalidOperation:  # an exponent beyond what a Decimal can hold at all
        number = Decimal("Infinity")
    if not (number.is_finite() and -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT):
        raise ReplyTooComplex(f"{describe(text)} is beyond 1E±{MAX_EXPONENT}")
    return number


def _int_token(text: str) -> int:
    # Python reads a long run of digits in quadratic time (and 3.11 refuses 4,300 or more).
    if len(text) > MAX_NUMBER_LENGTH:
        raise ReplyTooComplex(f"a number of {len(text)} digits; at most {MAX_NUMBER_LENGTH}")
    return int(text)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
# An opening bracket is a step of +1, a closing one of -1 (0xff read as a signed byte).
_DEPTH_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


def _check_size_and_depth(raw: bytes) -> None:
    """Refuse, before parsing, a UTF-8 reply too long or nested too deep.

    The C parser recurses once per level of nesting (a thousand brackets raise RecursionError
    there, from 2 KB of text). Every step here runs in C: most replies have too few brackets
    to nest deep, and the others are measured once their strings are cut out.
    """
    if len(raw) > MAX_REPLY_LENGTH:
        raise ReplyTooComplex(f"{len(raw)} bytes long; at most {MAX_REPLY_LENGTH} are read")
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return
    if b"\\" in raw:
        raw = _ESCAPE.sub(b"", raw)  # no escaped quote left: every quote opens or ends a string
    outside = b"".join(raw.split(b'"')[::2])  # the text between the strings
    steps = memoryview(outside.translate(_DEPTH_STEPS, _NOT_BRACKETS)).cast("b")
    depth = max(itertools.accumulate(steps), default=0)
    if depth > MAX_DEPTH:
        raise ReplyTooComplex(f"nested {depth} deep; at most {MAX_DEPTH} levels are read")
