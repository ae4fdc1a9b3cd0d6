"""Request bodies and query parameters of the server's endpoints (documented in OpenAPI)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _single(value: Any) -> Any:
    if isinstance(value, list | dict):
        raise PydanticCustomError("single_value", "must be one number, string or boolean, not "
                                  "a JSON {kind}", {"kind": "array" if isinstance(value, list)
                                                    else "object"})
    return value


# a prediction or an actual: one JSON value (null is left to the deployment's own checks)
Single = Annotated[Any, AfterValidator(_single)]
_DATETIME = TypeAdapter(datetime)


def _epoch(value: Any) -> float:
    """ISO 8601 text or epoch seconds → epoch seconds (a naive time is UTC)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str | datetime):
        try:
            moment = _DATETIME.validate_python(value)
        except ValidationError:
            pass
        else:
            return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    raise PydanticCustomError("timestamp", "must be ISO 8601 text or epoch seconds, got "
                              "{value}", {"value": repr(value)[:60]})


def _epochs(value: Any) -> list[float] | float:
    if not isinstance(value, list):
        return _epoch(value)
    epochs = []
    for row, item in enumerate(value):
        try:
            epochs.append(_epoch(item))
        except PydanticCustomError as exc:
            raise PydanticCustomError("timestamp", "row {row}: {problem}",
                                      {"row": row, "problem": exc.message()}) from None
    return epochs


_WHEN = {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "number"}]}
# a time as epoch seconds, read from ISO 8601 text or a number (one clear error, not a union's)
Timestamp = Annotated[float, PlainValidator(_epoch), WithJsonSchema(_WHEN)]
Timestamps = Annotated[list[float] | float, PlainValidator(_epochs),
                       WithJsonSchema({"anyOf": [{"type": "array", "items": _WHEN}, _WHEN]})]


class LoggedPrediction(_Body):
    sample_id: str = Field(description="Unique id of the prediction within the deployment.")
    timestamp: Timestamp = Field(description="When it was made (ISO 8601 or epoch s).")
    features: dict[str, Any] = Field(description="Feature name → value.")
    prediction: Single = Field(description="The predicted class or value.")
    probability: float | None = Field(None, description="Positive-class probability (binary).")
    additional_data: dict[str, Any] | None = Field(
        None, description="Columns that are not features (device, region), kept beside them "
        "for segments and export.")


class PredictionLogs(_Body):
    rows: list[LoggedPrediction] = Field(min_length=1, description="The predictions.")
    batch_id: str | None = Field(None, description="Monitoring batch (id or name).")
    request_ms: float | None = Field(None, ge=0, description="Time of the original request.")


class ColumnarPredictionLogs(_Body):
    """predictionLogs as columns: one list per field, one value per row (cheaper to send and
    to read than row objects)."""

    ids: list[str] = Field(min_length=1, description="Sample ids, one per row.")
    timestamps: Timestamps = Field(
        description="One per row, or one for every row (ISO 8601 or epoch s).")
    columns: dict[str, list[Any]] = Field(description="Feature name → its values.")
    predictions: list[Single] = Field(description="The predicted class or value of each row.")
    probabilities: list[float | None] | None = Field(
        None, description="Positive-class probability of each row (binary).")
    additional_data: dict[str, list[Any]] | None = Field(
        None, description="Columns that are not features (device, region), one value per row.")
    batch_id: str | None = Field(None, description="Monitoring batch (id or name).")
    request_ms: float | None = Field(None, ge=0, description="Time of the original request.")


class ServiceStatsReport(_Body):
    num_predictions: int = Field(ge=0, description="Predictions the request made.")
    execution_time_ms: float | None = Field(None, ge=0, description="The request's time.")
    timestamp: datetime | float | None = Field(None, description="When (default: now).")
    batch_id: str | None = Field(None, description="Monitoring batch (id or name).")


class Actual(_Body):
    association_id: str = Field(description="Sample id or association id of a prediction.")
    actual_value: Single = Field(description="The actual class or value.")


class Actuals(_Body):
    data: list[Actual] = Field(min_length=1, description="The actual outcomes.")


class NewBatch(_Body):
    name: str = Field(min_length=1, description="Unique name within the deployment.")
    description: str | None = None


class Replacement(_Body):
    path: str = Field(description="A joblib file on the server's disk (trusted: it is "
                      "unpickled).")
    reason: str = Field("OTHER", description="A MODEL_REPLACEMENT_REASON.")
    name: str | None = Field(None, description="The new model's name (default: the deployed).")


def window(
    start: Annotated[str | None, Query(description="Window start, top of an hour (ISO 8601); "
                                       "default: end − 7 days.")] = None,
    end: Annotated[str | None, Query(description="Window end, top of an hour (ISO 8601); "
                                     "default: the next top of the hour.")] = None,
    batch: Annotated[list[str] | None, Query(description="Only these monitoring batches "
                                             "(ids or names; repeatable).")] = None,
    model_version: Annotated[int | None, Query(description="Only this model version.")] = None,
) -> dict[str, Any]:
    """The query window of the monitoring endpoints, as keyword arguments of the Python API."""
    return {"start": start, "end": end, "batches": batch, "model_version": model_version}


Window = Annotated[dict[str, Any], Depends(window)]


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """A JSON schema with its `$ref`s to `$defs` replaced by what they name (OpenAPI reads
    a route's openapi_extra as it is: it has no `$defs` of its own)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inline(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def _logs_openapi() -> dict[str, Any]:
    schema = TypeAdapter(PredictionLogs | ColumnarPredictionLogs).json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": _inline(schema, schema.get("$defs", {}))}}}}


# predictionLogs reads its body itself (logs.py, no pydantic model per row): documented here
LOGS_OPENAPI = _logs_openapi()
