"""Building an evaluation store of a project: read its datasets, load its model, evaluate.

This is what `scenarist store evaluate` and the scenarios' `build_evaluation` step run:

    project = load_project(".")
    evaluation = build_evaluation(project, "the_MES", {"quarter": "2017Q4"})

Variables are the project's `variables`, overridden by the ones given, plus `now` (the UTC
time, ISO 8601 to the second). They select the input batch (`"data/transactions_{{ quarter }}"`)
and name the evaluation (`label: "{{ quarter }}"`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from scenarist.errors import ConfigError, ConfigProblem
from scenarist.metrics.custom import CustomMetric
from scenarist.metrics.evaluation import EvaluationOptions
from scenarist.metrics.segments import SegmentOptions
from scenarist.operations.stores import open_store, store_spec
from scenarist.operations.streamed import stream_evaluation
from scenarist.project.config import EvaluationStoreSpec, Project, render
from scenarist.project.datasets import read_dataset
from scenarist.project.imports import import_function
from scenarist.project.models import load_model
from scenarist.project.secondary import join_project_datasets
from scenarist.stores.evaluation import Evaluation

__all__ = ["build_evaluation", "open_store"]  # open_store: re-exported for its callers


def build_evaluation(
    project: Project,
    store_name: str,
    variables: Mapping[str, Any] | None = None,
    *,
    on_stage: Callable[[str], None] | None = None,
    revision: str | None = None,
) -> Evaluation:
    """Evaluate the store's input batch (selected by `variables`) and append it to the store.

    `revision` (a reason, e.g. "labels arrived") replaces an existing evaluation of the label as
    a new revision (`scenarist.operations.revisions`; then `revise_verdicts` re-checks it)."""
    spec = store_spec(project, store_name)
    if spec.deployment is not None:
        raise ConfigError([ConfigProblem(
            str(project.file or ""), f"evaluation_stores.{store_name}",
            f"store {store_name!r} is fed by deployment {spec.deployment!r}; evaluate it with "
            "an `evaluate_deployment` step (or Deployment.evaluate), not build_evaluation")])
    if spec.streaming:  # Parquet in column groups × row chunks (scenarist.operations.streamed)
        if revision is not None:
            raise ConfigError([ConfigProblem(
                str(project.file or ""), f"evaluation_stores.{store_name}.streaming",
                f"store {store_name!r} is streamed, and streamed evaluations have no "
                "label-dependent metrics to revise; evaluate it without a revision")])
        return stream_evaluation(project, store_name, variables)
    stage = on_stage or (lambda _name: None)
    values = {
        "now": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **project.variables,
        **(variables or {}),
    }
    label = render(spec.label, values, location=f"evaluation_stores.{store_name}.label")
    store = open_store(project, store_name)
    stage("loading model")
    model = load_model(project, spec.model)
    stage("reading reference")
    reference = read_dataset(project, spec.reference, values)
    stage("reading input")
    current = read_dataset(project, spec.input, values)
    options = evaluation_options(spec)
    current, reference, joined = join_project_datasets(project, spec.secondary_datasets,
                                                       current, reference, values)
    return store.evaluate(
        model, current, reference, label=label, options=options, on_stage=on_stage,
        segments=segment_options(spec), custom_metrics=custom_metrics(project, spec),
        details={"secondary_datasets": joined} if joined else None,
        snapshot_dir=project.root / ".scenarist" / "snapshots" / store_name
        if spec.keep_rows else None, revision=revision,
    )


def evaluation_options(spec: EvaluationStoreSpec) -> EvaluationOptions:
    """How the store's evaluations are computed (drift method, min_rows, correction, …)."""
    return EvaluationOptions(
        drift_method=spec.drift_method,
        drift_threshold=spec.drift_threshold,
        max_rows_per_side=spec.max_rows_per_side,
        performance=spec.performance,
        features=tuple(spec.features) if spec.features else None,
        min_rows=spec.min_rows,
        correction=spec.correction,
    )


def segment_options(spec: EvaluationStoreSpec) -> SegmentOptions | None:
    """The store's segments (`segment_by`), None when it has none."""
    if not spec.segment_by:
        return None
    return SegmentOptions(by=tuple(spec.segment_by), top_n=spec.segment_top_n,
                          min_rows=spec.segment_min_rows)


def custom_metrics(project: Project, spec: EvaluationStoreSpec) -> dict[str, CustomMetric]:
    """The store's custom metrics imported (project folder first); ConfigError when one cannot
    be imported."""
    return {name: import_function(metric.python, project.root)  # type: ignore[misc]
            for name, metric in spec.metrics.items()}
