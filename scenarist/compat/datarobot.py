"""DataRobot's `datarobot` client, mirrored over scenarist: change one import and run.

    import scenarist.compat.datarobot as dr           # was: import datarobot as dr
    dr.Client()                                       # the local store (SCENARIST_STORE_URL)
    dr.Client(endpoint="http://127.0.0.1:8080", token="sck_…")   # a `scenarist serve`
    deployment = dr.Deployment.get(deployment_id="…")
    stats = deployment.get_service_stats(start_time=..., end_time=...)
    stats.metrics["totalPredictions"], stats["executionTime"]

Mirrored (names, signatures and return shapes of datarobot 3.x: models/deployment/deployment.py,
service_stats.py, data_drift.py, accuracy.py, enums.py): `Client`, `Deployment.get/list`,
`.id/.label/.description/.importance/.status/.model`, `get_service_stats`,
`get_service_stats_over_time`, `get_target_drift`, `get_feature_drift`, `get_accuracy`,
`get_accuracy_over_time`, `get_drift_tracking_settings`, `update_drift_tracking_settings`,
`validate_replacement_model`, `replace_model`, `delete`; `ServiceStats.get`,
`ServiceStatsOverTime.get`, `TargetDrift.get`, `FeatureDrift.list`, `Accuracy.get`,
`AccuracyOverTime.get/get_as_dataframe`; enums `SERVICE_STAT_METRIC`, `DATA_DRIFT_METRIC`,
`ACCURACY_METRIC`, `BUCKET_SIZE`, `MODEL_REPLACEMENT_REASON`; `construct_duration_string`.

Differences: a model is not an id in a project but a model object (`scenarist.load_model`,
`scenarist.model_from_estimator`) or the path of a joblib file (wrapped with the deployment's
target and type); `model_id`s are "<deployment id>:v<version>". Over HTTP the server answers
reads (deployment, service stats and accuracy, also over time, drift) and
`replace_model(path)` (admin scope, served deployments); writing settings, listing and
validating are in-process only. Calls with no meaning here raise `NotSupported`
(a NotImplementedError) naming scenarist's equivalent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scenarist.compat.backends import Http, NotSupported, connect
from scenarist.compat.datarobot_core import (
    ACCURACY_METRIC,
    BUCKET_SIZE,
    DATA_DRIFT_METRIC,
    MODEL_REPLACEMENT_REASON,
    SERVICE_STAT_METRIC,
    current,
    local,
    model_id_of,
    set_client,
)
from scenarist.compat.datarobot_models import (
    Accuracy,
    AccuracyOverTime,
    FeatureDrift,
    ServiceStats,
    ServiceStatsOverTime,
    TargetDrift,
)
from scenarist.deployments import construct_duration_string

_TYPES = {"binary": "Binary", "multiclass": "Multiclass", "regression": "Regression"}


class Client:
    """Where the module's calls go: `endpoint` None (or a database URL) is the local store
    (SCENARIST_STORE_URL or the default); `http(s)://…` is a `scenarist serve`, with `token` an
    API key of it. Like datarobot.Client, it becomes the module's current client."""

    def __init__(self, endpoint: str | None = None, token: str | None = None, **_: Any):
        self.endpoint = endpoint
        self.token = token
        set_client(connect(endpoint, token))

    def __repr__(self) -> str:
        return f"Client(endpoint={self.endpoint!r})"


class Deployment:
    """A scenarist deployment seen as a DataRobot one (see the module docstring)."""

    def __init__(self, facts: dict[str, Any]):
        self._facts = facts
        self.id: str = facts["id"]
        self.label: str = facts["label"]
        self.description: str | None = facts["description"]
        self.importance: str | None = facts["importance"]
        self.status: str = facts["status"]
        model = facts["model"]
        self.model: dict[str, Any] = {
            "id": model_id_of(facts), "type": model["name"], "target_name": model["target"],
            "target_type": _TYPES[model["type"]], "project_id": None,
            "version": facts["model_version"],
        }

    def __repr__(self) -> str:
        return f"Deployment({self.label})"

    @classmethod
    def get(cls, deployment_id: str) -> Deployment:
        return cls(current().deployment(deployment_id))

    @classmethod
    def list(cls, order_by: str | None = None, search: str | None = None,
             filters: Any = None) -> list[Deployment]:
        """Active deployments whose label contains `search` (case-insensitive), oldest first."""
        if order_by is not None or filters is not None:
            raise NotSupported("Deployment.list orders by creation and filters by label "
                               "(search=); scenarist's own Deployment.list(DeploymentList"
                               "Filters(...)) filters by status, health and importance")
        return [cls(f) for f in current().deployments(search)]

    @classmethod
    def create_from_learning_model(cls, *args: Any, **kwargs: Any) -> Deployment:
        raise NotSupported("deployments are created from a model object: scenarist."
                           "Deployment.create(model, label, reference=training_rows)")

    def get_prediction_server_instances(self, *args: Any, **kwargs: Any) -> Any:
        raise NotSupported("scenarist keeps no per-instance metrics; get_service_stats() gives "
                           "the deployment's totals over every `scenarist serve` process")

    def delete(self) -> None:
        local("deleting a deployment", "use Client() on the store").native(self.id).delete()

    # -- monitoring queries: the same classmethods DataRobot's Deployment delegates to -------

    def get_service_stats(self, model_id: str | None = None, start_time: Any = None,
                          end_time: Any = None, execution_time_quantile: float | None = None,
                          response_time_quantile: float | None = None,
                          slow_requests_threshold: float | None = None) -> ServiceStats:
        return ServiceStats.get(self.id, model_id, start_time, end_time,
                                execution_time_quantile, response_time_quantile,
                                slow_requests_threshold)

    def get_service_stats_over_time(self, metric: str | None = None,
                                    model_id: str | None = None, start_time: Any = None,
                                    end_time: Any = None, bucket_size: str | None = None,
                                    quantile: float | None = None,
                                    threshold: int | None = None) -> ServiceStatsOverTime:
        return ServiceStatsOverTime.get(self.id, metric, model_id, start_time, end_time,
                                        bucket_size, quantile, threshold)

    def get_target_drift(self, model_id: str | None = None, start_time: Any = None,
                         end_time: Any = None, metric: str | None = None) -> TargetDrift:
        return TargetDrift.get(self.id, model_id, start_time, end_time, metric)

    def get_feature_drift(self, model_id: str | None = None, start_time: Any = None,
                          end_time: Any = None, metric: str | None = None
                          ) -> list[FeatureDrift]:
        return FeatureDrift.list(self.id, model_id, start_time, end_time, metric)

    def get_accuracy(self, model_id: str | None = None, start_time: Any = None,
                     end_time: Any = None, start: Any = None, end: Any = None,
                     target_classes: list[str] | None = None) -> Accuracy:
        return Accuracy.get(self.id, model_id, _either(start_time, start, "start"),
                            _either(end_time, end, "end"), target_classes)

    def get_accuracy_over_time(self, metric: str | None = None, model_id: str | None = None,
                               start_time: Any = None, end_time: Any = None,
                               bucket_size: str | None = None,
                               target_classes: list[str] | None = None) -> AccuracyOverTime:
        return AccuracyOverTime.get(self.id, metric, model_id, start_time, end_time,
                                    bucket_size, target_classes)

    # -- settings and model replacement ------------------------------------------------------

    def get_drift_tracking_settings(self) -> dict[str, dict[str, bool]]:
        settings = current().deployment(self.id)["settings"]["drift_tracking"]
        return {"target_drift": {"enabled": settings["target_drift"]},
                "feature_drift": {"enabled": settings["feature_drift"]}}

    def update_drift_tracking_settings(self, target_drift_enabled: bool | None = None,
                                       feature_drift_enabled: bool | None = None,
                                       max_wait: int = 600) -> None:
        backend = local("updating drift tracking settings",
                        "run it in process with Client() on the store")
        backend.native(self.id).update_drift_tracking_settings(
            target_drift_enabled=target_drift_enabled,
            feature_drift_enabled=feature_drift_enabled)

    def validate_replacement_model(self, new_model_id: Any = None,
                                   new_registered_model_version_id: Any = None
                                   ) -> tuple[str, str, dict[str, dict[str, str]]]:
        """(status 'passing'/'warning'/'failing', message, {check: {status, message}})."""
        _no_registry(new_registered_model_version_id)
        backend = local("validating a replacement model", "replace_model(path) over HTTP "
                        "validates on the server and refuses a failing model")
        native = backend.native(self.id)
        status, message, checks = native.validate_replacement_model(
            _model(native, new_model_id))
        return (status.value, message,
                {c.name: {"status": c.status.value, "message": c.message} for c in checks})

    def replace_model(self, new_model_id: Any, reason: str, max_wait: int = 600,
                      new_registered_model_version_id: Any = None) -> None:
        """Deploy `new_model_id` (a model object, or a joblib path) as the next version."""
        _no_registry(new_registered_model_version_id)
        backend = current()
        if isinstance(backend, Http):
            if not isinstance(new_model_id, str | Path):
                raise NotSupported("over HTTP, replace_model takes the path of a joblib file on "
                                   "the server's disk (POST /deployments/{id}/model)")
            backend._call("POST", f"/deployments/{self.id}/model",
                          json={"path": str(new_model_id), "reason": str(reason)})
        else:
            native = backend.native(self.id)
            native.replace_model(_model(native, new_model_id), reason)
        self.__init__(backend.deployment(self.id))  # type: ignore[misc]


def _either(datarobot: Any, native: Any, name: str) -> Any:
    if datarobot is not None and native is not None:
        raise TypeError(f"get_accuracy() got both {name}_time= and {name}=; pass only one")
    return datarobot if datarobot is not None else native


def _no_registry(version_id: Any) -> None:
    if version_id is not None:
        raise NotSupported("scenarist has no model registry: pass the model (scenarist."
                           "load_model / model_from_estimator) or a joblib path as new_model_id")


def _model(native: Any, model: Any) -> Any:
    """A LoadedModel from a model object, or from a joblib path with the deployed target."""
    if not isinstance(model, str | Path):
        return model
    import joblib

    from scenarist import model_from_estimator

    path = Path(model)
    if not path.is_file():
        raise NotSupported(f"new_model_id {model!r} is neither a model object nor a joblib "
                           "file; scenarist has no model ids: pass scenarist.load_model(...) "
                           "or a path")
    return model_from_estimator(joblib.load(path), target=native.model.target,
                                type=native.model.type, name=path.stem,
                                positive_label=native.model.positive_label)


__all__ = ["ACCURACY_METRIC", "BUCKET_SIZE", "DATA_DRIFT_METRIC", "MODEL_REPLACEMENT_REASON",
           "SERVICE_STAT_METRIC", "Accuracy", "AccuracyOverTime", "Client", "Deployment",
           "FeatureDrift", "NotSupported", "ServiceStats", "ServiceStatsOverTime",
           "TargetDrift", "construct_duration_string"]
