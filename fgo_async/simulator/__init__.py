"""A local FGO: the vendor's API on in-memory books, with its rules, its limits and its failures.

::

    from fgo_async.simulator import FgoSimulator

    async with FgoSimulator(companies={"12345678": "secret-key"}) as sim:
        async with sim.client(http=True) as fgo:          # over HTTP, sim.base_url
            issued = await fgo.issue_invoice(invoice)
        sim.faults.script("drop-after", method="factura/emitere")
        assert not sim.violations()

:class:`FgoSimulator` is the simulator (``handle()`` answers one HTTP call with no socket);
:class:`SimulatorTransport` reaches it in-process, on virtual time if the loop's clock is;
``python -m fgo_async.simulator`` serves it (:mod:`.cli`); :mod:`fgo_async.testing` has pytest
fixtures around it.
"""

from . import assumptions
from .assumptions import Assumptions
from .core import (
    DEFAULT_IDENTICAL_WINDOW,
    DEFAULT_ISSUE_BUDGET,
    IN_PROCESS_BASE_URL,
    FgoSimulator,
    SimulatedDisconnect,
)
from .discipline import DEFAULT_LIMITS
from .faults import Fault, FaultKind, FaultPlan, FaultRule, parse_fault_rule
from .latency import (
    FixedLatency,
    LatencyModel,
    LatencyTable,
    LogNormalLatency,
    UniformLatency,
    parse_latency,
)
from .records import CallRecord, DisciplineSummary, Outcome, Violation, ViolationKind
from .state import (
    Company,
    Document,
    DocumentKind,
    DocumentStatus,
    Plan,
    Receipt,
    StoredArticle,
    StoredCustomer,
)
from .transport import SimulatorTransport

__all__ = [
    "DEFAULT_IDENTICAL_WINDOW",
    "DEFAULT_ISSUE_BUDGET",
    "DEFAULT_LIMITS",
    "IN_PROCESS_BASE_URL",
    "Assumptions",
    "CallRecord",
    "Company",
    "DisciplineSummary",
    "Document",
    "DocumentKind",
    "DocumentStatus",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "FgoSimulator",
    "FixedLatency",
    "LatencyModel",
    "LatencyTable",
    "LogNormalLatency",
    "Outcome",
    "Plan",
    "Receipt",
    "SimulatedDisconnect",
    "SimulatorTransport",
    "StoredArticle",
    "StoredCustomer",
    "UniformLatency",
    "Violation",
    "ViolationKind",
    "assumptions",
    "parse_fault_rule",
    "parse_latency",
]
