"""Request bodies → DataFrames, checked against the served model, with clear 4xx messages.

    parse_rows(body, content_type)   JSON (an array of row objects) or CSV (a header line, then
                                     rows); malformed bodies are a BadRequest (400)
    parse_json(body)                 any JSON body; malformed or too deeply nested (the
                                     decoder's recursion limit) is a BadRequest (400)
    check_rows(frame, served)        missing features, unknown columns, wrong value types and
                                     missing required association ids are an InputDataError
                                     (422) naming the columns (or rows) at fault
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

import pandas as pd

from scenarist.deployments.model_info import value_type
from scenarist.errors import InputDataError, ScenaristError

if TYPE_CHECKING:
    from scenarist.server.serving import Served


class BadRequest(ScenaristError, ValueError):
    """A body that cannot be read at all (HTTP 400)."""


class UnsupportedMediaType(ScenaristError, ValueError):
    """A body in a format the endpoint does not read (HTTP 415)."""


def parse_rows(body: bytes, content_type: str | None) -> pd.DataFrame:
    kind = (content_type or "application/json").split(";")[0].strip().lower()
    if kind == "text/csv":
        return _csv(body)
    if kind in ("application/json", ""):
        return _json(body)
    raise UnsupportedMediaType(f"content type {kind!r} is not read here; send rows as "
                               "application/json (an array of objects) or text/csv")


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    except RecursionError:  # e.g. "[" * 100_000: the decoder recurses once per level
        raise BadRequest("the body is not valid JSON: its arrays or objects are nested too "
                         "deeply") from None


def _json(body: bytes) -> pd.DataFrame:
    rows = parse_json(body)
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise BadRequest('JSON rows must be an array of objects, e.g. [{"feature": 1.5, …}]')
    if not rows:
        raise BadRequest("no rows: the JSON array is empty")
    return pd.DataFrame.from_records(rows)


def _csv(body: bytes) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.BytesIO(body))
    except pd.errors.EmptyDataError:
        raise BadRequest("no rows: the CSV body is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BadRequest(f"the body is not valid CSV: {first}") from None
    if not isinstance(frame.index, pd.RangeIndex):  # pandas took the extra fields as an index
        raise BadRequest("the body is not valid CSV: the first row has more fields than the "
                         f"header ({len(frame.columns)} columns)")
    if frame.empty:
        raise BadRequest("no rows: the CSV body has a header but no data lines")
    return frame


def check_rows(frame: pd.DataFrame, served: Served) -> None:
    deployment, model = served.deployment, served.model
    association = deployment.settings.association_id
    features = list(model.features)
    allowed = set(features) | set(association.column_names)
    missing = [f for f in features if f not in frame.columns]
    unknown = [str(c) for c in frame.columns if c not in allowed]
    types = deployment.model.feature_types or {}
    mistyped = [f"{f} ({value_type(frame[f])}, expected {types[f]})" for f in features
                if f in frame.columns and f in types and frame[f].notna().any()
                and value_type(frame[f].dropna()) != types[f]]
    problems = [f"missing feature(s) {missing}" if missing else "",
                f"unknown column(s) {unknown}" if unknown else "",
                f"wrong value type in column(s) {', '.join(mistyped)}" if mistyped else ""]
    problems = [p for p in problems if p]
    if problems:
        raise InputDataError(f"rows do not match model {model.name!r}: {'; '.join(problems)}. "
                             f"Its features are {features}"
                             + (f"; association id column(s) {list(association.column_names)}"
                                if association.column_names else ""))
    if association.required_in_prediction_requests:
        absent = [c for c in association.column_names if c not in frame.columns]
        if absent:
            raise InputDataError(f"association id column(s) {absent} are required by this "
                                 "deployment")
        rows = frame[list(association.column_names)].isna().any(axis=1)
        if rows.any():
            listed = ", ".join(str(i) for i in rows[rows].index[:10])
            raise InputDataError(f"row(s) {listed} have no association id (columns "
                                 f"{list(association.column_names)}); it is required")
