"""Every check type: its spec class and its pure evaluate function, and the one entry point.

    result = evaluate_check("data drift < 0.45", spec, evaluation, previous=None)

`CHECK_TYPES` maps each `type` name to a `CheckType`; adding a check type is one module with an
`evaluate` function, a spec in `specs.py` and one line here.
"""

from __future__ import annotations

from dataclasses import dataclass

from scenarist.checks import numeric_range, python_check, relative_change, value_in_set
from scenarist.checks.base import EvaluationLike, Evaluator, factory
from scenarist.checks.outcome import Outcome
from scenarist.checks.result import CheckResult
from scenarist.checks.specs import SPEC_TYPES, AnyCheckSpec


@dataclass(frozen=True)
class CheckType:
    """A registered check type."""

    name: str
    spec: type
    evaluate: Evaluator
    needs_previous: bool = False  # reads the store's evaluation before the latest


CHECK_TYPES: dict[str, CheckType] = {
    t.name: t
    for t in (
        CheckType("numeric_range", SPEC_TYPES["numeric_range"], numeric_range.evaluate),
        CheckType("value_in_set", SPEC_TYPES["value_in_set"], value_in_set.evaluate),
        CheckType("relative_change", SPEC_TYPES["relative_change"], relative_change.evaluate,
                  needs_previous=True),
        CheckType("python", SPEC_TYPES["python"], python_check.evaluate, needs_previous=True),
    )
}


def check_type(spec: AnyCheckSpec) -> CheckType:
    """The registered type of `spec`; ValueError listing the types for an unknown one."""
    found = CHECK_TYPES.get(getattr(spec, "type", ""))
    if found is None:
        raise ValueError(f"unknown check type {getattr(spec, 'type', spec)!r}; valid types: "
                         f"{', '.join(CHECK_TYPES)}")
    return found


def evaluate_check(
    name: str,
    spec: AnyCheckSpec,
    evaluation: EvaluationLike | None,
    previous: EvaluationLike | None = None,
) -> CheckResult:
    """The outcome of check `name` on `evaluation` (its store's latest) — pure, no I/O.

    `previous` is the store's evaluation before it (used by relative_change and python checks).
    No evaluation at all → EMPTY, "store X has no evaluation yet".
    """
    kind = check_type(spec)
    if evaluation is None:
        make = factory(name, spec, None)
        return make(Outcome.EMPTY, f"store {spec.store!r} has no evaluation yet",
                    bounds=spec.bounds())
    return kind.evaluate(name, spec, evaluation, previous)
