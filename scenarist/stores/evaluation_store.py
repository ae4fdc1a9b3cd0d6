"""The evaluation store: an append-only history of evaluations of one model against one reference.

    store = EvaluationStore.open("the_MES")                  # SQLite under .scenarist/ by default
    ev = store.evaluate(model, current_df, reference_df, label="2017Q4")
    store.history("data_drift")                             # pandas Series indexed by label

Everything one evaluation writes (its row and all its metric values) is written in one
transaction; evaluating a label that already exists replaces it in that same transaction, so a
reader sees the old evaluation or the new one, never both, never half of one. A replaced label
keeps its place in the history (ordered by its time range start when given, else by when the label
was first evaluated).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
from sqlalchemy import Engine, and_, delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from scenarist.errors import NotFoundError, StoreError
from scenarist.metrics.custom import CustomMetric
from scenarist.metrics.evaluation import ComputedEvaluation, EvaluationOptions
from scenarist.metrics.multiple_testing import Correction
from scenarist.metrics.segments import SegmentOptions, compute_with_segments
from scenarist.profiles import BatchProfile, ProfileDrift, profile_batches, window_drift
from scenarist.stores.database import connect, database_errors, display_url
from scenarist.stores.evaluation import Evaluation
from scenarist.stores.profiles import evaluation_profiles, reference_profile, save_profiles
from scenarist.stores.revisions import Revision, keep_revision, read_revisions
from scenarist.stores.schema import evaluations, metric_values, stores

_ORDER = (func.coalesce(evaluations.c.time_start, evaluations.c.created_at), evaluations.c.id)


class EvaluationStore:
    """A named evaluation store in a database (see the module docstring)."""

    def __init__(self, name: str, engine: Engine, store_id: int):
        self.name = name
        self._engine = engine
        self._id = store_id

    def __repr__(self) -> str:
        return f"EvaluationStore({self.name!r}, url={display_url(self._engine.url)!r})"

    @classmethod
    def open(
        cls, name: str, url: str | None = None, *, root: Path | str | None = None
    ) -> EvaluationStore:
        """Open the store `name` at `url` (default SQLite `.scenarist/store.db`), creating it."""
        if not name or not name.strip():
            raise StoreError("an evaluation store needs a non-empty name")
        engine = connect(url, root)
        with database_errors(engine, f"open store {name!r}"):
            store_id = _store_id(engine, name)
            if store_id is None:
                try:
                    with engine.begin() as conn:
                        conn.execute(
                            insert(stores).values(name=name, created_at=datetime.now(timezone.utc))
                        )
                except IntegrityError:
                    pass  # created concurrently by another process: use theirs
                store_id = _store_id(engine, name)
        assert store_id is not None
        return cls(name, engine, store_id)

    @staticmethod
    def names(url: str | None = None, *, root: Path | str | None = None) -> list[str]:
        """The names of every evaluation store in the database at `url`, sorted."""
        engine = connect(url, root)
        with database_errors(engine, "list the evaluation stores"), engine.connect() as conn:
            return sorted(conn.execute(select(stores.c.name)).scalars())

    # -- writing ----------------------------------------------------------------------------

    def evaluate(
        self,
        model: Any,
        current: pd.DataFrame,
        reference: pd.DataFrame,
        *,
        label: str | None = None,
        time_range: tuple[datetime, datetime] | None = None,
        options: EvaluationOptions | None = None,
        on_stage: Callable[[str], None] | None = None,
        segments: SegmentOptions | None = None,
        custom_metrics: Mapping[str, CustomMetric] | None = None,
        details: Mapping[str, Any] | None = None,
        snapshot_dir: Path | str | None = None,
        revision: str | None = None,
    ) -> Evaluation:
        """Compute every metric of `current` against `reference` and append it as `label`.

        `model` is a `LoadedModel` (see `scenarist.load_model` / `scenarist.model_from_estimator`).
        `label` defaults to the current UTC time. Re-using a label replaces that evaluation.
        Nothing is written when the computation fails.

        `segments` also computes every metric per segment (`scenarist.metrics.segments`);
        `custom_metrics` adds the team's own metrics (`scenarist.metrics.custom`); `details`
        are kept beside the computed ones; `snapshot_dir` keeps the evaluated rows (and the
        model's predictions) as a Parquet file there, for `export` (`scenarist.operations.export`).
        `revision` (a reason, e.g. "labels arrived") replaces `label` as a new revision, keeping
        the values it changes (`revisions`; then `scenarist.revise_verdicts` re-checks it).
        """
        if not hasattr(model, "features") or not hasattr(model, "target"):
            raise TypeError(
                "model must be a LoadedModel; wrap an estimator with "
                "scenarist.model_from_estimator(estimator, target=..., type='binary')"
            )
        computed = compute_with_segments(
            model, current, reference, options=options, segments=segments,
            custom_metrics=custom_metrics, on_stage=on_stage)
        if details:
            computed = replace(computed, details={**computed.details, **details})
        if snapshot_dir is not None:
            from scenarist.operations.export import pause_point, sweep_snapshots, write_snapshot

            sweep_snapshots(snapshot_dir, self._kept_snapshots())  # what killed runs left
            kept = write_snapshot(snapshot_dir, model, current, reference)
            pause_point("snapshot_written")
            computed = replace(computed, details={**computed.details, "snapshot": kept})
        try:
            return self.record(
                label or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                computed,
                model=model.name,
                time_range=time_range,
                profiles=_profiles(reference, current, computed.details.get("column_kinds")),
                revision=revision,
            )
        except BaseException:
            self._release_snapshot(computed.details.get("snapshot"))  # nothing half-written
            raise

    def record(
        self,
        label: str,
        computed: ComputedEvaluation,
        *,
        model: str,
        time_range: tuple[datetime, datetime] | None = None,
        revision: str | None = None,
        profiles: tuple[BatchProfile, BatchProfile] | None = None,
    ) -> Evaluation:
        """Append (or replace) the evaluation `label` with already computed metrics.

        `profiles` (the batch's and the reference's, `scenarist.profiles`) are kept with it, so
        drift over any window of evaluations needs no raw data (`window_drift`).

        `revision` (a reason, e.g. "late labels") replaces it as a new revision: the values it
        changes are kept in its revision history (`revisions`), in the same transaction."""
        if not label or not str(label).strip():
            raise StoreError("an evaluation needs a non-empty label, e.g. '2017Q4'")
        now = datetime.now(timezone.utc)
        start, end = time_range or (None, None)
        with database_errors(self._engine, f"write evaluation {label!r} of store {self.name!r}"):
            with self._engine.begin() as conn:
                previous = conn.execute(
                    select(evaluations.c.id, evaluations.c.created_at,
                           evaluations.c.evaluated_at, evaluations.c.details)
                    .where(self._is(label))
                ).first()
                if previous is not None and revision is not None:
                    number = keep_revision(
                        conn, store_id=self._id, label=label, replaced_id=previous.id,
                        replaced_evaluated_at=previous.evaluated_at, new_values=computed.values,
                        reason=revision, now=now)
                    computed = replace(computed, details={**computed.details, "revision": number})
                if previous is not None:
                    conn.execute(
                        delete(metric_values).where(metric_values.c.evaluation_id == previous.id)
                    )
                    conn.execute(delete(evaluations).where(evaluations.c.id == previous.id))
                evaluation_id = conn.execute(
                    insert(evaluations)
                    .values(
                        store_id=self._id,
                        label=label,
                        created_at=previous.created_at if previous else now,
                        evaluated_at=now,
                        time_start=start,
                        time_end=end,
                        model=model,
                        row_count=computed.row_count,
                        reference_row_count=computed.reference_row_count,
                        details=computed.details,
                    )
                    .returning(evaluations.c.id)
                ).scalar_one()
                rows = [
                    {
                        "evaluation_id": evaluation_id,
                        "metric": v.metric,
                        "feature": v.feature,
                        "value": _storable(v.value),
                        "segment": v.segment,
                    }
                    for v in computed.values
                ]
                if rows:
                    conn.execute(insert(metric_values), rows)
                if profiles is not None:
                    save_profiles(conn, self._id, evaluation_id, *profiles)
        if previous is not None:
            self._release_snapshot((previous.details or {}).get("snapshot"))
        return self.get(label)

    def delete(self, label: str) -> None:
        """Remove the evaluation `label` and its metrics."""
        with database_errors(self._engine, f"delete evaluation {label!r}"):
            with self._engine.begin() as conn:
                found = conn.execute(select(evaluations.c.id, evaluations.c.details)
                                     .where(self._is(label))).first()
                if found is None:
                    raise self._missing(label)
                conn.execute(delete(metric_values).where(metric_values.c.evaluation_id == found.id))
                conn.execute(delete(evaluations).where(evaluations.c.id == found.id))
        self._release_snapshot((found.details or {}).get("snapshot"))

    def _kept_snapshots(self) -> set[str]:
        """The SHA-256 of every snapshot an evaluation refers to, in any store of this
        database (stores may share a snapshot folder when evaluated from Python)."""
        digest = evaluations.c.details[("snapshot", "sha256")].as_string()
        with self._engine.connect() as conn:
            return set(conn.execute(select(digest).where(digest.is_not(None))).scalars())

    def _release_snapshot(self, snapshot: Mapping[str, Any] | None) -> None:
        """Remove a kept-rows file (`scenarist.operations.export`) that no evaluation of this store
        refers to any more: identical batches share one file, so it goes with its last
        evaluation."""
        if not snapshot or not snapshot.get("file") or not snapshot.get("sha256"):
            return
        digest = evaluations.c.details[("snapshot", "sha256")].as_string()
        with self._engine.connect() as conn:
            used = conn.execute(select(evaluations.c.id).where(
                evaluations.c.store_id == self._id, digest == snapshot["sha256"]).limit(1)).first()
        if used is None:
            Path(snapshot["file"]).unlink(missing_ok=True)

    # -- reading ----------------------------------------------------------------------------

    def get(self, label: str, segment: str | None = None) -> Evaluation:
        """The evaluation `label`; NotFoundError lists the labels that exist.

        Its metrics are those of all rows; with `segment` ("device=mobile"), that segment's
        (NotFoundError lists the segments of the evaluation)."""
        with self._engine.connect() as conn:
            row = conn.execute(select(evaluations).where(self._is(label))).first()
            if row is None:
                raise self._missing(label)
            values = conn.execute(
                select(metric_values.c.metric, metric_values.c.feature, metric_values.c.value)
                .where(metric_values.c.evaluation_id == row.id, _segment_is(segment))
                .order_by(metric_values.c.id)
            ).all()
        evaluation = Evaluation.from_rows(self.name, row, values)
        if segment is None:
            return evaluation
        known = dict(evaluation.details.get("segments") or {})
        if segment not in known:
            raise NotFoundError(
                f"evaluation {label!r} of store {self.name!r} has no segment {segment!r}; "
                f"segments: {', '.join(known) or 'none (set segment_by on the store)'}")
        facts = known[segment]
        return replace(evaluation, segment=segment, row_count=int(facts.get("rows", 0)),
                       reference_row_count=int(facts.get("reference_rows", 0)),
                       details={**evaluation.details, "segment": facts})

    def export(self, label: str, output: Path | str, format: str | None = None) -> Path:
        """Write the rows behind evaluation `label` (features, additional data, labels, the
        model's predictions) to `output`, Parquet or CSV; see `scenarist.operations.export`."""
        from scenarist.operations.export import export_rows

        return export_rows(self.get(label), output, format)  # type: ignore[arg-type]

    def segments(self, label: str) -> list[str]:
        """The segments of evaluation `label` ("device=mobile", …), as computed."""
        return list(self.get(label).details.get("segments") or {})

    def segment_table(self, label: str) -> pd.DataFrame:
        """One row per segment of evaluation `label`: its status, row counts, the reason it is
        empty (if it is) and every dataset-level metric; indexed by segment name."""
        evaluation = self.get(label)
        facts = dict(evaluation.details.get("segments") or {})
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(metric_values.c.segment, metric_values.c.metric, metric_values.c.value)
                .join(evaluations, evaluations.c.id == metric_values.c.evaluation_id)
                .where(self._is(label), metric_values.c.segment.is_not(None),
                       metric_values.c.feature.is_(None))
            ).all()
        values = pd.DataFrame(rows, columns=["segment", "metric", "value"])
        wide = values.pivot(index="segment", columns="metric", values="value").astype(float) \
            if len(values) else pd.DataFrame(index=pd.Index([], name="segment"))
        info = pd.DataFrame.from_dict(
            {name: {"column": f.get("column"), "status": f.get("status"),
                    "reference_rows": f.get("reference_rows"), "reason": f.get("reason")}
             for name, f in facts.items()}, orient="index",
            columns=["column", "status", "reference_rows", "reason"])
        table = info.join(wide.drop(columns=[c for c in wide.columns if c in info.columns]))
        table.index.name = "segment"
        return table

    def revisions(self, label: str | None = None) -> list[Revision]:
        """How late labels revised the evaluations (of `label`), oldest first
        (`scenarist.stores.revisions`)."""
        with database_errors(self._engine, f"read the revisions of store {self.name!r}"):
            return read_revisions(self._engine, self._id, label)

    def latest(self) -> Evaluation | None:
        """The most recent evaluation in history order, or None when the store is empty."""
        labels = self.labels()
        return self.get(labels[-1]) if labels else None

    def evaluations(self, metrics: Sequence[str] | None = None,
                    details: Sequence[str] | None = None) -> list[Evaluation]:
        """Every evaluation with its metrics (of all rows), oldest first, read in two queries:
        what `[store.get(label) for label in store.labels()]` returns, for replaying a history.

        `metrics`, when given, keeps only those keys of `Evaluation.metrics` (`auc`,
        `ks_pvalue[card_age]`): read through the metric index, so replaying a few checks over
        a long history does not read every metric of every evaluation; `details`, only those
        keys of `Evaluation.details` (those it has), not its histograms and the rest."""
        wanted = [] if metrics is None else [_metric_is(key) for key in dict.fromkeys(metrics)]
        keys = None if details is None else list(dict.fromkeys(details))
        facts = [*evaluations.c] if keys is None else [
            *(c for c in evaluations.c if c.name != "details"),
            *(evaluations.c.details[key].label(f"details_{i}") for i, key in enumerate(keys))]
        with self._engine.connect() as conn:
            rows = conn.execute(select(*facts).where(evaluations.c.store_id == self._id)
                                .order_by(*_ORDER)).all()
            values = [] if metrics is not None and not wanted else conn.execute(
                select(metric_values.c.evaluation_id, metric_values.c.metric,
                       metric_values.c.feature, metric_values.c.value)
                .join(evaluations, evaluations.c.id == metric_values.c.evaluation_id)
                .where(evaluations.c.store_id == self._id, _segment_is(None),
                       *([or_(*wanted)] if wanted else []))
                .order_by(metric_values.c.id)).all()
        grouped: dict[int, list[Any]] = {}
        for value in values:
            grouped.setdefault(value.evaluation_id, []).append(value)
        if keys is not None:
            rows = [SimpleNamespace(**row._mapping, details={
                key: part for key, part in zip(keys, row[-len(keys):] if keys else (),
                                               strict=True) if part is not None})
                    for row in rows]
        return [Evaluation.from_rows(self.name, row, grouped.get(row.id, [])) for row in rows]

    def labels(self) -> list[str]:
        """Labels of every evaluation, oldest first."""
        with self._engine.connect() as conn:
            return list(
                conn.execute(
                    select(evaluations.c.label)
                    .where(evaluations.c.store_id == self._id)
                    .order_by(*_ORDER)
                ).scalars()
            )

    def list(self, metrics: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per evaluation (oldest first): its facts and every dataset-level metric (only
        `metrics`, when given: read through the metric index, a long history stays fast)."""
        with self._engine.connect() as conn:
            facts = pd.DataFrame(
                conn.execute(
                    select(
                        evaluations.c.id,
                        evaluations.c.label,
                        evaluations.c.evaluated_at,
                        evaluations.c.time_start,
                        evaluations.c.time_end,
                        evaluations.c.model,
                        evaluations.c.row_count,
                    )
                    .where(evaluations.c.store_id == self._id)
                    .order_by(*_ORDER)
                ).all(),
                columns=[
                    "id", "label", "evaluated_at", "time_start", "time_end", "model", "row_count"
                ],
            )
            values = pd.DataFrame(
                conn.execute(
                    select(metric_values.c.evaluation_id, metric_values.c.metric,
                           metric_values.c.value)
                    .join(evaluations, evaluations.c.id == metric_values.c.evaluation_id)
                    .where(evaluations.c.store_id == self._id, metric_values.c.feature.is_(None),
                           metric_values.c.segment.is_(None),
                           *([] if metrics is None else [metric_values.c.metric.in_(metrics)]))
                ).all(),
                columns=["id", "metric", "value"],
            )
        wide = values.pivot(index="id", columns="metric", values="value").astype(float)
        wide = wide.drop(columns=[c for c in wide.columns if c in facts.columns])  # row_count
        table = facts.merge(wide, left_on="id", right_index=True, how="left")
        return table.drop(columns="id").set_index("label")

    def history(
        self, metric: str, feature: str | None = None, segment: str | None = None
    ) -> pd.Series:
        """`metric` (of `feature`, for per-feature metrics) over every evaluation, oldest first;
        of all rows, or of one `segment` ("device=mobile").

        Evaluations that lack the metric (e.g. `auc` before labels arrived) are NaN. A metric no
        evaluation has is a NotFoundError listing the metrics that exist.
        """
        condition = and_(
            metric_values.c.evaluation_id == evaluations.c.id,
            metric_values.c.metric == metric,
            metric_values.c.feature.is_(None)
            if feature is None
            else metric_values.c.feature == feature,
            _segment_is(segment),
        )
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(evaluations.c.label, metric_values.c.value)
                .select_from(evaluations.outerjoin(metric_values, condition))
                .where(evaluations.c.store_id == self._id)
                .order_by(*_ORDER)
            ).all()
        name = metric if feature is None else f"{metric}[{feature}]"
        name = name if segment is None else f"{name} ({segment})"
        series = pd.Series(
            [math.nan if v is None else float(v) for _, v in rows],
            index=pd.Index([label for label, _ in rows], name="label"),
            name=name,
            dtype=float,
        )
        if rows and series.isna().all() and not self._has_metric(metric, feature):
            raise NotFoundError(
                f"no evaluation of store {self.name!r} has metric {name!r}; "
                f"available: {', '.join(self.metric_names(feature is not None))}"
            )
        return series

    def metric_names(self, per_feature: bool = False) -> list[str]:
        """Names of the dataset-level (or per-feature) metrics present in this store."""
        feature = metric_values.c.feature
        feature_test = feature.is_not(None) if per_feature else feature.is_(None)
        with self._engine.connect() as conn:
            return sorted(
                conn.execute(
                    select(metric_values.c.metric)
                    .distinct()
                    .join(evaluations, evaluations.c.id == metric_values.c.evaluation_id)
                    .where(evaluations.c.store_id == self._id, feature_test,
                           metric_values.c.segment.is_(None))
                ).scalars()
            )

    # -- profiles ---------------------------------------------------------------------------

    def window_drift(
        self,
        last: int | None = None,
        *,
        labels: Sequence[str] | None = None,
        method: str = "auto",
        threshold: float | None = None,
        sketches: bool = False,
        correction: Correction = "benjamini_hochberg",
    ) -> ProfileDrift:
        """Drift of the union of the `last` N evaluations (or of `labels`; default: all) against
        the reference, from their stored profiles, without reading raw data. Statistics and
        their errors versus the exact ones: `scenarist.profiles.window`. `sketches` also merges
        the KLL sketches for `ks_statistic_sketch` (slower over many columns)."""
        if labels is None:
            if last is not None and last < 1:
                raise StoreError(f"last must be at least 1, got {last}")
            labels = self.labels()[-last:] if last else self.labels()
        labels = list(labels)
        if not labels:
            raise NotFoundError(f"store {self.name!r} has no evaluations yet; evaluate a batch "
                                f"first (`scenarist store evaluate {self.name}`)")
        with database_errors(self._engine, f"read the profiles of store {self.name!r}"):
            reference = reference_profile(self._engine, self._id, sketches=sketches)
            windows = evaluation_profiles(self._engine, self._id, labels, reference,
                                          sketches=sketches)
        return window_drift(reference, windows, labels=labels, method=method,
                            threshold=threshold, sketches=sketches, correction=correction)

    def profile(self, label: str | None = None, *, sketches: bool = True) -> BatchProfile:
        """The stored profile of evaluation `label`, or of the reference when None."""
        with database_errors(self._engine, f"read the profiles of store {self.name!r}"):
            reference = reference_profile(self._engine, self._id, sketches=sketches)
            if label is None:
                return reference
            return evaluation_profiles(self._engine, self._id, [label], reference,
                                       sketches=sketches)[0]

    # -- helpers ----------------------------------------------------------------------------

    def _is(self, label: str):
        return and_(evaluations.c.store_id == self._id, evaluations.c.label == label)

    def _has_metric(self, metric: str, feature: str | None) -> bool:
        names = self.metric_names(per_feature=feature is not None)
        return metric in names

    def _missing(self, label: str) -> NotFoundError:
        labels = self.labels()
        known = ", ".join(labels) if labels else "none yet"
        return NotFoundError(
            f"store {self.name!r} has no evaluation labelled {label!r}; evaluations: {known}"
        )


def _store_id(engine: Engine, name: str) -> int | None:
    with engine.connect() as conn:
        return conn.execute(select(stores.c.id).where(stores.c.name == name)).scalar()


def _metric_is(key: str):
    """The metric_values rows of one `Evaluation.metrics` key (`auc`, `psi[card_age]`)."""
    if key.endswith("]") and "[" in key:
        metric, feature = key[:-1].split("[", 1)
        return and_(metric_values.c.metric == metric, metric_values.c.feature == feature)
    return and_(metric_values.c.metric == key, metric_values.c.feature.is_(None))


def _segment_is(segment: str | None):
    """All rows' metrics (segment NULL), or one segment's."""
    column = metric_values.c.segment
    return column.is_(None) if segment is None else column == segment


def _profiles(reference: pd.DataFrame, current: pd.DataFrame, kinds: Any
              ) -> tuple[BatchProfile, BatchProfile] | None:
    """Both batches' profiles of the evaluated features (`scenarist.profiles`); None when the
    evaluation names no feature kinds."""
    return profile_batches(reference, current, kinds) if kinds else None


def _storable(value: float) -> float | None:
    """NaN and infinities are stored as NULL (SQLite has no NaN) and read back as NaN."""
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value

