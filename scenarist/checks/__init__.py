"""Checks: pure rules turning a metric of an evaluation into an outcome (no I/O).

    spec (what to check, `specs.py`) → evaluate_check(...) → CheckResult (what happened)
    → a stored row (`scenarist.stores.check_results`)

One module per check type (numeric_range, value_in_set, relative_change, python_check), each
with a pure `evaluate(name, spec, evaluation, previous)`; `registry.CHECK_TYPES` lists them and
`evaluate_check` dispatches on the spec's `type`. Running checks against a project's stores and
recording the results is `scenarist.operations.checking.run_checks`.
"""

from scenarist.checks.outcome import Outcome, StepOutcome
from scenarist.checks.registry import CHECK_TYPES, CheckType, evaluate_check
from scenarist.checks.result import CheckResult
from scenarist.checks.specs import (
    CheckSpec,
    NumericRangeCheckSpec,
    PythonCheckSpec,
    RelativeChangeCheckSpec,
    ValueInSetCheckSpec,
)

__all__ = [
    "CHECK_TYPES",
    "CheckResult",
    "CheckSpec",
    "CheckType",
    "NumericRangeCheckSpec",
    "Outcome",
    "PythonCheckSpec",
    "RelativeChangeCheckSpec",
    "StepOutcome",
    "ValueInSetCheckSpec",
    "evaluate_check",
]
