"""`CheckResult`: what one check said about one evaluation — an immutable value.

A result is built by a check type's `evaluate` function (pure, see `scenarist.checks`), kept in
the store's check history (`scenarist.stores.check_results`), shown by `scenarist checks run`
and handed to scenario conditions and reporters as the `checks` variable (`as_dict()`).
Policy — whether a failure blocks a scenario, who is told — is not here: it lives on the
scenario and its reporters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from scenarist.checks.outcome import Outcome


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict on one evaluation.

    `value` is the checked metric's value (None when it has none: EMPTY); `bounds` what it was
    compared against (e.g. {"soft_max": 0.45}); `message` says in words what happened.
    """

    name: str
    outcome: Outcome
    metric: str | None
    feature: str | None
    value: float | None
    bounds: Mapping[str, Any]
    message: str
    evaluation_label: str | None
    checked_at: datetime
    store: str | None = None
    segment: str | None = None  # None: the check of all rows; else of one segment's rows
    shadow: bool = False  # a shadow check's: recorded, never counted in an outcome

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome", Outcome(self.outcome))
        object.__setattr__(self, "bounds", dict(self.bounds))  # a copy; stays picklable
        if self.value is not None and math.isnan(self.value):
            object.__setattr__(self, "value", None)

    @property
    def metric_key(self) -> str:
        """`data_drift`, or `psi[card_age]` for a per-feature metric; "" for none."""
        return metric_key(self.metric, self.feature)

    def as_dict(self) -> dict[str, Any]:
        """Plain values (outcome as its string, bounds as a dict) for templates and artifacts."""
        return {
            "name": self.name,
            "outcome": str(self.outcome),
            "metric": self.metric,
            "feature": self.feature,
            "value": self.value,
            "bounds": dict(self.bounds),
            "message": self.message,
            "evaluation_label": self.evaluation_label,
            "checked_at": self.checked_at,
            "store": self.store,
            "segment": self.segment,
        }


def metric_key(metric: str | None, feature: str | None) -> str:
    """`metric`, or `metric[feature]` — the way metrics are named everywhere in scenarist."""
    if not metric:
        return ""
    return metric if feature is None else f"{metric}[{feature}]"


def fmt_number(value: float) -> str:
    """A number for a message: 4 significant digits (0.4945, 1.234e+05)."""
    return f"{value:.4g}"


@dataclass(frozen=True)
class ResultFactory:
    """Fills in what every result of one check shares (name, metric, store, label, time)."""

    name: str
    store: str | None
    metric: str | None
    feature: str | None
    evaluation_label: str | None
    checked_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    segment: str | None = None

    def __call__(
        self,
        outcome: Outcome,
        message: str,
        *,
        value: float | None = None,
        bounds: Mapping[str, Any] | None = None,
    ) -> CheckResult:
        return CheckResult(
            name=self.name,
            outcome=outcome,
            metric=self.metric,
            feature=self.feature,
            value=value,
            bounds=bounds or {},
            message=message if self.segment is None else f"[{self.segment}] {message}",
            evaluation_label=self.evaluation_label,
            checked_at=self.checked_at,
            store=self.store,
            segment=self.segment,
        )
