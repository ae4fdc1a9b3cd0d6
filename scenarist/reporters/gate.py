"""The gate: whether a reporter sends for a finished run. Data (`when` / `on`) plus one pure
function, tested on its own.

    when: "stepOutcome_MES_Warn == 'WARNING'"   an expression over the run's variables
    on: [WARNING, FAILED]                        the scenario outcome is one of these
    (neither)                                    any outcome but SUCCESS
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scenarist.checks.outcome import StepOutcome
from scenarist.flows.conditions import evaluate_expression

DEFAULT_ON = (StepOutcome.WARNING, StepOutcome.FAILED, StepOutcome.ABORTED)


def should_report(
    when: str | None,
    on: Sequence[StepOutcome | str] | None,
    outcome: StepOutcome | str,
    variables: Mapping[str, Any],
) -> bool:
    """True when a reporter with gate `when`/`on` sends for a run that ended with `outcome`.

    An expression that cannot be evaluated raises ConditionError (the caller decides: the
    scenario engine sends anyway rather than lose an alert)."""
    if when is not None:
        return bool(evaluate_expression(when, variables))
    allowed = {StepOutcome(o) for o in (on if on is not None else DEFAULT_ON)}
    return StepOutcome(outcome) in allowed
