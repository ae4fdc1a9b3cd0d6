"""What each reporter remembers of each check × segment between runs (alert hygiene).

    states = load_states(engine, project, scenario, reporter, run_id)   # {(check, segment): {…}}
    save_states(engine, project, scenario, reporter, run_id, before, after)

One row per (project, scenario, reporter, check, segment); a state is a plain mapping
{"outcome", "streak", "alerted"} here; the state machine that reads and makes them is pure
(`scenarist.reporters.hygiene.CheckState`). Each row keeps the run that last changed it and the
state before that run, so a retried or re-run flow (same run id) is assessed from the same state as
the first attempt: it makes the same decision, and the outbox's idempotency keys keep its
messages from being queued twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Integer,
    String,
    Table,
    and_,
    delete,
    insert,
    or_,
    select,
)

from scenarist.stores.schema import metadata

Key = tuple[str, str]  # (check name, segment)
State = Mapping[str, Any]  # {"outcome": str | None, "streak": int, "alerted": str | None}

alert_state_table = Table(
    "scenarist_alert_state",
    metadata,
    Column("project", String(200), primary_key=True),
    Column("scenario", String(200), primary_key=True),
    Column("reporter", String(200), primary_key=True),
    Column("check_name", String(500), primary_key=True),
    Column("segment", String(500), primary_key=True),  # "" for a check without segments
    Column("outcome", String(16), nullable=True),
    Column("streak", Integer, nullable=False),
    Column("alerted", String(16), nullable=True),
    Column("run_id", String(64), nullable=False),  # the run that last changed the row
    Column("before", JSON, nullable=True),  # the state before that run (None: no row before)
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


def load_states(engine: Engine, project: str, scenario: str, reporter: str,
                run_id: str) -> dict[Key, State]:
    """The reporter's states as they were before run `run_id` (a row that run already changed
    is read from its `before`; a row it created is left out)."""
    t = alert_state_table
    query = select(t).where(t.c.project == project, t.c.scenario == scenario,
                            t.c.reporter == reporter)
    states: dict[Key, State] = {}
    with engine.connect() as conn:
        for row in conn.execute(query).all():
            key = (row.check_name, row.segment)
            if row.run_id != run_id:
                states[key] = {"outcome": row.outcome, "streak": row.streak,
                               "alerted": row.alerted}
            elif row.before is not None:
                states[key] = dict(row.before)
    return states


def save_states(engine: Engine, project: str, scenario: str, reporter: str, run_id: str,
                before: Mapping[Key, State], after: Mapping[Key, State],
                now: datetime | None = None) -> None:
    """Write the states a run left (`after`), each with its state `before` the run, in one
    transaction."""
    if not after:
        return
    t = alert_state_table
    now = now or datetime.now(timezone.utc)
    rows = [{"project": project, "scenario": scenario, "reporter": reporter,
             "check_name": name, "segment": segment, "outcome": state["outcome"],
             "streak": state["streak"], "alerted": state["alerted"], "run_id": run_id,
             "before": dict(before[(name, segment)]) if (name, segment) in before else None,
             "updated_at": now}
            for (name, segment), state in after.items()]
    keys = or_(*(and_(t.c.check_name == name, t.c.segment == segment) for name, segment in after))
    with engine.begin() as conn:
        conn.execute(delete(t).where(t.c.project == project, t.c.scenario == scenario,
                                     t.c.reporter == reporter, keys))
        conn.execute(insert(t), rows)


def alert_states(engine: Engine, project: str | None = None) -> list[dict]:
    """Every stored state (of one project), for inspection and tests."""
    t = alert_state_table
    query = select(t).order_by(t.c.project, t.c.scenario, t.c.reporter, t.c.check_name,
                               t.c.segment)
    if project is not None:
        query = query.where(t.c.project == project)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query).all()]
