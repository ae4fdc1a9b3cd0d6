"""Real `Evaluation` values built in memory, for the pure check tests."""

from __future__ import annotations

from datetime import datetime, timezone

from scenarist.stores.evaluation import Evaluation


def evaluation(label: str = "2017Q4", store: str = "the_MES", **metrics: float) -> Evaluation:
    """An evaluation with `metrics`; per-feature metrics as psi__card_age=0.3."""
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    keyed = {(k.replace("__", "[") + "]" if "__" in k else k): v for k, v in metrics.items()}
    return Evaluation(store=store, label=label, created_at=now, evaluated_at=now,
                      time_start=None, time_end=None, model="fraud_model", row_count=100,
                      reference_row_count=100, metrics=keyed, details={})
