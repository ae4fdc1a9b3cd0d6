"""A project's evaluation stores: the spec of one by name, and the store opened at its
connection. Both `build` (batches) and `streamed` (Parquet in column groups) write through it,
so neither needs the other to open a store.

    store_spec(project, "the_MES")   EvaluationStoreSpec, or ConfigError listing the stores
    open_store(project, "the_MES")   EvaluationStore at the store's connection URL
"""

from __future__ import annotations

from scenarist.errors import ConfigError, ConfigProblem
from scenarist.project.config import EvaluationStoreSpec, Project
from scenarist.stores.evaluation_store import EvaluationStore


def store_spec(project: Project, name: str) -> EvaluationStoreSpec:
    """The spec of evaluation store `name`; a ConfigError listing the defined stores if none."""
    spec = project.evaluation_stores.get(name)
    if spec is None:
        known = ", ".join(sorted(project.evaluation_stores)) or "none"
        raise ConfigError([ConfigProblem(
            file=str(project.file or ""), location="evaluation_stores",
            message=f"unknown evaluation store {name!r}; defined stores: {known}")])
    return spec


def open_store(project: Project, name: str) -> EvaluationStore:
    """The evaluation store `name` of `project`, at its connection's URL."""
    spec = store_spec(project, name)
    connection = project.connections.get(spec.connection)
    url = connection.resolved_url() if connection is not None else None
    return EvaluationStore.open(name, url, root=project.root)
