"""Scenario runs and their step runs, with the run's log: what happened, when, and why.

    record_scenario_start(engine, ...)      a row as soon as the run starts (outcome NULL)
    record_scenario_end(engine, ...)        outcome, end time, the whole log, step rows
    scenario_runs(engine, scenario=None)    DataFrame, newest first
    scenario_run(engine, run_id)            one run with its steps and log

A step that was skipped (its run condition did not hold) has a row with outcome NULL and the
reason in `message`, so the record shows every step of the scenario.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from scenarist.errors import NotFoundError
from scenarist.stores.schema import metadata

scenario_runs_table = Table(
    "scenarist_scenario_runs",
    metadata,
    Column("id", String(64), primary_key=True),  # the Prefect flow run id
    Column("project", String(200), nullable=False),
    Column("scenario", String(200), nullable=False),
    Column("trigger", String(200), nullable=True),
    Column("parent_run_id", String(64), nullable=True),
    Column("url", String(1000), nullable=True),
    Column("variables", JSON, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("outcome", String(20), nullable=True),
    Column("message", Text, nullable=True),
    Column("log", Text, nullable=True),
    Index("ix_scenarist_scenario_runs_scenario", "scenario", "started_at"),
)

step_runs_table = Table(
    "scenarist_step_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "scenario_run_id",
        String(64),
        ForeignKey("scenarist_scenario_runs.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("type", String(50), nullable=False),
    Column("outcome", String(20), nullable=True),  # NULL: skipped
    Column("attempts", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("message", Text, nullable=True),
    Index("ix_scenarist_step_runs_run", "scenario_run_id"),
)


@dataclass(frozen=True)
class StepRecord:
    """One step of a scenario run as recorded."""

    position: int
    name: str
    type: str
    outcome: str | None
    attempts: int
    started_at: datetime | None
    ended_at: datetime | None
    message: str | None


def record_scenario_start(
    engine: Engine,
    *,
    run_id: str,
    project: str,
    scenario: str,
    trigger: str | None,
    parent_run_id: str | None,
    url: str | None,
    variables: dict[str, Any],
    started_at: datetime,
) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(scenario_runs_table).values(
                id=run_id,
                project=project,
                scenario=scenario,
                trigger=trigger,
                parent_run_id=parent_run_id,
                url=url,
                variables=variables,
                started_at=started_at,
            )
        )


def record_scenario_end(
    engine: Engine,
    *,
    run_id: str,
    outcome: str,
    ended_at: datetime,
    message: str | None,
    log: str,
    steps: Sequence[StepRecord],
) -> None:
    """Outcome, end, log and every step row of a run, in one transaction."""
    with engine.begin() as conn:
        conn.execute(
            update(scenario_runs_table)
            .where(scenario_runs_table.c.id == run_id)
            .values(outcome=outcome, ended_at=ended_at, message=message, log=log)
        )
        conn.execute(delete(step_runs_table).where(step_runs_table.c.scenario_run_id == run_id))
        if steps:
            conn.execute(
                insert(step_runs_table),
                [{"scenario_run_id": run_id, **step.__dict__} for step in steps],
            )


def scenario_runs(engine: Engine, scenario: str | None = None, limit: int = 100, *,
                  id_prefix: str | None = None) -> pd.DataFrame:
    """Recorded runs, newest first (without their logs); only ids starting with `id_prefix`."""
    columns = [c for c in scenario_runs_table.c if c.name != "log"]
    query = select(*columns).order_by(scenario_runs_table.c.started_at.desc()).limit(limit)
    if scenario is not None:
        query = query.where(scenario_runs_table.c.scenario == scenario)
    if id_prefix is not None:
        query = query.where(scenario_runs_table.c.id.startswith(id_prefix, autoescape=True))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(rows, columns=[c.name for c in columns])


def scenario_run(engine: Engine, run_id: str) -> tuple[dict[str, Any], list[StepRecord]]:
    """One run (all its columns, log included) and its steps in order."""
    with engine.connect() as conn:
        row = conn.execute(
            select(scenario_runs_table).where(scenario_runs_table.c.id == run_id)
        ).first()
        if row is None:
            raise NotFoundError(f"no scenario run with id {run_id!r}")
        steps = conn.execute(
            select(step_runs_table)
            .where(step_runs_table.c.scenario_run_id == run_id)
            .order_by(step_runs_table.c.position)
        ).all()
    return dict(row._mapping), [
        StepRecord(
            position=s.position,
            name=s.name,
            type=s.type,
            outcome=s.outcome,
            attempts=s.attempts,
            started_at=s.started_at,
            ended_at=s.ended_at,
            message=s.message,
        )
        for s in steps
    ]
