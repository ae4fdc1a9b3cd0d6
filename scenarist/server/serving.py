"""The models a server serves, one per deployment, and their atomic replacement.

A deployment stores its model's declaration, not the estimator, so the server is given the
estimator of each deployment it serves: `scenarist serve --model DEPLOYMENT_ID=model.joblib`
(or `ServedModels.load(deployment_id, path)` / `serve(deployment, model)` from Python). The
estimator is wrapped with the deployment's own declaration (target, type, features, positive
label) and must pass `validate_replacement_model` against it, so a wrong file is refused at
start-up.

`Served` is an immutable snapshot: (deployment, model, model version, prediction warning
bounds). A request reads the snapshot once and uses it to the end, so a replacement never
changes the model under a request in flight. `replace` loads nothing on the request path: the
caller hands in a loaded model, it is validated, `Deployment.replace_model` records the new
version, the new snapshot is prepared (warning bounds included), and only then is the one
dictionary slot reassigned — an atomic pointer swap; requests never wait for it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib

from scenarist.deployments import Deployment, ReplacementStatus
from scenarist.deployments.ingest import warning_bounds
from scenarist.errors import ConfigError, ModelLoadError, NotFoundError
from scenarist.project.models import LoadedModel, model_from_estimator


@dataclass(frozen=True)
class Served:
    """What one request uses: never mutated, replaced whole."""

    deployment: Deployment
    model: LoadedModel
    version: int
    warning_bounds: tuple[float, float] | None


class ServedModels:
    """Deployment id → `Served`, with a lock per deployment that serialises its writers."""

    def __init__(self, url: str | None = None):
        self.url = url
        self._served: dict[str, Served] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, deployment_id: str) -> Served | None:
        return self._served.get(deployment_id)

    def ids(self) -> list[str]:
        return sorted(self._served)

    def lock(self, deployment_id: str) -> threading.Lock:
        """Held while a deployment is written by the server (monitoring flush, replacement)."""
        with self._guard:
            return self._locks.setdefault(deployment_id, threading.Lock())

    def load(self, deployment_id: str, path: Path | str) -> Served:
        """Serve the estimator in `path` (joblib) for the deployment."""
        deployment = Deployment.get(deployment_id, url=self.url)
        return self.serve(deployment, wrap(deployment, load_estimator(path)))

    def serve(self, deployment: Deployment, model: LoadedModel) -> Served:
        """Serve `model` as the deployment's current model version (checked against it)."""
        _check_fits(deployment, model)
        served = _snapshot(deployment, model)
        self._served[deployment.id] = served
        return served

    def replace(self, deployment_id: str, model: LoadedModel, reason: str = "OTHER") -> Served:
        """Validate, record the new model version, then swap it in atomically."""
        current = self._served.get(deployment_id)
        if current is None:
            raise NotFoundError(f"deployment {deployment_id} is not served by this server; "
                                f"served: {', '.join(self.ids()) or 'none'}")
        with self.lock(deployment_id):
            deployment = Deployment.get(deployment_id, url=self.url)
            deployment.replace_model(model, reason)  # validates; refuses a failing model
            served = _snapshot(deployment, model)
            self._served[deployment_id] = served  # the swap: one reference assignment
        return served

    def refresh_settings(self, deployment_id: str) -> Served:
        """Re-read the deployment's settings (prediction warnings, association id)."""
        with self.lock(deployment_id):
            current = self._served[deployment_id]
            deployment = Deployment.get(deployment_id, url=self.url)
            if deployment.model_version != current.version:
                raise ConfigError(f"deployment {deployment_id} moved to model version "
                                  f"{deployment.model_version} outside this server; restart it")
            served = _snapshot(deployment, current.model)
            self._served[deployment_id] = served
        return served


def job_batch(deployment: Deployment, prefix: str) -> Any:
    """A new monitoring batch for one scoring job: `PREFIX - <UTC time to the millisecond>`."""
    if not prefix.strip():
        raise ConfigError("the monitoring batch prefix is empty; give a name such as "
                          "'Batch From predict.py'")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return deployment.create_batch(f"{prefix.strip()} - {stamp}")


def open_batch(deployment: Deployment, batch: str) -> Any:
    """The batch `batch` (id or name), refused when locked."""
    found = deployment.get_batch(batch)
    if found.locked:
        raise ConfigError(f"monitoring batch {found.name!r} is locked; predictions cannot join "
                          "it. Create a new batch.")
    return found


def load_estimator(path: Path | str) -> Any:
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"model file {path} does not exist")
    try:
        return joblib.load(path)
    except Exception as exc:  # unpickling can raise almost anything on a bad file
        raise ModelLoadError(f"{path} is not a joblib/pickle file: "
                             f"{type(exc).__name__}: {exc}") from exc


def wrap(deployment: Deployment, estimator: Any, name: str | None = None) -> LoadedModel:
    """The estimator with the deployment's declaration (target, type, features, …)."""
    info = deployment.model
    return model_from_estimator(estimator, target=info.target, type=info.type,  # type: ignore[arg-type]
                                features=list(info.features), name=name or info.name,
                                positive_label=info.positive_label)


def _check_fits(deployment: Deployment, model: LoadedModel) -> None:
    status, message, _checks = deployment.validate_replacement_model(model)
    if status == ReplacementStatus.FAILING:
        raise ConfigError(f"model {model.name!r} does not fit deployment {deployment.id}: "
                          f"{message}")


def _snapshot(deployment: Deployment, model: LoadedModel) -> Served:
    bounds = None
    if deployment.settings.prediction_warnings.enabled and model.type != "multiclass":
        bounds = warning_bounds(deployment)
    return Served(deployment, model, deployment.model_version, bounds)
