"""Streaming evaluation of a project's store: its Parquet datasets in column groups × row chunks.

    evaluation = stream_evaluation(project, "the_MES", {"day": "2026-11-23"})

What `scenarist store evaluate --stream` and a `build_evaluation` step of a store with
`streaming: true` run: the store's reference and input datasets (Parquet files or directories,
local or at any fsspec URL) are evaluated by `scenarist.flows.column_groups` on the store's
`task_runner` within its `memory_limit`, and the evaluation is recorded with both batches'
profiles. The model is loaded only for its feature names and target.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from scenarist.errors import ConfigError, ConfigProblem
from scenarist.operations.stores import open_store
from scenarist.project.config import Project, render
from scenarist.project.datasets import dataset_spec
from scenarist.project.models import load_model
from scenarist.stores.evaluation import Evaluation


def stream_evaluation(
    project: Project,
    store_name: str,
    variables: Mapping[str, Any] | None = None,
    *,
    on_group: Callable[[int, int, Sequence[str]], None] | None = None,
) -> Evaluation:
    """Stream the store's input batch against its reference and record the evaluation."""
    from scenarist.flows.column_groups import run_streaming_evaluation
    from scenarist.profiles.streaming import StreamOptions

    store = open_store(project, store_name)
    spec = project.evaluation_stores[store_name]
    if spec.deployment is not None or spec.model is None:
        raise _problem(project, store_name, "a store fed by a deployment cannot be streamed")
    values = {
        "now": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **project.variables,
        **(variables or {}),
    }
    label = render(spec.label, values, location=f"evaluation_stores.{store_name}.label")
    reference = _parquet_location(project, store_name, str(spec.reference), values)
    current = _parquet_location(project, store_name, str(spec.input), values)
    model = load_model(project, spec.model)
    features = [f for f in (spec.features or model.features) if f != model.target]
    options = StreamOptions(memory_limit=int(spec.memory_limit), method=spec.drift_method,
                            threshold=spec.drift_threshold, correction=spec.correction,
                            min_rows=spec.min_rows)
    computed, current_profile, reference_profile = run_streaming_evaluation(
        reference, current, columns=features or None, options=options,
        task_runner=spec.task_runner, dask_address=spec.dask_address, on_group=on_group,
    )
    return store.record(label, computed, model=model.name,
                        profiles=(current_profile, reference_profile))


def _parquet_location(project: Project, store: str, dataset: str,
                      values: Mapping[str, Any]) -> str:
    """A Parquet dataset's rendered path (made absolute) or URL."""
    spec = dataset_spec(project, dataset)
    if spec.path is None or spec.file_format != "parquet":
        raise _problem(project, store, f"streaming needs Parquet datasets, but {dataset!r} is "
                       f"{'a SQL query' if spec.path is None else 'CSV'}; convert it to Parquet "
                       "or set streaming: false")
    rendered = render(spec.path, values, location=f"datasets.{dataset}.path")
    return rendered if "://" in rendered else str(project.resolve_path(rendered))


def _problem(project: Project, store: str, message: str) -> ConfigError:
    return ConfigError([ConfigProblem(str(project.file or ""), f"evaluation_stores.{store}",
                                      message)])
