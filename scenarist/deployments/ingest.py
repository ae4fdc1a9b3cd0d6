"""Logging predictions: validate a whole call first, then write it in one transaction.

`log_batch` checks everything before writing anything: lengths, sample ids (present, unique in
the call), timestamps, the data columns against the model's features (missing, extra and
mistyped ones are named), association ids when required, predictions against the model's
classes, probabilities, request times, the monitoring batch. Then, in one database transaction:
the deployment row is locked and read (a call validated against facts this object had cached
that the row no longer has — settings, model version, status changed elsewhere — is validated
again with the row's facts: no refresh() per call); timestamps may be earlier than the latest
one logged by an earlier call by at most `settings.ingest.allowed_lateness` seconds (late rows
are refused beyond it, their ids named; within it they add to their own hours' rollups); the
prediction rows are bulk-inserted in chunks of `chunk_size` (a sample id logged before violates
the primary key: the call is rolled back and the duplicates are named), the hourly rollups are
upserted and the call's Parquet files are registered (deployment_files: written before the
commit, deleted if it fails), so a rejected call leaves nothing behind.

A call is one request: `request_ms` given as a number is that request's time (counted in the
hour of the call's latest timestamp). Given as one number per row, every row is its own request
(a server logging single-row requests in bulk). `request_rows` (rows per request, in order,
summing to the call's rows) makes the call several requests of any size, each counted in the
hour of its own latest timestamp, `request_ms` then one number per request (a server storing
many multi-row requests in one call). `log_errors` records failed requests.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import psycopg
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from scenarist.deployments.batches import resolve_batch
from scenarist.deployments.durations import HOUR, as_epoch_seconds, to_utc
from scenarist.deployments.model_info import (
    OUTPUT,
    PREDICTION,
    PROBA,
    dtype_type,
    frame_types,
)
from scenarist.deployments.rollups import (
    Requests,
    ingest_rollups,
    lock_deployment,
    request_rollups,
    write_rollups,
)
from scenarist.deployments.rows import hash_checked_ids, name_rows
from scenarist.deployments.secondary import join_incoming
from scenarist.deployments.staging import Stager, feature_table
from scenarist.errors import ConfigError, InputDataError, StoreError
from scenarist.stores.database import display_url, failure_reason
from scenarist.stores.deployment_tables import deployments
from scenarist.stores.prediction_log import DEFAULT_CHUNK_SIZE, insert_predictions

if TYPE_CHECKING:
    from scenarist.deployments.deployment import Deployment

_INTEGRITY = (IntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError)
# built once: SQLAlchemy memoizes a statement object's cache key, so reusing it skips that work
_LATEST = (update(deployments).where(deployments.c.key == bindparam("latest_key"))
           .values(last_timestamp=bindparam("latest")))

@dataclass(frozen=True)
class IngestResult:
    """What one `log_batch` call stored."""

    rows: int
    batch_id: str | None
    warnings: int
    first_time: datetime
    last_time: datetime
    # rows whose key a secondary dataset lacked, by dataset (on_missing: report)
    secondary_missing: Mapping[str, int] = field(default_factory=dict)


def log_batch(
    self: Deployment,
    sample_ids: Sequence[Any],
    timestamps: Sequence[Any],
    data: pd.DataFrame | Mapping[str, Sequence[Any]],
    predictions: Sequence[Any],
    prediction_probas: Any = None,
    batch_id: str | None = None,
    request_ms: float | Sequence[float] | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    additional_data: pd.DataFrame | Mapping[str, Sequence[Any]] | None = None,
    request_rows: Sequence[int] | None = None,
) -> IngestResult:
    """Log one request's predictions (see the module docstring); returns what was stored.

    `additional_data`: columns that are not model features (device, merchant_state), one value
    per row, kept beside the features so stores fed by the deployment can segment by them and
    `export` returns them."""
    self._require_active()
    rechecked = False
    for _ in range(3):
        try:
            return _log_once(self, sample_ids, timestamps, data, predictions, prediction_probas,
                             batch_id, request_ms, chunk_size, additional_data, request_rows)
        except _Stale as stale:  # the deployment changed since this object last read it
            self._load(stale.row)
            self._require_active()
        except InputDataError:
            # refused against cached facts (settings, secondary config): refused for good
            # only if the row still says what this object knows
            if rechecked or not _reloaded(self):
                raise
            rechecked = True
            self._require_active()
    raise StoreError(f"deployment {self.id} kept changing while logging; try again")


def _reloaded(self: Deployment) -> bool:
    """Whether the deployment row changed since this object read it (then it is reloaded)."""
    from scenarist.deployments.deployment import row_facts

    row = self._row()
    if row_facts(row) == self._row_facts:
        return False
    self._load(row)
    return True


class _Stale(Exception):
    """The deployment row changed (settings, model, status) since the call was validated."""

    def __init__(self, row: Any):
        super().__init__("stale deployment")
        self.row = row


def _same_facts(self: Deployment, row: Any) -> bool:
    """Whether the call was validated against what `row` says (no refresh() per call: the row
    is read under the lock anyway, and a difference re-runs the call with the new facts). The
    facts are compared with the row this object was loaded from, not with its attributes: a
    server pins `model_version` to the version that served the requests."""
    from scenarist.deployments.deployment import row_facts

    return row_facts(row) == self._row_facts


def _log_once(self: Deployment, sample_ids: Any, timestamps: Any, data: Any, predictions: Any,
              prediction_probas: Any, batch_id: str | None, request_ms: Any, chunk_size: int,
              additional_data: Any, request_rows: Any = None) -> IngestResult:
    texts, hashes = hash_checked_ids(sample_ids, "sample_ids")
    n = len(texts)
    if n == 0:
        raise InputDataError("log_batch got no rows: sample_ids is empty")
    seconds = _timestamps(timestamps, texts)
    data, additional_data, secondary_missing = join_incoming(self, data, additional_data)
    frame = _data(self, data, n)
    extra = _additional(self, additional_data, n)
    association = _association(self, frame, texts)
    codes, values = _predictions(self, predictions, texts)
    proba = _probabilities(self, prediction_probas, n)
    warning = _warnings(self, codes, proba, n)
    request = _requests(request_ms, request_rows, n)
    if chunk_size < 1:
        raise InputDataError(f"chunk_size must be at least 1, got {chunk_size}")

    hours = (seconds // HOUR).astype(np.int64)
    parquet = None
    if self.settings.predictions_data_collection.enabled:
        parquet = feature_table(self, frame, extra, texts, seconds, values, proba)
    # Small calls write their one or two small files inline; big ones on a thread while the
    # rows go to the database. The files are registered in the transaction (deployment_files).
    batch = None
    try:
        with Stager(self, parquet, hours, n) as stager, self._engine.begin() as conn:
            row = lock_deployment(conn, self)
            if not _same_facts(self, row):
                raise _Stale(row)
            if batch_id is not None:
                batch = resolve_batch(self, batch_id, conn=conn)
            stager.start(batch.id if batch else None)
            last = row.last_timestamp
            _check_lateness(self, seconds, texts, last)
            batch_key = batch.key if batch else 0
            columns: dict[str, np.ndarray] = {
                "deployment_key": np.full(n, self.key, dtype=np.int32),
                "sample_hash": hashes,
                "ts": seconds,
                "hour": hours,
                "batch_key": np.full(n, batch_key, dtype=np.int32),
                "model_version": np.full(n, self.model_version, dtype=np.int32),
                "prediction": codes,
                "warning": warning.astype(np.int16),
                "association_hash": association,
            }
            if proba is not None:
                columns["proba"] = proba
            insert_predictions(conn, columns, chunk_size=chunk_size)
            write_rollups(conn, ingest_rollups(self, hours, seconds, warning, request,
                                               batch_key))
            latest = max(float(seconds.max()), last if last is not None else -math.inf)
            values: dict[str, Any] = {"last_timestamp": latest}
            if not self.model.feature_types:
                facts = dict(self.reference_facts)
                facts["model"] = {**facts["model"], "feature_types": frame_types(
                    frame, list(self.model.features))}
                values["reference"] = facts
                conn.execute(update(deployments).where(deployments.c.key == self.key)
                             .values(**values))
            else:
                conn.execute(_LATEST, {"latest_key": self.key, "latest": latest})
            stager.register(conn)
    except _INTEGRITY as exc:
        raise _duplicates(self, texts, hashes) from exc
    except (SQLAlchemyError, psycopg.Error, sqlite3.Error) as exc:
        raise StoreError(f"could not log predictions of deployment {self.id} at "
                         f"{display_url(self._engine.url)}: {failure_reason(exc)}") from exc
    self.last_timestamp = latest
    if "reference" in values:  # the first call recorded the feature types: read them back
        self.refresh()
    return IngestResult(rows=n, batch_id=batch.id if batch else None, warnings=int(warning.sum()),
                        first_time=to_utc(float(seconds.min())),
                        last_time=to_utc(float(seconds.max())),
                        secondary_missing=secondary_missing)


def _check_lateness(self: Deployment, seconds: np.ndarray, texts: np.ndarray,
                    last: float | None) -> None:
    """Rows earlier than the latest logged timestamp are accepted within `allowed_lateness`."""
    if last is None:
        return
    lateness = self.settings.ingest.allowed_lateness
    too_late = seconds < last - lateness
    if too_late.any():
        raise InputDataError(
            f"timestamps must not go back more than allowed_lateness ({lateness:g} s) before "
            f"the latest one already logged ({to_utc(last).isoformat()}); "
            f"{name_rows(texts, too_late)} are earlier. Log them to a new deployment, drop "
            "them, or raise update_settings('ingest', allowed_lateness=SECONDS).")


def log_sample(self: Deployment, sample_id: Any, timestamp: Any, data: Mapping[str, Any],
               prediction: Any, prediction_proba: Any = None, batch_id: str | None = None,
               request_ms: float | None = None,
               additional_data: Mapping[str, Any] | None = None) -> IngestResult:
    """Log one prediction (one request): `data` maps each feature to its value."""
    probas = None if prediction_proba is None else np.asarray([prediction_proba], dtype=float)
    extra = None if additional_data is None else pd.DataFrame([dict(additional_data)])
    return log_batch(self, [sample_id], [timestamp], pd.DataFrame([dict(data)]), [prediction],
                     probas, batch_id, request_ms, additional_data=extra)


def log_errors(self: Deployment, timestamps: Sequence[Any],
               request_ms: float | Sequence[float] | None = None,
               batch_id: str | None = None) -> int:
    """Record failed prediction requests (one per timestamp); they count in error rates."""
    self._require_active()
    seconds = as_epoch_seconds(timestamps)
    if len(seconds) == 0 or not np.isfinite(seconds).all():
        raise InputDataError("log_errors needs one valid timestamp per failed request")
    n = len(seconds)
    times = _request_ms(request_ms, n)
    if times is not None and np.ndim(times) == 0:
        times = np.full(n, float(times))
    batch = resolve_batch(self, batch_id) if batch_id is not None else None
    hours = (seconds // HOUR).astype(np.int64)
    rollups = request_rollups(self, hours, times, batch.key if batch else 0, per_row=True)
    for record in rollups[0]:
        record["errors"] = record["requests"]
    with self._engine.begin() as conn:
        lock_deployment(conn, self)
        write_rollups(conn, rollups)
    return n


# -- validation ---------------------------------------------------------------------------------

def _timestamps(timestamps: Any, texts: np.ndarray) -> np.ndarray:
    seconds = as_epoch_seconds(timestamps)
    if len(seconds) != len(texts):
        raise InputDataError(f"{len(texts)} sample ids but {len(seconds)} timestamps; pass one "
                             "timestamp per row")
    bad = ~np.isfinite(seconds)
    if bad.any():
        raise InputDataError(f"{name_rows(texts, bad)} have no valid timestamp")
    return seconds


def _data(self: Deployment, data: Any, n: int) -> pd.DataFrame:
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    if len(frame) != n:
        raise InputDataError(f"{n} sample ids but {len(frame)} data rows; pass one row each")
    features = list(self.model.features)
    allowed = set(features) | set(self.settings.association_id.column_names)
    dtypes = dict(zip(frame.columns, frame.dtypes, strict=True))  # no column access per check
    missing = [f for f in features if f not in dtypes]
    extra = [str(c) for c in frame.columns if c not in allowed]
    types = self.model.feature_types or {}
    typed = _typed_nulls(frame, features, types, dtypes)
    if typed is not frame:
        frame = typed
        dtypes = dict(zip(frame.columns, frame.dtypes, strict=True))
    mistyped = [f"{f} ({dtype_type(dtypes[f])}, expected {types[f]})" for f in features
                if f in dtypes and f in types and dtype_type(dtypes[f]) != types[f]]
    problems = [f"missing feature(s) {missing}" if missing else "",
                f"extra column(s) {extra}" if extra else "",
                f"mistyped column(s) {', '.join(mistyped)}" if mistyped else ""]
    problems = [p for p in problems if p]
    if problems:
        raise InputDataError(f"data does not match model {self.model.name!r}: "
                             f"{'; '.join(problems)}. The model's features are {features}; "
                             "association id columns may be added beside them, other columns "
                             "go in additional_data=.")
    index = frame.index
    if not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1):
        frame = frame.copy(deep=False)  # no data copy: only the index is replaced
        frame.index = pd.RangeIndex(n)
    return frame


# the dtype an all-null column of a feature takes: the type of values it would hold
_NULL_DTYPES = {"number": "float64", "bool": "boolean"}


def _typed_nulls(frame: pd.DataFrame, features: list[str], types: dict[str, str],
                 dtypes: dict[Any, Any]) -> pd.DataFrame:
    """`frame` with its all-null feature columns (JSON `null` in every row: an object column of
    None) cast to the feature's declared type, so they pass the type check and their Parquet
    files read back together with the others (no data copy of the other columns)."""
    cast = {f: _NULL_DTYPES[types[f]] for f in features
            if f in dtypes and dtypes[f] == np.dtype(object) and types.get(f) in _NULL_DTYPES
            and dtype_type(dtypes[f]) != types[f] and frame[f].isna().all()}
    return frame.astype(cast, copy=False) if cast else frame


def _additional(self: Deployment, data: Any, n: int) -> pd.DataFrame | None:
    """The additional data columns (None when not given), checked against the features."""
    if data is None:
        return None
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    if len(frame) != n:
        raise InputDataError(f"{n} sample ids but {len(frame)} additional_data rows; pass one "
                             "row each")
    taken = {*self.model.features, *self.settings.association_id.column_names,
             "sample_id", "ts", "model_version", PREDICTION, PROBA}
    clashing = [str(c) for c in frame.columns if c in taken]
    if clashing:
        raise InputDataError(f"additional_data column(s) {clashing} are model features, "
                             "association ids or names scenarist uses (sample_id, ts, "
                             "model_version); additional data holds the other columns")
    return frame.reset_index(drop=True)


def _association(self: Deployment, frame: pd.DataFrame, texts: np.ndarray) -> np.ndarray:
    from scenarist.stores.prediction_log import hash_texts

    settings = self.settings.association_id
    n = len(frame)
    if not settings.column_names:
        return np.zeros(n, dtype=np.int64)
    absent = [c for c in settings.column_names if c not in frame.columns]
    if absent:
        if settings.required_in_prediction_requests:
            raise InputDataError(f"association id column(s) {absent} are required in the data "
                                 "(association id settings)")
        return np.zeros(n, dtype=np.int64)
    parts = frame[list(settings.column_names)]
    missing = parts.isna().any(axis=1).to_numpy()
    if missing.any() and settings.required_in_prediction_requests:
        raise InputDataError(f"{name_rows(texts, missing)} have no association id (columns "
                             f"{list(settings.column_names)}); it is required")
    joined = parts.astype(str).agg("|".join, axis=1).to_numpy(dtype=object)
    hashes = np.zeros(n, dtype=np.int64)
    hashes[~missing] = hash_texts(joined[~missing])
    return hashes


def _predictions(self: Deployment, predictions: Any, texts: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(stored values: class index or number, the predictions as given)."""
    values = np.asarray(predictions.to_numpy() if hasattr(predictions, "to_numpy")
                        else predictions)
    if values.ndim != 1 or len(values) != len(texts):
        raise InputDataError(f"{len(texts)} sample ids but predictions of shape {values.shape}; "
                             "pass one prediction per row")
    if self.model.is_classifier:
        classes = list(self.model.classes or ())
        if len(values) <= 1_000:  # a dict lookup: Categorical costs ~0.3 ms however small
            index = {c: i for i, c in enumerate(classes)}
            codes = np.array([index.get(v, -1) for v in values.tolist()], dtype=np.int64)
        else:
            codes = pd.Categorical(values, categories=classes).codes
        unknown = codes < 0
        if unknown.any():
            raise InputDataError(f"{name_rows(texts, unknown)} predict a value that is not a "
                                 f"class of model {self.model.name!r} (classes {classes})")
        return codes.astype(np.float64), values
    try:
        numbers = values.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InputDataError(f"regression predictions must be numbers: {exc}") from exc
    bad = ~np.isfinite(numbers)
    if bad.any():
        raise InputDataError(f"{name_rows(texts, bad)} have a missing or infinite prediction")
    return numbers, numbers


def _probabilities(self: Deployment, probas: Any, n: int) -> np.ndarray | None:
    if probas is None:
        return None
    model = self.model
    if model.type == "regression":
        raise InputDataError("a regression model has no probabilities; pass "
                             "prediction_probas=None")
    array = np.asarray(probas, dtype=np.float64)
    k = len(model.classes or ())
    if array.ndim == 2 and model.type == "binary" and array.shape == (n, 2):
        array = array[:, list(model.classes or ()).index(model.positive_label)]
    elif model.type == "multiclass" and array.ndim == 2 and array.shape == (n, k):
        array = array.max(axis=1)
    elif not (model.type == "binary" and array.shape == (n,)):
        expected = f"({n},) or ({n}, 2)" if model.type == "binary" else f"({n}, {k})"
        raise InputDataError(f"prediction_probas has shape {array.shape}; expected {expected}")
    if not ((array >= 0) & (array <= 1)).all():
        raise InputDataError("prediction_probas must be probabilities in [0, 1] (no NaN)")
    return array


def _warnings(self: Deployment, codes: np.ndarray, proba: np.ndarray | None, n: int
              ) -> np.ndarray:
    settings = self.settings.prediction_warnings
    if not settings.enabled:
        return np.zeros(n, dtype=bool)
    lower, upper = warning_bounds(self)
    output = codes if self.model.type == "regression" else proba
    if output is None:
        return np.zeros(n, dtype=bool)
    return (output < lower) | (output > upper)


def warning_bounds(self: Deployment) -> tuple[float, float]:
    """The prediction warning boundaries: custom ones, else the reference's quantiles."""
    settings = self.settings.prediction_warnings
    lower, upper = settings.lower, settings.upper
    if lower is None or upper is None:
        reference = self.files.read_reference(self.model_version)
        if reference is None or OUTPUT not in reference.columns:
            raise ConfigError("prediction warnings need lower and upper boundaries, or a "
                              "reference with the model's outputs; set them with "
                              "update_prediction_warning_settings(lower=..., upper=...)")
        output = reference[OUTPUT].to_numpy(dtype=float)
        if lower is None:
            lower = float(np.quantile(output, settings.lower_quantile))
        if upper is None:
            upper = float(np.quantile(output, settings.upper_quantile))
    return float(lower), float(upper)


def _requests(request_ms: Any, request_rows: Any, n: int) -> Any:
    """The call's request(s): None, one time, one time per row, or `Requests`."""
    if request_rows is None:
        return _request_ms(request_ms, n)
    rows = np.asarray(request_rows)
    if (rows.ndim != 1 or not len(rows) or not np.issubdtype(rows.dtype, np.integer)
            or (rows < 1).any() or int(rows.sum()) != n):
        raise InputDataError(f"request_rows must be whole numbers of at least 1, one per "
                             f"request, adding up to the call's {n} rows; got "
                             f"{list(request_rows)[:10]}")
    times = None
    if request_ms is not None:
        times = np.asarray(request_ms, dtype=np.float64)
        if times.shape != rows.shape:
            raise InputDataError(f"with request_rows, request_ms needs one number per request "
                                 f"({len(rows)}); got shape {times.shape}")
        _request_ms(times, len(rows))  # non-negative and finite
    return Requests(rows.astype(np.int64), times)


def _request_ms(request_ms: Any, n: int) -> Any:
    if request_ms is None:
        return None
    array = np.asarray(request_ms, dtype=np.float64)
    if array.ndim == 0 or array.shape == (n,):
        if not (np.isfinite(array) & (array >= 0)).all():
            raise InputDataError("request_ms must be non-negative numbers of milliseconds")
        return array if array.ndim else float(array)
    raise InputDataError(f"request_ms must be one number (the call's request) or {n} numbers "
                         f"(one request per row); got shape {array.shape}")


def logged_hashes(self: Deployment, hashes: np.ndarray) -> set[int]:
    """The sample-id hashes among `hashes` that the deployment has logged already."""
    from scenarist.stores.deployment_tables import predictions

    found: set[int] = set()
    with self._engine.connect() as conn:
        for begin in range(0, len(hashes), 5_000):
            chunk = [int(h) for h in hashes[begin:begin + 5_000]]
            found.update(conn.execute(select(predictions.c.sample_hash).where(
                predictions.c.deployment_key == self.key,
                predictions.c.sample_hash.in_(chunk))).scalars())
    return found


def _duplicates(self: Deployment, texts: np.ndarray, hashes: np.ndarray) -> InputDataError:
    found = logged_hashes(self, hashes)
    logged = np.isin(hashes, np.fromiter(found, dtype=np.int64, count=len(found)))
    return InputDataError(f"sample ids must be unique within a deployment: "
                          f"{name_rows(texts, logged)} were logged before. Nothing was stored; "
                          "drop them or give them new ids.")
