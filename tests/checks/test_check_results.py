"""Check history on SQLite and PostgreSQL: recorded in one transaction, read back as a table."""

from __future__ import annotations

import math
import uuid
from datetime import date, datetime, timezone

import pandas as pd
import pytest
from sqlalchemy import func, select

from scenarist.checks import CheckResult, Outcome
from scenarist.errors import StoreError
from scenarist.stores.check_results import check_history, check_results, record_results
from scenarist.stores.database import connect


def result(name: str, outcome: Outcome, when: datetime, value: float | None = 0.5,
           **bounds) -> CheckResult:
    return CheckResult(name=name, outcome=outcome, metric="data_drift", feature=None,
                       value=value, bounds=bounds or {"soft_max": 0.45}, message=f"{outcome}",
                       evaluation_label=when.strftime("%Y%m"), checked_at=when, store="the_MES")


def at(year: int, month: int) -> datetime:
    return datetime(year, month, 1, 6, tzinfo=timezone.utc)


def test_how_often_did_this_check_warn_this_year(store_url):
    engine = connect(store_url)
    drift = f"data drift < 0.45 ({uuid.uuid4().hex[:6]})"  # PostgreSQL is shared by the session
    record_results(engine, [
        result(drift, Outcome.WARNING, at(2025, 10)),   # last year: not counted
        result(drift, Outcome.OK, at(2026, 1)),
        result(drift, Outcome.WARNING, at(2026, 4)),
        result(f"auc {drift}", Outcome.WARNING, at(2026, 4)),
        result(drift, Outcome.WARNING, at(2026, 7)),
    ], store="the_MES", scenario_run_id="run-1")

    # the one-liner
    warnings = (check_history(engine, drift, since=date(2026, 1, 1)).outcome == "WARNING").sum()

    assert warnings == 2
    history = check_history(engine, drift)
    assert list(history["checked_at"]) == [pd.Timestamp(at(y, m)) for y, m in
                                           ((2025, 10), (2026, 1), (2026, 4), (2026, 7))]
    assert list(history.columns) == ["checked_at", "check", "store", "outcome", "metric",
                                     "feature", "value", "bounds", "message",
                                     "evaluation_label", "scenario_run_id", "segment",
                                     "shadow"]
    row = history.iloc[-1]
    assert (row.check, row.store, row.outcome, row.value) == (drift, "the_MES", "WARNING", 0.5)
    assert row.bounds == {"soft_max": 0.45} and row.scenario_run_id == "run-1"
    assert history.outcome.max() == "WARNING"  # ordered: OK < EMPTY < WARNING < ERROR
    recent = check_history(engine, store="the_MES", since=datetime(2026, 4, 1, 6))
    assert len(recent[recent.check.str.endswith(drift)]) == 3
    assert check_history(engine, store="other").empty


def test_missing_values_and_infinite_bounds_are_stored(store_url):
    engine = connect(store_url)
    record_results(engine, [
        result("empty one", Outcome.EMPTY, at(2026, 2), value=None),
        result("inf one", Outcome.ERROR, at(2026, 2), value=1.0, change=math.inf),
    ], store="the_MES")
    empty = check_history(engine, "empty one")
    assert math.isnan(empty.value.iloc[0]) and empty.outcome.iloc[0] == "EMPTY"
    assert check_history(engine, "inf one").bounds.iloc[0] == {"change": "inf"}


def test_one_transaction(store_url):
    engine = connect(store_url)
    good = result("atomic", Outcome.OK, at(2026, 3))
    bad = CheckResult(name=None, outcome=Outcome.OK, metric=None, feature=None,  # type: ignore
                      value=None, bounds={}, message="", evaluation_label=None,
                      checked_at=at(2026, 3))
    with pytest.raises(StoreError, match="could not record 2 check result"):
        record_results(engine, [good, bad], store="the_MES")
    with engine.connect() as conn:
        count = select(func.count()).select_from(check_results).where(
            check_results.c.check_name == "atomic")
        assert conn.execute(count).scalar_one() == 0
    assert record_results(engine, [], store="the_MES") == 0
