"""Where the drop-in clients read and write: the local store, or a `scenarist serve` over HTTP.

    backend = connect(None)                               # SCENARIST_STORE_URL or the default
    backend = connect("sqlite:///monitoring.db")          # that store
    backend = connect("http://127.0.0.1:8080", "sck_…")   # scenarist serve, key as bearer token

Both backends answer the same questions with plain data shaped like the native API's results
(`ServiceStats.as_dict()`, `Accuracy.metrics`, the feature drift table as records …), so the
client modules build their objects once for both. NaN stays NaN locally and arrives as None over
HTTP; `_number` turns both into None for the clients. Only the public API (`scenarist.Deployment`,
`scenarist.errors`) and httpx are used here.
"""

from __future__ import annotations

import math
import os
from datetime import datetime, timezone
from typing import Any

import httpx
import numpy as np
import pandas as pd

from scenarist.deployments import Deployment, DeploymentListFilters
from scenarist.errors import ConfigError, InputDataError, NotFoundError, StoreError

STORE_ENV = "SCENARIST_STORE_URL"


class NotSupported(NotImplementedError):
    """A call of the mirrored client that scenarist cannot honour; the message names what to
    use instead."""


def connect(endpoint: str | None, token: str | None = None) -> Local | Http:
    """The local store (`endpoint` None or a database URL) or a server (`http(s)://…`)."""
    if endpoint and endpoint.startswith(("http://", "https://")):
        if not token:
            raise ConfigError(f"a token is needed to reach {endpoint}: create an API key with "
                              "`scenarist keys create NAME --scope read --scope ingest "
                              "--deployment '*'` and pass it as token=")
        return Http(endpoint, token)
    return Local(endpoint or os.environ.get(STORE_ENV) or None)


def deployment_facts(deployment: Deployment) -> dict[str, Any]:
    """What `GET /deployments/{id}` returns, from a native deployment."""
    return {"id": deployment.id, "label": deployment.label,
            "description": deployment.description, "importance": deployment.importance,
            "status": deployment.status, "created_at": deployment.created_at,
            "model_version": deployment.model_version, "model": deployment.model.to_json(),
            "reference_rows": deployment.reference_facts.get("rows", 0),
            "baseline": deployment.reference_facts.get("baseline"),
            "settings": deployment.settings.model_dump(mode="json")}


class Local:
    """The native API on a store URL (None: SCENARIST_STORE_URL or the default store)."""

    remote = False

    def __init__(self, url: str | None):
        self.url = url

    def native(self, deployment_id: str) -> Deployment:
        return Deployment.get(deployment_id, url=self.url)

    def deployment(self, deployment_id: str) -> dict[str, Any]:
        return deployment_facts(self.native(deployment_id))

    def deployments(self, search: str | None) -> list[dict[str, Any]]:
        found = Deployment.list(DeploymentListFilters(label=search), url=self.url)
        return [deployment_facts(d) for d in found]

    def service_stats(self, deployment_id: str, **window: Any) -> dict[str, Any]:
        return self.native(deployment_id).get_service_stats(**window).as_dict()

    def service_stats_over_time(self, deployment_id: str, metric: str, bucket_size: str,
                                **window: Any) -> pd.Series:
        return self.native(deployment_id).get_service_stats_over_time(metric, bucket_size,
                                                                      **window)

    def accuracy(self, deployment_id: str, **window: Any) -> dict[str, Any]:
        result = self.native(deployment_id).get_accuracy(**window)
        return {"start": result.start, "end": result.end, "metrics": result.metrics,
                "labelled": result.labelled, "predictions": result.predictions}

    def accuracy_over_time(self, deployment_id: str, metrics: list[str], bucket_size: str,
                           **window: Any) -> pd.DataFrame:
        return self.native(deployment_id).get_accuracy_over_time_frame(metrics, bucket_size,
                                                                       **window)

    def target_drift(self, deployment_id: str, **window: Any) -> dict[str, Any]:
        return dict(self.native(deployment_id).get_target_drift(**window).__dict__)

    def feature_drift(self, deployment_id: str, **window: Any) -> list[dict[str, Any]]:
        table = self.native(deployment_id).get_feature_drift(**window)
        return table.reset_index().to_dict(orient="records")

    def log_batch(self, deployment_id: str, frame: pd.DataFrame, sample_ids: list[Any],
                  timestamps: list[Any], predictions: list[Any], probas: Any) -> int:
        result = self.native(deployment_id).log_batch(sample_ids, timestamps, frame,
                                                      predictions, probas)
        return result.rows

    def log_labels(self, deployment_id: str, sample_ids: list[Any], labels: list[Any]
                   ) -> tuple[int, list[str]]:
        result = self.native(deployment_id).log_labels(sample_ids, labels)
        return result.stored, list(result.unknown)


class Http:
    """A `scenarist serve` at `base_url`, with an API key (read and ingest scopes)."""

    remote = True

    def __init__(self, base_url: str, token: str, *, timeout: float = 60.0):
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout,
                                  headers={"Authorization": f"Bearer {token}"})
        self._models: dict[str, dict[str, Any]] = {}  # deployment id → model (for ingest)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise StoreError(f"cannot reach scenarist serve at {self.base_url}: {exc}") from exc
        if response.status_code >= 400:
            raise _error(response, self.base_url)
        return response.json()

    def deployment(self, deployment_id: str) -> dict[str, Any]:
        return self._call("GET", f"/deployments/{deployment_id}")

    def deployments(self, search: str | None) -> list[dict[str, Any]]:
        raise NotSupported("scenarist serve lists no deployments (an API key is scoped to "
                           "deployment ids); use Deployment.get(deployment_id), or list them "
                           "in process with Client() on the store or `scenarist deployments "
                           "list`")

    def _window(self, deployment_id: str, what: str, window: dict[str, Any], **extra: Any
                ) -> Any:
        params = {k: _iso(v) if k in ("start", "end") else v for k, v in window.items()
                  if v is not None and k != "batches"}
        params.update(extra)
        if window.get("batches"):
            params["batch"] = window["batches"]
        return self._call("GET", f"/deployments/{deployment_id}/{what}", params=params)

    def service_stats(self, deployment_id: str, **window: Any) -> dict[str, Any]:
        return self._window(deployment_id, "serviceStats", window)

    def service_stats_over_time(self, deployment_id: str, metric: str, bucket_size: str,
                                **window: Any) -> pd.Series:
        answer = self._window(deployment_id, "serviceStatsOverTime", window,
                              metric=metric, bucket_size=bucket_size)
        values = [_number(b["value"]) for b in answer["buckets"]]
        return pd.Series([math.nan if v is None else v for v in values], dtype=float,
                         index=_starts(answer["buckets"]), name=metric)

    def accuracy(self, deployment_id: str, **window: Any) -> dict[str, Any]:
        return self._window(deployment_id, "accuracy", window)

    def accuracy_over_time(self, deployment_id: str, metrics: list[str], bucket_size: str,
                           **window: Any) -> pd.DataFrame:
        answer = self._window(deployment_id, "accuracyOverTime", window, metric=metrics,
                              bucket_size=bucket_size)
        frame = pd.DataFrame([{m: b[m] for m in [*metrics, "labelled"]}
                              for b in answer["buckets"]], index=_starts(answer["buckets"]))
        frame[metrics] = frame[metrics].astype(float)  # null (no value) → NaN
        return frame

    def target_drift(self, deployment_id: str, **window: Any) -> dict[str, Any]:
        return self._window(deployment_id, "targetDrift", window)

    def feature_drift(self, deployment_id: str, **window: Any) -> list[dict[str, Any]]:
        return self._window(deployment_id, "featureDrift", window)["features"]

    def log_batch(self, deployment_id: str, frame: pd.DataFrame, sample_ids: list[Any],
                  timestamps: list[Any], predictions: list[Any], probas: Any) -> int:
        if deployment_id not in self._models:
            self._models[deployment_id] = self.deployment(deployment_id)["model"]
        model = self._models[deployment_id]
        positive = _positive_probabilities(model, probas, len(sample_ids))
        features = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        rows = [{"sample_id": str(i), "timestamp": _iso(t), "features": f,
                 "prediction": _plain(p), "probability": None if positive is None
                 else positive[n]}
                for n, (i, t, f, p) in enumerate(zip(sample_ids, timestamps, features,
                                                     predictions, strict=True))]
        body = {"rows": [{k: _plain(v) if k != "features" else
                          {c: _plain(x) for c, x in v.items()} for k, v in r.items()}
                         for r in rows]}
        return int(self._call("POST", f"/deployments/{deployment_id}/predictionLogs",
                              json=body)["rows"])

    def log_labels(self, deployment_id: str, sample_ids: list[Any], labels: list[Any]
                   ) -> tuple[int, list[str]]:
        body = {"data": [{"association_id": str(i), "actual_value": _plain(v)}
                         for i, v in zip(sample_ids, labels, strict=True)]}
        result = self._call("POST", f"/deployments/{deployment_id}/actuals", json=body)
        return int(result["stored"]), list(result["unknown"])


# -- helpers ----------------------------------------------------------------------------------

_ERRORS: dict[int, type[Exception]] = {404: NotFoundError, 409: ConfigError, 422: InputDataError,
                                       400: InputDataError, 503: StoreError}


def _error(response: httpx.Response, base_url: str) -> Exception:
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        detail = response.text
    if response.status_code in (401, 403):
        return PermissionError(f"scenarist serve at {base_url} refused the API key "
                               f"({response.status_code}): {detail}")
    kind = _ERRORS.get(response.status_code, StoreError)
    return kind(f"scenarist serve at {base_url}: {detail}")


def _positive_probabilities(model: dict[str, Any], probas: Any, n: int) -> list[float] | None:
    """The one probability per row the ingest endpoint takes (binary models only)."""
    if probas is None or model["type"] != "binary":
        return None
    array = np.asarray(probas, dtype=float)
    if array.ndim == 2 and array.shape == (n, 2):
        array = array[:, list(model["classes"]).index(model["positive_label"])]
    return array.tolist()


def _plain(value: Any) -> Any:
    """A JSON-ready Python value (numpy scalars unwrapped, NaN as None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (datetime, pd.Timestamp)):
        return value.isoformat()
    return value


def _iso(value: Any) -> Any:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), tz=timezone.utc).isoformat()
    if isinstance(value, (datetime, pd.Timestamp)):
        return _utc(value).isoformat()
    return value


def _utc(value: Any) -> datetime:
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


def _starts(buckets: list[dict[str, Any]]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([_utc(b["start"]) for b in buckets], name="start")


def _number(value: Any) -> float | int | None:
    """A metric value for the clients: NaN and missing are None, like DataRobot's nulls."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
