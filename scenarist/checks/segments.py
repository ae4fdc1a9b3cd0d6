"""Checks of segments: `segment: all` checks every segment of the evaluation, one result each;
`segment: "device=mobile"` checks that one.

    results = check_segments("drift per device", spec, store, evaluation, previous)

Each segment's metrics are read as an evaluation of their own (`EvaluationStore.get(label,
segment=...)`) and judged by the check's own type, so every check type works per segment. A
segment too small to compute (see `scenarist.metrics.segments`) is EMPTY with its reason; an
evaluation without segments, or without the named one, is one EMPTY result saying so.
"""

from __future__ import annotations

from typing import Any

from scenarist.checks.base import factory
from scenarist.checks.outcome import Outcome
from scenarist.checks.registry import evaluate_check
from scenarist.checks.result import CheckResult

ALL = "all"


def check_segments(name: str, spec: Any, store: Any, evaluation: Any,
                   previous: Any | None) -> list[CheckResult]:
    """The check `name` on each segment `spec.segment` names, in the evaluation's order."""
    facts = dict(evaluation.details.get("segments") or {})
    wanted = list(facts) if spec.segment == ALL else [spec.segment]
    if not facts or any(s not in facts for s in wanted):
        make = factory(name, spec, evaluation)
        known = ", ".join(facts) or "none (set `segment_by` on the store)"
        return [make(Outcome.EMPTY, f"evaluation {evaluation.label!r} has no segment "
                     f"{spec.segment!r}; segments: {known}", bounds=spec.bounds())]
    before = dict(previous.details.get("segments") or {}) if previous is not None else {}
    results = []
    for segment in wanted:
        part = store.get(evaluation.label, segment=segment)
        if facts[segment].get("status") == "empty":
            make = factory(name, spec, part)
            results.append(make(Outcome.EMPTY, f"segment has no metrics: "
                                f"{facts[segment].get('reason')}", bounds=spec.bounds()))
            continue
        earlier = store.get(previous.label, segment=segment) \
            if previous is not None and segment in before else None
        results.append(evaluate_check(name, spec, part, earlier))
    return results
