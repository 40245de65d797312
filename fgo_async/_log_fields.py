"""Structured fields for the library's log records.

Every record the library logs about a call carries, in ``extra``, the fields JSON handlers and
structlog pick up without parsing text: ``fgo_company``, ``fgo_method``, ``fgo_series``,
``fgo_number``, ``fgo_external_id`` (what identifies the call), and where they apply
``fgo_attempt``, ``fgo_wait`` (seconds) and ``fgo_outcome``. Never the key, never a Hash,
never a request body.
"""

from __future__ import annotations

from typing import Any

from .errors import CallIdentity

__all__ = ["call_fields", "company_fields"]


def call_fields(identity: CallIdentity | None, **more: Any) -> dict[str, Any]:
    """The ``extra`` of a log record about one call, with ``more`` as ``fgo_<name>``."""
    fields: dict[str, Any] = {}
    if identity is not None:
        fields["fgo_method"] = identity.method
        fields["fgo_company"] = identity.company
        fields["fgo_series"] = identity.series
        fields["fgo_number"] = identity.number
        fields["fgo_external_id"] = identity.external_id
    for name, value in more.items():
        fields[f"fgo_{name}"] = value
    return fields


def company_fields(company: str | None, **more: Any) -> dict[str, Any]:
    """The ``extra`` of a log record about a company's lane."""
    return {"fgo_company": company, **{f"fgo_{name}": value for name, value in more.items()}}
