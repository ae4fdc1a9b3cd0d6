"""Revisions of evaluations: what an evaluation said before late labels changed it.

    store.record(label, computed, model=..., revision="late labels: 120 → 1440 labelled rows")
    store.revisions("2024-05-01")        # -> [Revision(revision=1, changes=..., verdicts=...)]

An evaluation row always shows its latest version. Re-recording it with a `revision` reason
keeps, in `scenarist_evaluation_revisions` (Alembic branch "revisions") and in the same
transaction, every metric value the new version changes: `changes` maps a metric key
(`auc`, `ks_pvalue[card_age]`, `accuracy @ device=mobile` for a segment's) to [before, after]
(None: no value — absent or NaN). Unchanged values are not repeated, so the superseded version
is the current one with `before` put back. `verdicts` (check name → [before, after] outcomes)
is filled in once the store's checks have been run again on the new version
(`scenarist.operations.revisions`). Revisions of a label are numbered 1, 2, … and the
evaluation's details carry its current number (`revision`, absent when never revised); they stay
when the evaluation is later replaced or deleted, and go with their store.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    ForeignKey,
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

from scenarist.stores.schema import metadata, metric_values, stores

revisions_table = Table(
    "scenarist_evaluation_revisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("store_id", Integer, ForeignKey("scenarist_stores.id", ondelete="CASCADE"),
           nullable=False),
    Column("label", String(200), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("revised_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
    Column("superseded_evaluated_at", DateTime(timezone=True), nullable=False),
    Column("changes", JSON, nullable=False),   # metric key -> [before, after]
    Column("verdicts", JSON, nullable=False),  # check name -> [before, after]
    UniqueConstraint("store_id", "label", "revision", name="uq_scenarist_evaluation_revisions"),
)


@dataclass(frozen=True)
class Revision:
    """One revision of an evaluation: when, why, and what it changed."""

    label: str
    revision: int
    revised_at: datetime
    reason: str
    superseded_evaluated_at: datetime
    changes: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)
    verdicts: Mapping[str, tuple[str | None, str]] = field(default_factory=dict)


def metric_key(metric: str, feature: str | None = None, segment: str | None = None) -> str:
    """`metric`, `metric[feature]`, with ` @ segment` for a segment's value."""
    key = metric if feature is None else f"{metric}[{feature}]"
    return key if segment is None else f"{key} @ {segment}"


def keep_revision(conn: Any, *, store_id: int, label: str, replaced_id: int,
                  replaced_evaluated_at: datetime, new_values: Iterable[Any], reason: str,
                  now: datetime) -> int:
    """Inside the transaction that replaces evaluation `replaced_id`: keep the values the new
    version changes as the next revision of `label`; returns its number."""
    rows = conn.execute(select(metric_values).where(
        metric_values.c.evaluation_id == replaced_id)).mappings().all()
    before = {metric_key(r["metric"], r["feature"], r.get("segment")): _number(r["value"])
              for r in rows}
    after = {metric_key(v.metric, v.feature, getattr(v, "segment", None)): _number(v.value)
             for v in new_values}
    changes = {key: [before.get(key), after.get(key)] for key in sorted(before.keys() | after)
               if not _same(before.get(key), after.get(key))}
    number = 1 + (conn.execute(select(func.max(revisions_table.c.revision)).where(
        revisions_table.c.store_id == store_id, revisions_table.c.label == label)).scalar() or 0)
    conn.execute(insert(revisions_table).values(
        store_id=store_id, label=label, revision=number, revised_at=now, reason=reason,
        superseded_evaluated_at=replaced_evaluated_at, changes=changes, verdicts={}))
    return number


def record_verdicts(engine: Engine, store: str, label: str, revision: int,
                    verdicts: Mapping[str, tuple[str | None, str]]) -> None:
    """The checks whose outcome the revision changed (check → [before, after])."""
    store_id = select(stores.c.id).where(stores.c.name == store).scalar_subquery()
    with engine.begin() as conn:
        conn.execute(update(revisions_table).where(
            revisions_table.c.store_id == store_id, revisions_table.c.label == label,
            revisions_table.c.revision == revision).values(
            verdicts={name: list(pair) for name, pair in verdicts.items()}))


def read_revisions(engine: Engine, store_id: int, label: str | None = None) -> list[Revision]:
    """Revisions of the store (of one `label`), oldest first."""
    t = revisions_table
    query = select(t).where(t.c.store_id == store_id).order_by(t.c.revised_at, t.c.id)
    if label is not None:
        query = query.where(t.c.label == label)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [Revision(label=r.label, revision=r.revision, revised_at=_utc(r.revised_at),
                     reason=r.reason, superseded_evaluated_at=_utc(r.superseded_evaluated_at),
                     changes={k: (v[0], v[1]) for k, v in (r.changes or {}).items()},
                     verdicts={k: (v[0], v[1]) for k, v in (r.verdicts or {}).items()})
            for r in rows]


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
