"""Request bodies and query parameters of the server's endpoints (documented in OpenAPI)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
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


class LoggedPrediction(_Body):
    sample_id: str = Field(description="Unique id of the prediction within the deployment.")
    timestamp: datetime | float = Field(description="When it was made (ISO 8601 or epoch s).")
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
