"""The simulator's own rules: refusals that no vendor document states, each one switchable.

FGO's documents say what each method takes and answers, not everything FGO refuses. Where the
simulator needs an answer anyway, it assumes the strict one, as an accountant's books would be
kept. These are guesses, not the vendor's word: a client that relies on one of them may meet a
vendor that allows what the simulator refuses. Each can be switched off::

    FgoSimulator(assumptions=Assumptions(delete_last_only=False))
    FgoSimulator(assumptions=Assumptions.none())       # every one off

or on the command line ``--relax delete-last-only`` (repeatable; ``--relax all``).

========================= ===========================================================
``delete_last_only``      only the last document of its series may be deleted (the
                          others are to be cancelled); its number is then given again
``no_overpayment``        a payment larger than what is left to pay is refused
``no_cancel_when_paid``   a document with payments cannot be cancelled
``no_delete_when_paid``   a document with payments cannot be deleted
``reversal_is_final``     a reversed invoice cannot be reversed again, cancelled or
                          deleted, and a reversal cannot itself be reversed
``no_payment_on_estimate`` an estimate (``Deviz``) takes no payment
``due_after_issue``       ``DataScadenta`` before ``DataEmitere`` is refused
========================= ===========================================================
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

__all__ = ["ASSUMPTION_NAMES", "STRICT", "Assumptions"]


@attrs.frozen(kw_only=True)
class Assumptions:
    """Which of the simulator's own rules (see the module docstring) are in force; all are by
    default."""

    #: Only the last document of its series may be deleted.
    delete_last_only: bool = True
    #: A payment larger than what is left to pay is refused.
    no_overpayment: bool = True
    #: A document with payments cannot be cancelled.
    no_cancel_when_paid: bool = True
    #: A document with payments cannot be deleted.
    no_delete_when_paid: bool = True
    #: A reversed invoice is not reversed again, cancelled or deleted; a reversal not reversed.
    reversal_is_final: bool = True
    #: An estimate takes no payment.
    no_payment_on_estimate: bool = True
    #: The due date may not come before the issue date.
    due_after_issue: bool = True

    @classmethod
    def none(cls) -> Assumptions:
        """Every assumption switched off: only what the vendor's documents state is refused."""
        return cls(**dict.fromkeys(ASSUMPTION_NAMES, False))

    def without(self, names: Iterable[str]) -> Assumptions:
        """These assumptions with ``names`` (``delete_last_only`` or ``delete-last-only``;
        ``all`` for every one) switched off."""
        off: dict[str, bool] = {}
        for name in names:
            field = name.replace("-", "_")
            if field == "all":
                return Assumptions.none()
            if field not in ASSUMPTION_NAMES:
                known = ", ".join(n.replace("_", "-") for n in ASSUMPTION_NAMES)
                raise ValueError(f"no assumption named {name!r}; the assumptions are {known}")
            off[field] = False
        return attrs.evolve(self, **off)


#: The names of the assumptions, as the fields of :class:`Assumptions`.
ASSUMPTION_NAMES: tuple[str, ...] = tuple(field.name for field in attrs.fields(Assumptions))

#: Every assumption in force: the default.
STRICT = Assumptions()
