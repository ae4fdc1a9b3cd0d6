"""Check history: every check result, stored, so "how often did this check warn" is one query.

    record_results(engine, results, store="the_MES", scenario_run_id=None)   # one transaction
    history = check_history(engine, "data drift < 0.45", since=date(2026, 1, 1))
    (history.outcome == "WARNING").sum()            # how often it warned this year

One row per result in `scenarist_check_results` (owned by the Alembic branch "checks"); a
shadow check's rows have `shadow` true (checks_0002). The store is kept by name, so a result
stays readable after its store is deleted or re-created.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime, time, timezone

import pandas as pd
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
    insert,
    select,
)

from scenarist.checks.outcome import Outcome
from scenarist.checks.result import CheckResult
from scenarist.stores.database import database_errors
from scenarist.stores.schema import metadata

check_results = Table(
    "scenarist_check_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("store", String(200), nullable=True),
    Column("evaluation_label", String(200), nullable=True),
    Column("check_name", String(500), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("metric", String(200), nullable=True),
    Column("feature", String(500), nullable=True),
    Column("value", Float(precision=53), nullable=True),
    Column("bounds", JSON, nullable=False),
    Column("message", Text, nullable=False),
    Column("checked_at", DateTime(timezone=True), nullable=False),
    Column("scenario_run_id", String(100), nullable=True),
    Column("segment", String(300), nullable=True),  # NULL: the check of all rows
    Column("shadow", Boolean, nullable=False, server_default=false()),  # checks_0002
    Index("ix_scenarist_check_results_check", "check_name", "checked_at"),
    Index("ix_scenarist_check_results_store", "store", "checked_at"),
)

COLUMNS = ["checked_at", "check", "store", "outcome", "metric", "feature", "value", "bounds",
           "message", "evaluation_label", "scenario_run_id", "segment", "shadow"]
"""Columns of `check_history`'s DataFrame, in order."""


def record_results(
    engine: Engine,
    results: Iterable[CheckResult],
    *,
    store: str | None,
    scenario_run_id: str | None = None,
) -> int:
    """Append `results` (of checks on `store`) in one transaction; returns the rows written.

    `store` is used for results that do not name their store themselves."""
    rows = [
        {
            "store": result.store or store,
            "evaluation_label": result.evaluation_label,
            "check_name": result.name,
            "outcome": str(result.outcome),
            "metric": result.metric,
            "feature": result.feature,
            "value": _storable(result.value),
            "bounds": _jsonable(dict(result.bounds)),
            "message": result.message,
            "checked_at": result.checked_at,
            "scenario_run_id": scenario_run_id,
            "segment": result.segment,
            "shadow": result.shadow,
        }
        for result in results
    ]
    if not rows:
        return 0
    with database_errors(engine, f"record {len(rows)} check result(s)"):
        with engine.begin() as conn:
            conn.execute(insert(check_results), rows)
    return len(rows)


def check_history(
    engine: Engine,
    check: str | None = None,
    store: str | None = None,
    since: datetime | date | None = None,
) -> pd.DataFrame:
    """Stored results, oldest first, filtered by check name, store and time (`since`, inclusive;
    a date means its midnight UTC, a naive datetime is UTC). Columns: `COLUMNS`; `checked_at`
    is a UTC timestamp and `outcome` an ordered categorical (OK < EMPTY < WARNING < ERROR)."""
    c = check_results.c
    query = select(
        c.checked_at, c.check_name, c.store, c.outcome, c.metric, c.feature, c.value, c.bounds,
        c.message, c.evaluation_label, c.scenario_run_id, c.segment, c.shadow,
    ).order_by(c.checked_at, c.id)
    if check is not None:
        query = query.where(c.check_name == check)
    if store is not None:
        query = query.where(c.store == store)
    if since is not None:
        query = query.where(c.checked_at >= _utc(since))
    with database_errors(engine, "read the check history"):
        with engine.connect() as conn:
            rows = conn.execute(query).all()
    table = pd.DataFrame([tuple(r) for r in rows], columns=COLUMNS)
    table["checked_at"] = pd.to_datetime(table["checked_at"], utc=True)
    table["value"] = table["value"].astype(float)
    table["shadow"] = table["shadow"].astype(bool)
    table["outcome"] = pd.Categorical(table["outcome"], categories=[o.value for o in Outcome],
                                      ordered=True)
    return table


def _utc(moment: datetime | date) -> datetime:
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time.min)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _storable(value: float | None) -> float | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return float(value)


def _jsonable(value):
    """Bounds with non-finite numbers as strings ("inf"): JSON has no Infinity/NaN."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
