"""How long the simulated vendor takes to answer: fixed, or drawn from a seeded distribution.

A :class:`LatencyModel` draws a delay in seconds from the simulator's seeded random generator, so
that a run with the same seed takes the same times. :class:`LatencyTable` gives one model per
vendor method, with a default. :func:`parse_latency` reads the CLI's ``0.2``,
``lognormal:0.3:5`` or ``uniform:0.1:0.5``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

import attrs

__all__ = [
    "NO_LATENCY",
    "FixedLatency",
    "LatencyModel",
    "LatencyTable",
    "LogNormalLatency",
    "UniformLatency",
    "parse_latency",
]

# The 99th percentile of the standard normal distribution.
_Z99 = 2.3263478740408408


@runtime_checkable
class LatencyModel(Protocol):
    """Draws the time the vendor takes for one call."""

    def draw(self, rng: random.Random) -> float:
        """A delay in seconds (never negative)."""
        ...


@attrs.frozen
class FixedLatency:
    """Always the same delay."""

    seconds: float = attrs.field(validator=attrs.validators.ge(0))

    def draw(self, rng: random.Random) -> float:
        """``seconds``."""
        return self.seconds


@attrs.frozen
class UniformLatency:
    """A delay drawn evenly between ``low`` and ``high``."""

    low: float = attrs.field(validator=attrs.validators.ge(0))
    high: float

    def draw(self, rng: random.Random) -> float:
        """A uniform draw."""
        return rng.uniform(self.low, self.high)


@attrs.frozen
class LogNormalLatency:
    """A log-normal delay given by its median and its 99th percentile (``0.3`` and ``5.0``: most
    calls are quick, a few are very slow, as with a real vendor under load)."""

    median: float = attrs.field(validator=attrs.validators.gt(0))
    p99: float

    def __attrs_post_init__(self) -> None:
        if self.p99 < self.median:
            raise ValueError("the 99th percentile cannot be below the median")

    @property
    def sigma(self) -> float:
        """The standard deviation of the underlying normal distribution."""
        return math.log(self.p99 / self.median) / _Z99

    def draw(self, rng: random.Random) -> float:
        """A log-normal draw."""
        return rng.lognormvariate(math.log(self.median), self.sigma)


#: No delay at all: the default, so that tests are as fast as the code they test.
NO_LATENCY = FixedLatency(0.0)


@attrs.frozen
class LatencyTable:
    """One latency model per vendor method (``"factura/emitere"``), and a default for the rest."""

    default: LatencyModel = NO_LATENCY
    per_method: Mapping[str, LatencyModel] = attrs.field(factory=dict)

    def for_method(self, method: str) -> LatencyModel:
        """The model of ``method``."""
        return self.per_method.get(method, self.default)

    @classmethod
    def of(
        cls, value: LatencyTable | LatencyModel | float | Mapping[str, LatencyModel] | None
    ) -> LatencyTable:
        """A table from what a caller gave: a table, one model, seconds, or a mapping whose
        ``"*"`` entry is the default."""
        if value is None:
            return cls()
        if isinstance(value, LatencyTable):
            return value
        if isinstance(value, (int, float)):
            return cls(default=FixedLatency(float(value)))
        if isinstance(value, LatencyModel):
            return cls(default=value)
        per_method = {k: v for k, v in value.items() if k != "*"}
        return cls(default=value.get("*", NO_LATENCY), per_method=per_method)


def parse_latency(spec: str) -> LatencyModel:
    """A model from ``0.2`` (fixed), ``lognormal:MEDIAN:P99`` or ``uniform:LOW:HIGH``."""
    kind, _, rest = spec.partition(":")
    try:
        if not rest:
            return FixedLatency(float(kind))
        numbers = [float(part) for part in rest.split(":")]
        if kind == "fixed" and len(numbers) == 1:
            return FixedLatency(numbers[0])
        if kind == "lognormal" and len(numbers) == 2:
            return LogNormalLatency(numbers[0], numbers[1])
        if kind == "uniform" and len(numbers) == 2:
            return UniformLatency(numbers[0], numbers[1])
    except ValueError as error:
        raise ValueError(f"latency {spec!r}: {error}") from None
    raise ValueError(f"latency {spec!r} is not SECONDS, lognormal:MEDIAN:P99 or uniform:LOW:HIGH")
