"""What the polling triggers of a project have seen, and which scenarios are paused.

    claim(engine, key, subject, fingerprint, variables, after=) -> seq, None when taken
    started(engine, key, subject, seq, run_id)      the run a claimed change started
    last_change(engine, key, subject)               -> (seq, fingerprint, status) | None
    has_looked(engine, key)                         whether the trigger looked before
    trigger_states(engine, project)                 -> rows (`scenarist triggers list`)
    set_paused(engine, project, scenario, paused) / paused_states(engine, project)

One row of `scenarist_trigger_changes` per change a trigger saw: (project, scenario, trigger,
subject, seq) is unique, where `subject` is what was watched ("" for the dataset or query, the
file's variables for a templated path) and `seq` follows the last row of that subject. A poller
inserts the row *before* it starts the run (the claim): two pollers that saw the same change
compute the same seq and only one insert succeeds, so one change never starts two runs; a
poller that dies between the claim and the start leaves a row without `run_id` (status
`claimed`, shown by `triggers list`) rather than a second run; a poller that starts runs
through a Prefect deployment starts such a claim again with the claim as idempotency key, so
Prefect returns the flow run of the first attempt if it was created. A fingerprint coming back
after another (A → B → A) is a change again, which a unique fingerprint could not record. The
first look at a subject of a `dataset_changed` or `sql_changed` trigger records what is there
as `baseline` rows (no run) under a FIRST_LOOK row: a trigger starts runs for changes after it
was switched on, not for data that was there before; a subject first seen later (a new file) is
a change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from scenarist.stores.database import dialect_insert
from scenarist.stores.schema import metadata

trigger_changes = Table(
    "scenarist_trigger_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project", String(200), nullable=False),
    Column("scenario", String(200), nullable=False),
    Column("trigger", String(200), nullable=False),
    Column("subject", String(500), nullable=False),  # "" or the file's variables, k=v&k=v
    Column("seq", Integer, nullable=False),
    Column("fingerprint", String(200), nullable=False),
    Column("variables", JSON, nullable=False),
    Column("status", String(20), nullable=False),  # baseline | claimed | started | failed
    Column("run_id", String(64), nullable=True),
    Column("message", Text, nullable=True),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("project", "scenario", "trigger", "subject", "seq",
                     name="uq_scenarist_trigger_changes_seq"),
)

scenario_pauses = Table(
    "scenarist_scenario_pauses",
    metadata,
    Column("project", String(200), primary_key=True),
    Column("scenario", String(200), primary_key=True),
    Column("paused", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


FIRST_LOOK = "(first look)"  # the subject of the row a trigger's first look records


@dataclass(frozen=True)
class TriggerKey:
    project: str
    scenario: str
    trigger: str

    def where(self) -> list[Any]:
        t = trigger_changes
        return [t.c.project == self.project, t.c.scenario == self.scenario,
                t.c.trigger == self.trigger]


def has_looked(engine: Engine, key: TriggerKey) -> bool:
    """Whether the trigger recorded anything yet (its first look records FIRST_LOOK)."""
    with engine.connect() as conn:
        return conn.execute(select(trigger_changes.c.id).where(*key.where()).limit(1)
                            ).first() is not None


def last_change(engine: Engine, key: TriggerKey, subject: str) -> tuple[int, str, str] | None:
    """(seq, fingerprint, status) of the subject's last recorded change; None when the subject
    was never seen."""
    t = trigger_changes
    with engine.connect() as conn:
        row = conn.execute(select(t.c.seq, t.c.fingerprint, t.c.status).where(
            *key.where(), t.c.subject == subject).order_by(t.c.seq.desc()).limit(1)).first()
    return (row.seq, row.fingerprint, row.status) if row else None


def claim(engine: Engine, key: TriggerKey, subject: str, fingerprint: str,
          variables: Mapping[str, Any], *, after: int | None, baseline: bool = False,
          now: datetime | None = None) -> int | None:
    """Record the change that follows seq `after` (None: the subject's first); its seq, or None
    when another poller recorded that change first (it starts the run, not this one)."""
    seq = 1 if after is None else after + 1
    try:
        with engine.begin() as conn:
            conn.execute(insert(trigger_changes).values(
                project=key.project, scenario=key.scenario, trigger=key.trigger,
                subject=subject, seq=seq, fingerprint=fingerprint, variables=dict(variables),
                status="baseline" if baseline else "claimed",
                seen_at=now or datetime.now(timezone.utc)))
    except IntegrityError:
        return None
    return seq


def started(engine: Engine, key: TriggerKey, subject: str, seq: int, run_id: str | None,
            *, message: str | None = None) -> None:
    """The run a claimed change started (or why it could not: status failed)."""
    t = trigger_changes
    with engine.begin() as conn:
        conn.execute(update(t).where(*key.where(), t.c.subject == subject, t.c.seq == seq)
                     .values(run_id=run_id, status="started" if run_id else "failed",
                             message=message))


def trigger_states(engine: Engine, project: str, scenario: str | None = None
                   ) -> list[dict[str, Any]]:
    """The last change of every (scenario, trigger, subject) of `project`, with how many
    runs the trigger started."""
    t = trigger_changes
    last = (select(t.c.scenario, t.c.trigger, t.c.subject, func.max(t.c.seq).label("seq"))
            .where(t.c.project == project).group_by(t.c.scenario, t.c.trigger, t.c.subject)
            .subquery())
    query = (select(t).join(last, (t.c.scenario == last.c.scenario)
                            & (t.c.trigger == last.c.trigger) & (t.c.subject == last.c.subject)
                            & (t.c.seq == last.c.seq))
             .where(t.c.project == project).order_by(t.c.scenario, t.c.trigger, t.c.subject))
    if scenario is not None:
        query = query.where(t.c.scenario == scenario)
    runs = (select(t.c.scenario, t.c.trigger, func.count(t.c.run_id).label("runs"))
            .where(t.c.project == project).group_by(t.c.scenario, t.c.trigger))
    with engine.connect() as conn:
        counts = {(r.scenario, r.trigger): r.runs for r in conn.execute(runs)}
        return [{**row._asdict(), "runs": counts.get((row.scenario, row.trigger), 0)}
                for row in conn.execute(query)]


def set_paused(engine: Engine, project: str, scenario: str, paused: bool,
               now: datetime | None = None) -> None:
    """Record that the scenario's triggers are paused (or not)."""
    t = scenario_pauses
    values = {"paused": paused, "updated_at": now or datetime.now(timezone.utc)}
    with engine.begin() as conn:
        conn.execute(dialect_insert(conn.dialect.name, t)
                     .values(project=project, scenario=scenario, **values)
                     .on_conflict_do_update(index_elements=["project", "scenario"], set_=values))


def paused_states(engine: Engine, project: str) -> dict[str, bool]:
    """{scenario: paused} for the scenarios paused or resumed by command (others: the file)."""
    t = scenario_pauses
    with engine.connect() as conn:
        return {r.scenario: r.paused for r in conn.execute(
            select(t.c.scenario, t.c.paused).where(t.c.project == project))}
