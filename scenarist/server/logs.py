"""predictionLogs bodies → columns, without a pydantic model per row (the ingest hot path).

    logs = parse_logs(body)              # bytes of either form below → Logs (columns)
    record = logs.record(deployment_id)  # the writer's Record: one request, columns as lists

Two JSON forms are read (both documented in OpenAPI and the README):

    rows     {"rows": [{"sample_id": "a1", "timestamp": 1767225600.0,
                        "features": {"x1": 0.3, "x2": 1.2}, "prediction": 1,
                        "probability": 0.8, "additional_data": {"device": "mobile"}}, …],
              "batch_id": null, "request_ms": 4.2}
    columns  {"ids": ["a1", …], "timestamps": [1767225600.0, …] (or one value for every row),
              "columns": {"x1": [0.3, …], "x2": [1.2, …]}, "predictions": [1, …],
              "probabilities": [0.8, …], "additional_data": {"device": ["mobile", …]},
              "batch_id": null, "request_ms": 4.2}

The body is decoded with orjson and checked column by column (types of whole lists, lengths,
timestamps parsed in one pandas call). A body the fast checks do not accept as it is goes
through the pydantic models of bodies.py, which either accept it (the rare spellings they
also take, e.g. a numeric string as a timestamp) or raise the error that names the row and
field at fault (`body.rows[3].timestamp: …`, `body.columns.x2: has 9 values; ids has 10`):
the slow path is only paid by unusual or bad bodies. The rows are checked against the model
later, by `Deployment.log_batch` (or, with `--ingest spool`, for missing features here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from scenarist.server.bodies import ColumnarPredictionLogs, PredictionLogs
from scenarist.server.rows import parse_json
from scenarist.server.writer import Record

_ROW_KEYS = frozenset({"sample_id", "timestamp", "features", "prediction", "probability",
                       "additional_data"})
_ROW_REQUIRED = frozenset({"sample_id", "timestamp", "features", "prediction"})
_ROWS_TOP = frozenset({"rows", "batch_id", "request_ms"})
_COLUMNS_TOP = frozenset({"ids", "timestamps", "columns", "predictions", "probabilities",
                          "additional_data", "batch_id", "request_ms"})


class _Slow(Exception):
    """The fast checks do not accept the body as it is: pydantic decides."""


@dataclass(frozen=True)
class Logs:
    """One predictionLogs request as columns (one entry per row in every list)."""

    ids: list[str]
    timestamps: list[float]  # epoch seconds
    features: dict[str, list[Any]]
    predictions: list[Any]
    probabilities: list[float] | None
    additional: dict[str, list[Any]] | None
    batch_id: str | None
    request_ms: float | None

    @property
    def rows(self) -> int:
        return len(self.ids)

    def missing(self, features: list[str]) -> list[str]:
        return [f for f in features if f not in self.features]

    def record(self, deployment_id: str, received: float) -> Record:
        return Record(deployment_id, None, None, received, self.request_ms, self.batch_id,
                      self.ids, self.features, self.predictions, self.probabilities,
                      row_ts=self.timestamps, additional=self.additional)


def parse_logs(body: bytes) -> Logs:
    """See the module docstring: BadRequest (400) for unreadable JSON, RequestValidationError
    (422, naming the field and row) for a body that does not fit."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:  # NaN / Infinity (Python's json.dumps writes them for
        data = parse_json(body)      # missing values), or the standard decoder's 400 message
    try:
        if _columnar(data):
            return _columns(data)
        return _rows(data)
    except _Slow:
        return _validated(data)


def _columnar(data: Any) -> bool:
    """Whether a body is meant in the columns form (else the rows form)."""
    return isinstance(data, dict) and "rows" not in data and ("ids" in data or "columns" in data)


# -- the fast path ----------------------------------------------------------------------------

def _rows(data: Any) -> Logs:
    if type(data) is not dict or not data.keys() <= _ROWS_TOP:
        raise _Slow
    rows = data.get("rows")
    if type(rows) is not list or not rows or not all(
            type(r) is dict and _ROW_REQUIRED <= r.keys() <= _ROW_KEYS for r in rows):
        raise _Slow
    features = [r["features"] for r in rows]
    if not all(type(f) is dict for f in features):
        raise _Slow
    probabilities = [r.get("probability") for r in rows]
    additional = [r.get("additional_data") for r in rows]
    if not all(a is None or type(a) is dict for a in additional):
        raise _Slow
    return Logs(
        ids=_ids([r["sample_id"] for r in rows]),
        timestamps=_timestamps([r["timestamp"] for r in rows]),
        features=_records(features),
        predictions=_singles([r["prediction"] for r in rows]),
        probabilities=None if any(p is None for p in probabilities)
        else _numbers(probabilities),
        additional=None if all(a is None for a in additional)
        else _records([a or {} for a in additional]),
        batch_id=_batch(data.get("batch_id")), request_ms=_request_ms(data.get("request_ms")))


def _columns(data: dict[str, Any]) -> Logs:
    if not data.keys() <= _COLUMNS_TOP:
        raise _Slow
    ids = data.get("ids")
    if type(ids) is not list or not ids:
        raise _Slow
    n = len(ids)
    stamps = data.get("timestamps")
    if type(stamps) is not list:
        stamps = [stamps] * n  # one timestamp for every row
    columns, predictions = data.get("columns"), data.get("predictions")
    probabilities, additional = data.get("probabilities"), data.get("additional_data")
    lists = [stamps, predictions, *(columns.values() if type(columns) is dict else [None])]
    if probabilities is not None:
        lists.append(probabilities)
    if additional is not None:
        lists.extend(additional.values() if type(additional) is dict else [None])
    if not all(type(v) is list and len(v) == n for v in lists):
        _lengths(data, n)  # names the field whose length differs (422)
        raise _Slow  # a type pydantic names
    return Logs(ids=_ids(ids), timestamps=_timestamps(stamps), features=columns,
                predictions=_singles(predictions),
                probabilities=None if probabilities is None or any(
                    p is None for p in probabilities) else _numbers(probabilities),
                additional=additional, batch_id=_batch(data.get("batch_id")),
                request_ms=_request_ms(data.get("request_ms")))


def _ids(ids: list[Any]) -> list[str]:
    if not all(type(i) is str for i in ids):
        raise _Slow
    return ids


def _timestamps(values: list[Any]) -> list[float]:
    array = np.asarray(values)
    if array.dtype.kind in "if":  # numbers (booleans and nulls are other kinds)
        return array.astype(np.float64).tolist()
    if array.dtype.kind == "U":  # ISO 8601 text; naive times are UTC
        try:
            parsed = pd.to_datetime(array, utc=True, format="ISO8601")
        except (ValueError, TypeError):
            raise _Slow from None
        return (parsed.as_unit("ns").asi8 / 1e9).tolist()
    raise _Slow


def _numbers(values: list[Any]) -> list[float]:
    if not all(type(v) is float or type(v) is int for v in values):
        raise _Slow
    return values


def _singles(values: Any) -> list[Any]:
    if not all(type(v) is not list and type(v) is not dict for v in values):
        raise _Slow
    return values


def _records(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Row objects → columns (a name some rows lack is null there)."""
    first = rows[0].keys()
    if all(r.keys() == first for r in rows):
        return {name: [r[name] for r in rows] for name in first}
    names = list(dict.fromkeys(name for r in rows for name in r))
    return {name: [r.get(name) for r in rows] for name in names}


def _batch(value: Any) -> str | None:
    if value is not None and type(value) is not str:
        raise _Slow
    return value


def _request_ms(value: Any) -> float | None:
    if value is None:
        return None
    if (type(value) is not float and type(value) is not int) or value < 0:
        raise _Slow
    return float(value)


def _lengths(data: dict[str, Any], n: int) -> None:
    """A 422 naming the first list whose length is not one value per id."""
    fields: list[tuple[tuple[Any, ...], Any]] = [
        (("timestamps",), data.get("timestamps")), (("predictions",), data.get("predictions"))]
    for group in ("columns", "additional_data"):
        if isinstance(data.get(group), dict):
            fields += [((group, name), v) for name, v in data[group].items()]
    fields.append((("probabilities",), data.get("probabilities")))
    for loc, value in fields:
        if isinstance(value, list) and len(value) != n:
            raise RequestValidationError([{
                "loc": ("body", *loc), "type": "length",
                "msg": f"has {len(value)} values; ids has {n} (one value per row)"}])


# -- the slow path: pydantic accepts the body, or names what does not fit ----------------------

def _validated(data: Any) -> Logs:
    try:
        if _columnar(data):
            body = ColumnarPredictionLogs.model_validate(data)
        else:
            body = PredictionLogs.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])}
                                      for e in exc.errors()]) from None
    if isinstance(body, ColumnarPredictionLogs):
        n = len(body.ids)
        _lengths(body.model_dump(), n)
        stamps = body.timestamps if isinstance(body.timestamps, list) else \
            [body.timestamps] * n
        return Logs(ids=body.ids, timestamps=stamps,
                    features=body.columns, predictions=body.predictions,
                    probabilities=None if body.probabilities is None or any(
                        p is None for p in body.probabilities) else body.probabilities,
                    additional=body.additional_data, batch_id=body.batch_id,
                    request_ms=body.request_ms)
    rows = body.rows
    return Logs(
        ids=[r.sample_id for r in rows], timestamps=[r.timestamp for r in rows],
        features=_records([r.features for r in rows]),
        predictions=[r.prediction for r in rows],
        probabilities=None if any(r.probability is None for r in rows)
        else [r.probability for r in rows],
        additional=None if all(r.additional_data is None for r in rows)
        else _records([r.additional_data or {} for r in rows]),
        batch_id=body.batch_id, request_ms=body.request_ms)

