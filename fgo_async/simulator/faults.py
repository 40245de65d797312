"""Fault injection: the ways the real vendor and its network fail, scripted or seeded-random.

A :class:`FaultPlan` holds :class:`FaultRule` s, looked at in order for every call that passed the
call discipline; the first rule that matches the call's method and company (and wins its
probability draw) hands out its :class:`Fault` and counts down its ``times``::

    sim.faults.script("drop-after", method="factura/emitere", company="12345678", times=2)
    sim.faults.random("502", probability=0.05)          # seeded by the simulator's seed
    sim.faults.script("throttle", times=5)              # a burst of five 429s

Methods match exactly or as a glob (``"factura/*"``). :func:`parse_fault_rule` reads the CLI's
``drop-after,method=factura/emitere,times=2``.
"""

from __future__ import annotations

import enum
import fnmatch
import random
from collections.abc import Mapping
from typing import Any

import attrs

from .records import CallRecord

__all__ = [
    "DEFAULT_SLOW_REPLY",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "parse_fault_rule",
]

#: How late a slow reply comes by default: past the client's default 30 s timeout.
DEFAULT_SLOW_REPLY = 35.0


class FaultKind(str, enum.Enum):
    """What goes wrong."""

    #: After the issue budget (15 s), the documented timeout message; nothing was issued.
    #: On a method other than ``factura/emitere`` it acts as a slow refusal with the same text.
    ISSUE_TIMEOUT = "issue-timeout"
    #: The connection is dropped before the call is processed; nothing was done.
    DROP_BEFORE = "drop-before"
    #: The call is processed (the invoice exists), then the connection is dropped.
    DROP_AFTER = "drop-after"
    #: The call is processed and answered ``delay`` seconds late.
    SLOW_REPLY = "slow-reply"
    #: The vendor's unclassified server error after the call was processed (the invoice
    #: exists): HTTP 500 with ``{"Success": false, "Message": "Ne pare rau, a intervenit o
    #: eroare"}``. The reply the call would have had is lost.
    SERVER_ERROR = "500"
    #: An HTML 502 page from the CDN after the call was processed: the reply was lost.
    BAD_GATEWAY = "502"
    #: An HTML 503 page before processing: the service was unavailable, nothing was done.
    UNAVAILABLE = "503"
    #: HTTP 500 with the vendor's JSON, its message a .NET exception and its stack trace
    #: ("System.Exception: Codul unic nu exista sau nu este asociat.", as seen live), before
    #: processing: nothing was done.
    EXCEPTION = "exception"
    #: The call is processed and its JSON reply cut short.
    BROKEN_JSON = "broken-json"
    #: HTTP 429 with a throttle message although the client kept the limits; nothing was done.
    THROTTLE = "throttle"

    @property
    def processed(self) -> bool:
        """True when the call is carried out before the fault shows."""
        return self in _PROCESSED


_PROCESSED = frozenset(
    {
        FaultKind.DROP_AFTER,
        FaultKind.SLOW_REPLY,
        FaultKind.SERVER_ERROR,
        FaultKind.BAD_GATEWAY,
        FaultKind.BROKEN_JSON,
    }
)


@attrs.frozen(kw_only=True)
class Fault:
    """One fault: its kind and, where it has them, its parameters.

    ``delay`` is how late a slow reply comes (default 35 s) or, for an issue timeout, the
    time taken before the message (default: the simulator's issue budget, 15 s). ``code`` is the
    ``[x]`` of the timeout message (drawn from 1..7 when not given). ``retry_after`` is the
    ``Retry-After`` of an injected 429.
    """

    kind: FaultKind = attrs.field(converter=FaultKind)
    delay: float | None = None
    code: int | None = attrs.field(default=None)
    retry_after: int = 1

    @code.validator
    def _check_code(self, _: Any, value: int | None) -> None:
        if value is not None and not 1 <= value <= 7:
            raise ValueError("the issue timeout code [x] is from 1 to 7")


@attrs.define(kw_only=True)
class FaultRule:
    """Which calls get ``fault``: a method (exact or glob) and a company, ``None`` for any;
    ``times`` calls in all (``None``: no end), each with ``probability``."""

    fault: Fault
    method: str | None = None
    company: str | None = None
    times: int | None = 1
    probability: float = attrs.field(default=1.0, validator=attrs.validators.and_(
        attrs.validators.ge(0.0), attrs.validators.le(1.0)
    ))  # fmt: skip

    def matches(self, record: CallRecord) -> bool:
        """True when the rule applies to the call (before the probability draw)."""
        if self.company is not None and record.company != self.company:
            return False
        return self.method is None or fnmatch.fnmatchcase(record.method, self.method)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> FaultRule:
        """A rule from JSON-like data: ``{"kind": "502", "method": ..., "times": 2, ...}``."""
        known = {
            "kind",
            "method",
            "company",
            "times",
            "probability",
            "delay",
            "code",
            "retry_after",
        }
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        if "kind" not in data:
            raise ValueError("a fault needs its kind")
        fault = Fault(
            kind=data["kind"],
            delay=None if data.get("delay") is None else float(data["delay"]),
            code=None if data.get("code") is None else int(data["code"]),
            retry_after=int(data.get("retry_after", 1)),
        )
        times = data.get("times", 1)
        return cls(
            fault=fault,
            method=data.get("method"),
            company=None if data.get("company") is None else str(data["company"]),
            times=None if times in (None, "always") else int(times),
            probability=float(data.get("probability", 1.0)),
        )

    def describe(self) -> dict[str, Any]:
        """The rule as JSON-like data (what :meth:`from_mapping` reads)."""
        return {
            "kind": self.fault.kind.value,
            "method": self.method,
            "company": self.company,
            "times": self.times,
            "probability": self.probability,
            "delay": self.fault.delay,
            "code": self.fault.code,
            "retry_after": self.fault.retry_after,
        }


class FaultPlan:
    """The rules in force, consulted in order; random draws use the simulator's seeded RNG."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.rules: list[FaultRule] = []
        self._rng = rng or random.Random()

    def add(self, rule: FaultRule) -> FaultRule:
        """Add a rule after the others."""
        self.rules.append(rule)
        return rule

    def script(
        self,
        kind: FaultKind | str,
        *,
        method: str | None = None,
        company: str | None = None,
        times: int | None = 1,
        delay: float | None = None,
        code: int | None = None,
        retry_after: int = 1,
    ) -> FaultRule:
        """The next ``times`` matching calls get the fault (``times=None``: every one)."""
        fault = Fault(kind=FaultKind(kind), delay=delay, code=code, retry_after=retry_after)
        return self.add(FaultRule(fault=fault, method=method, company=company, times=times))

    def random(
        self,
        kind: FaultKind | str,
        probability: float,
        *,
        method: str | None = None,
        company: str | None = None,
        times: int | None = None,
        delay: float | None = None,
        code: int | None = None,
        retry_after: int = 1,
    ) -> FaultRule:
        """Each matching call gets the fault with ``probability`` (seeded)."""
        fault = Fault(kind=FaultKind(kind), delay=delay, code=code, retry_after=retry_after)
        rule = FaultRule(
            fault=fault, method=method, company=company, times=times, probability=probability
        )
        return self.add(rule)

    def clear(self) -> None:
        """Remove every rule."""
        self.rules.clear()

    def draw(self, record: CallRecord) -> Fault | None:
        """The fault for this call, if a rule gives one; a rule used up is removed."""
        for rule in self.rules:
            if not rule.matches(record):
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            if rule.times is not None:
                rule.times -= 1
                if rule.times <= 0:
                    self.rules.remove(rule)
            return rule.fault
        return None


def parse_fault_rule(spec: str) -> FaultRule:
    """A rule from ``KIND[,key=value...]``: keys ``method``, ``company``, ``times`` (a number or
    ``always``), ``probability``, ``delay``, ``code``, ``retry_after``. A probability without
    ``times`` applies for ever: ``502,probability=0.05``."""
    kind, *settings = (part.strip() for part in spec.split(","))
    data: dict[str, Any] = {"kind": kind}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep:
            raise ValueError(f"fault {spec!r}: {setting!r} is not key=value")
        data[key.strip()] = value.strip()
    if "probability" in data and "times" not in data:
        data["times"] = "always"
    try:
        return FaultRule.from_mapping(data)
    except ValueError as error:
        raise ValueError(f"fault {spec!r}: {error}") from None
