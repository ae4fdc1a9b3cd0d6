"""Stored profiles: one row per evaluation (its batch's profile) and one per store (the profile
of its reference, `evaluation_id` NULL), in `scenarist_profiles` (Alembic branch "profiles").

    save_profiles(conn, store_id, evaluation_id, current, reference)  # in the caller's transaction
    window_profiles(engine, store_id, last=30)  -> (reference, [(label, profile), ...])

A profile is two blobs: `summary` (counts, moments, fine histograms; what drift over a window
reads) and `sketches` (the KLL sketches, read only when asked for). An evaluation's row goes
when the evaluation goes (ON DELETE CASCADE, and re-evaluating a label replaces it).
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    delete,
    insert,
    select,
)

from scenarist.errors import InputDataError, NotFoundError
from scenarist.profiles.profile import BatchProfile
from scenarist.stores.schema import evaluations, metadata

profiles = Table(
    "scenarist_profiles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("store_id", Integer, ForeignKey("scenarist_stores.id", ondelete="CASCADE"),
           nullable=False),
    Column("evaluation_id", Integer, ForeignKey("scenarist_evaluations.id", ondelete="CASCADE"),
           nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("row_count", BigInteger, nullable=False),
    Column("edges_digest", String(32), nullable=False),
    Column("summary", LargeBinary, nullable=False),
    Column("sketches", LargeBinary, nullable=False),
    Index("ix_scenarist_profiles_store", "store_id", "evaluation_id"),
)


def save_profiles(
    conn: Connection,
    store_id: int,
    evaluation_id: int,
    current: BatchProfile,
    reference: BatchProfile | None = None,
) -> None:
    """Write an evaluation's profile and, when given and changed, the store's reference profile,
    in the caller's transaction."""
    if reference is not None:
        stored = conn.execute(
            select(profiles.c.edges_digest, profiles.c.row_count).where(_reference_of(store_id))
        ).first()
        if stored is None or tuple(stored) != (reference.edges_digest, reference.rows):
            conn.execute(delete(profiles).where(_reference_of(store_id)))
            _insert(conn, store_id, None, reference)
    conn.execute(delete(profiles).where(profiles.c.evaluation_id == evaluation_id))
    _insert(conn, store_id, evaluation_id, current)


def reference_profile(engine: Engine, store_id: int, *, sketches: bool = False) -> BatchProfile:
    """The store's reference profile; NotFoundError when none was recorded yet."""
    with engine.connect() as conn:
        row = conn.execute(
            select(profiles.c.summary, *([profiles.c.sketches] if sketches else []))
            .where(_reference_of(store_id))
        ).first()
    if row is None:
        raise NotFoundError("this store has no reference profile yet; evaluate a batch first "
                            "(`scenarist store evaluate STORE`)")
    return BatchProfile.from_bytes(*row)


def evaluation_profiles(
    engine: Engine, store_id: int, labels: list[str], reference: BatchProfile, *,
    sketches: bool = False,
) -> list[BatchProfile]:
    """The profiles of the evaluations `labels`, in that order, on the edges of `reference`
    (the store's reference profile). NotFoundError names the labels that have none
    (evaluations recorded before profiles existed, or without raw data); InputDataError those
    profiled against another reference."""
    columns = [evaluations.c.label, profiles.c.edges_digest, profiles.c.summary]
    if sketches:
        columns.append(profiles.c.sketches)
    with engine.connect() as conn:
        rows = conn.execute(
            select(*columns)
            .join(evaluations, evaluations.c.id == profiles.c.evaluation_id)
            .where(evaluations.c.store_id == store_id, evaluations.c.label.in_(labels))
        ).all()
    other = sorted(row[0] for row in rows if row[1] != reference.edges_digest)
    if other:
        raise InputDataError(
            f"evaluation(s) {', '.join(other)} were profiled against another reference than "
            "the store's current one; choose evaluations made since the reference changed")
    found = {row[0]: BatchProfile.from_bytes(*row[2:], edges=reference.edges, digest=row[1])
             for row in rows}
    missing = [label for label in labels if label not in found]
    if missing:
        raise NotFoundError(
            f"evaluation(s) {', '.join(missing)} have no profile (recorded before profiles "
            "were kept); re-evaluate them or choose other evaluations"
        )
    return [found[label] for label in labels]


def _insert(conn: Connection, store_id: int, evaluation_id: int | None,
            profile: BatchProfile) -> None:
    summary, sketches = profile.to_bytes(with_edges=evaluation_id is None)  # the reference's
    conn.execute(insert(profiles).values(
        store_id=store_id, evaluation_id=evaluation_id, created_at=datetime.now(timezone.utc),
        row_count=profile.rows, edges_digest=profile.edges_digest, summary=summary,
        sketches=sketches,
    ))


def _reference_of(store_id: int):
    return (profiles.c.store_id == store_id) & profiles.c.evaluation_id.is_(None)
