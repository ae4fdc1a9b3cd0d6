"""The pieces of `scenarist.compat.datarobot` every object uses: the enums (values as in
datarobot/enums.py, v3.x), the name maps to scenarist's metrics, and the current client.

Metric names: DataRobot's on the left, scenarist's native ones on the right; a DataRobot metric
missing here is not computed by scenarist, and asking for it raises `NotSupported`.
"""

from __future__ import annotations

from typing import Any

from scenarist.compat.backends import Http, Local, NotSupported, connect
from scenarist.deployments import MODEL_REPLACEMENT_REASON


class SERVICE_STAT_METRIC:  # noqa: N801 - DataRobot's names
    TOTAL_PREDICTIONS = "totalPredictions"
    TOTAL_REQUESTS = "totalRequests"
    SLOW_REQUESTS = "slowRequests"
    EXECUTION_TIME = "executionTime"
    RESPONSE_TIME = "responseTime"
    USER_ERROR_RATE = "userErrorRate"
    SERVER_ERROR_RATE = "serverErrorRate"
    NUM_CONSUMERS = "numConsumers"
    CACHE_HIT_RATIO = "cacheHitRatio"
    MEDIAN_LOAD = "medianLoad"
    PEAK_LOAD = "peakLoad"
    ALL = [TOTAL_PREDICTIONS, TOTAL_REQUESTS, SLOW_REQUESTS, EXECUTION_TIME, RESPONSE_TIME,
           USER_ERROR_RATE, SERVER_ERROR_RATE, NUM_CONSUMERS, CACHE_HIT_RATIO, MEDIAN_LOAD,
           PEAK_LOAD]


class DATA_DRIFT_METRIC:  # noqa: N801
    PSI = "psi"
    KL_DIVERGENCE = "kl_divergence"
    DISSIMILARITY = "dissimilarity"
    HELLINGER = "hellinger"
    JS_DIVERGENCE = "js_divergence"
    ALL = [PSI, KL_DIVERGENCE, DISSIMILARITY, HELLINGER, JS_DIVERGENCE]


class ACCURACY_METRIC:  # noqa: N801
    ACCURACY = "Accuracy"
    AUC = "AUC"
    BALANCED_ACCURACY = "Balanced Accuracy"
    FVE_BINOMIAL = "FVE Binomial"
    GINI_NORM = "Gini Norm"
    KOLMOGOROV_SMIRNOV = "Kolmogorov-Smirnov"
    LOGLOSS = "LogLoss"
    RATE_TOP5 = "Rate@Top5%"
    RATE_TOP10 = "Rate@Top10%"
    TPR = "TPR"
    PPV = "PPV"
    F1 = "F1"
    MCC = "MCC"
    GAMMA_DEVIANCE = "Gamma Deviance"
    FVE_GAMMA = "FVE Gamma"
    FVE_POISSON = "FVE Poisson"
    FVE_TWEEDIE = "FVE Tweedie"
    MAD = "MAD"
    MAE = "MAE"
    MAPE = "MAPE"
    POISSON_DEVIANCE = "Poisson Deviance"
    R_SQUARED = "R Squared"
    RMSE = "RMSE"
    RMSLE = "RMSLE"
    TWEEDIE_DEVIANCE = "Tweedie Deviance"
    ALL_CLASSIFICATION = [ACCURACY, AUC, BALANCED_ACCURACY, FVE_BINOMIAL, GINI_NORM,
                          KOLMOGOROV_SMIRNOV, LOGLOSS, RATE_TOP5, RATE_TOP10, TPR, PPV, F1, MCC]
    ALL_REGRESSION = [GAMMA_DEVIANCE, FVE_GAMMA, FVE_POISSON, FVE_TWEEDIE, MAD, MAE, MAPE,
                      POISSON_DEVIANCE, R_SQUARED, RMSE, RMSLE, TWEEDIE_DEVIANCE]
    ALL = [*ALL_CLASSIFICATION[:9], *ALL_REGRESSION, TPR, PPV, F1, MCC]


class BUCKET_SIZE:  # noqa: N801
    PT1H = "PT1H"
    P1D = "P1D"
    P7D = "P7D"
    P1M = "P1M"  # a month is not a whole number of hours: refused by the queries
    ALL = [PT1H, P1D, P7D, P1M]


SERVICE_NAMES = {
    SERVICE_STAT_METRIC.TOTAL_PREDICTIONS: "total_predictions",
    SERVICE_STAT_METRIC.TOTAL_REQUESTS: "total_requests",
    SERVICE_STAT_METRIC.SLOW_REQUESTS: "slow_requests",
    SERVICE_STAT_METRIC.EXECUTION_TIME: "median_request_ms",
    SERVICE_STAT_METRIC.SERVER_ERROR_RATE: "error_rate",
}
ACCURACY_NAMES = {  # the first of each is the default metric of AccuracyOverTime
    "binary": {ACCURACY_METRIC.LOGLOSS: "logloss", ACCURACY_METRIC.AUC: "auc",
               ACCURACY_METRIC.ACCURACY: "accuracy", ACCURACY_METRIC.TPR: "recall",
               ACCURACY_METRIC.PPV: "precision", ACCURACY_METRIC.F1: "f1"},
    "multiclass": {ACCURACY_METRIC.ACCURACY: "accuracy"},
    "regression": {ACCURACY_METRIC.RMSE: "rmse", ACCURACY_METRIC.MAE: "mae",
                   ACCURACY_METRIC.MAPE: "mape", ACCURACY_METRIC.R_SQUARED: "r2"},
}

_state: dict[str, Local | Http] = {}


def set_client(backend: Local | Http) -> None:
    old = _state.get("client")
    if isinstance(old, Http):
        old.close()
    _state["client"] = backend


def current() -> Local | Http:
    """The backend of the last `Client(...)`; without one, the local store."""
    if "client" not in _state:
        _state["client"] = connect(None)
    return _state["client"]


def local(action: str, alternative: str) -> Local:
    """The current backend when it is the local store; over HTTP, NotSupported."""
    backend = current()
    if isinstance(backend, Http):
        raise NotSupported(f"{action} is not available over HTTP from scenarist serve; "
                           f"{alternative}")
    return backend


def model_id_of(facts: dict[str, Any]) -> str:
    """DataRobot's model id for scenarist's deployed model: "<deployment id>:v<version>"."""
    return f"{facts['id']}:v{facts['model_version']}"


def model_version(model_id: str | int | None) -> int | None:
    """The model version a DataRobot `model_id` names ("<id>:v2", "v2", "2" or 2)."""
    if model_id is None:
        return None
    text = str(model_id).rsplit(":", 1)[-1].lstrip("v")
    if not text.isdigit():
        raise NotSupported(f"model_id {model_id!r}: scenarist's model ids are "
                           "'<deployment id>:v<version>' (see Deployment.model['id'])")
    return int(text)


def window(start_time: Any, end_time: Any, model_id: Any) -> dict[str, Any]:
    """A native query window (DataRobot's default when None: the 7 days before the next top
    of the hour; bounds must be top-of-the-hour, as DataRobot requires)."""
    return {"start": start_time, "end": end_time, "model_version": model_version(model_id)}


__all__ = ["ACCURACY_METRIC", "BUCKET_SIZE", "DATA_DRIFT_METRIC", "MODEL_REPLACEMENT_REASON",
           "SERVICE_STAT_METRIC", "current", "local", "set_client"]
