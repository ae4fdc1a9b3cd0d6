"""How the console's pages reach the project's stores, through the public API.

A store is one of the project's `evaluation_stores`, or any other store in the project's
default database (one written by the Python API, `EvaluationStore.open(name).record(...)`).
Errors are the API's own (`NotFoundError`, `StoreError`, `ConfigError`); the app turns them into
pages (`scenarist.console.app`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import Request

from scenarist.console.state import console_state
from scenarist.errors import NotFoundError, ScenaristError
from scenarist.stores.evaluation_store import EvaluationStore


class NoProject(ScenaristError):
    """A page that needs the project, in a console started without one (`scenarist ui` with
    only `--url`): shown as a 404 page that says how to start it with one."""


def project_of(request: Request) -> Any:
    """The console's project; NoProject (shown as a page) when it was started without one."""
    project = console_state(request).project_or_none()
    if project is None:
        raise NoProject("this console was started without a project, so it shows deployments "
                        "only")
    return project


def store_names(project: Any) -> list[str]:
    """The project's stores (in file order), then the other stores of its default database."""
    others = EvaluationStore.names(root=project.root)
    return [*project.evaluation_stores, *(n for n in others if n not in project.evaluation_stores)]


def open_named(project: Any, name: str) -> EvaluationStore:
    from scenarist.operations.build import open_store

    if name in project.evaluation_stores:
        return open_store(project, name)
    if name in EvaluationStore.names(root=project.root):
        return EvaluationStore.open(name, root=project.root)
    raise NotFoundError(f"no evaluation store {name!r}; stores: "
                        f"{', '.join(store_names(project)) or 'none yet'}")


_IMPORTANCE: dict[tuple[str, str, float], dict[str, float] | None] = {}


def model_importance(project: Any, name: str) -> dict[str, float] | None:
    """The project model's own feature importance (`feature_importances_`, else |coef_|,
    normalised; `ModelInfo`), None when the model has none or is not the project's. Loaded once
    per model file version."""
    from scenarist.deployments.model_info import ModelInfo
    from scenarist.project.models import load_model

    spec = project.models.get(name)
    if spec is None:
        return None
    path = project.resolve_path(spec.path)
    key = (str(path), name, path.stat().st_mtime if path.exists() else 0.0)
    if key not in _IMPORTANCE:
        try:
            _IMPORTANCE[key] = ModelInfo.from_model(load_model(project, name), None) \
                .feature_importance
        except (ScenaristError, TypeError, ValueError, OSError):
            _IMPORTANCE[key] = None
    return _IMPORTANCE[key]


def store_checks(project: Any, store: str) -> dict[str, Any]:
    """The project's checks on `store`, by name."""
    return {name: spec for name, spec in project.checks.items() if spec.store == store}


def check_results(project: Any, store: str | None = None, check: str | None = None
                  ) -> pd.DataFrame:
    """The stored check history (`scenarist.stores.check_results.check_history`) of `store` (or
    of every project store), oldest first."""
    from scenarist.operations.checking import store_engine
    from scenarist.stores.check_results import check_history
    from scenarist.stores.database import connect

    engine = (store_engine(project, store) if store in project.evaluation_stores
              else connect(None, project.root))
    return check_history(engine, check=check, store=store)


def latest_outcomes(results: pd.DataFrame) -> dict[tuple[str, str], str]:
    """(evaluation label, check) → the latest stored outcome of all rows (segments aside).
    `results` is oldest first, so a later result of the same pair replaces an earlier one."""
    latest: dict[tuple[str, str], str] = {}
    for label, check, outcome, segment in zip(
            results["evaluation_label"].tolist(), results["check"].tolist(),
            results["outcome"].astype(str).tolist(), results["segment"].tolist(), strict=True):
        if segment is None or segment != segment:  # None, or NaN from pandas
            latest[(label, check)] = outcome
    return latest
