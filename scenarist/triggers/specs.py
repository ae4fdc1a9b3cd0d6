"""The trigger types of a scenario beyond `cron`/`interval_seconds`, as pydantic specs.

    triggers:
      - {cron: "0 6 1 */3 *"}                                         # a Prefect schedule
      - {name: new batch, dataset_changed: {dataset: transactions_batch, every: 5m}}
      - {sql_changed: {connection: warehouse, query: "select max(updated_at) from t", every: 1h}}
      - {labels_ready: {deployment: fraud_prod_MES, labels_ratio: 0.9, every: 1h}}
      - {python: {function: "mytriggers:fire", every: 10m}}
      - {event: {match: "scenarist.check.*", where: {scenarist.store: the_MES}}}

The *polling* types (`dataset_changed`, `sql_changed`, `labels_ready`, `python`) look every
`every` (a Prefect deployment of the `scenarist-trigger` flow, or `scenarist triggers poll`) and
start a run when what they watch changed (`scenarist.triggers.poll`). `event` is a Prefect
automation on the scenario's Prefect deployment. `every` is "30s", "5m", "1h", "1d" or a number
of seconds. The cross-references (datasets, connections, stores, functions) are checked by
`trigger_problems`, which `scenarist validate` runs.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

_STRICT = ConfigDict(extra="forbid", frozen=True)
_EVERY = re.compile(r"^\s*(\d+)\s*(s|m|h|d)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_FUNCTION_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_ISO_DURATION = re.compile(r"^P(?=\d|T\d)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")
MIN_EVERY_SECONDS = 5


def every_seconds(value: str | int) -> int:
    """"5m" -> 300; ValueError saying the accepted forms."""
    match = _EVERY.match(str(value))
    if not match or isinstance(value, bool):
        raise ValueError(f"every {value!r} is not a duration; write e.g. 30s, 5m, 1h, 1d or a "
                         "number of seconds")
    seconds = int(match[1]) * _UNITS[match[2]]
    if seconds < MIN_EVERY_SECONDS:
        raise ValueError(f"every {value!r} is shorter than {MIN_EVERY_SECONDS} s")
    return seconds


class _Polling(BaseModel):
    model_config = _STRICT

    every: str | int = Field(description='How often to look: "30s", "5m", "1h", "1d" or seconds.')

    @field_validator("every")
    @classmethod
    def _every(cls, value: str | int) -> str | int:
        every_seconds(value)
        return value

    @property
    def seconds(self) -> int:
        return every_seconds(self.every)


class DatasetChanged(_Polling):
    """A run when the dataset's source changes: a file's bytes (size + SHA-256), a URL's
    ETag/version/mtime, a SQL dataset's `query` result (else its rows). A templated path
    (`data/transactions_{{ quarter }}.parquet`) watches every file matching it: a new or
    changed file starts a run with the variables read from its name."""

    dataset: str = Field(description="Name of a dataset of the project.")
    query: str | None = Field(
        None, description="SQL datasets: a cheap query whose result changes with the data, "
        "e.g. select max(updated_at) from transactions (default: the dataset's own rows).")


class SqlChanged(_Polling):
    """A run when a query's result changes."""

    connection: str = Field(description="Name of a database connection.")
    query: str = Field(min_length=1, description="SQL query, e.g. select max(id) from batches.")


class LabelsReady(_Polling):
    """A run when a deployment's window has its labels: the labelled ratio reaches
    `labels_ratio` or the deployment's alert delay passed (its `get_label_readiness` rule)."""

    deployment: str = Field(description="An evaluation store fed by a deployment (its name), "
                            "or the id of the deployment such a store monitors.")
    labels_ratio: float | None = Field(
        None, gt=0, le=1, description="Ready at this labelled share (default: the "
        "deployment's alert delay settings' labels_ratio).")
    window: str | None = Field(
        None, description='The window looked at, ending now: an ISO duration such as "P7D" '
        "(default: the deployments' default, 7 days).")

    @field_validator("window")
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        if value is not None and not _ISO_DURATION.match(value.strip().upper()):
            raise ValueError(f"window {value!r} is not an ISO 8601 duration such as P7D or PT6H")
        return value


class PythonTrigger(_Polling):
    """A function of the project decides: it returns None (no run) or a dict of variables
    (a run with them; the same dict twice in a row starts one run)."""

    function: str = Field(description='"module:function" importable from the project folder.')
    params: dict[str, Any] = Field(default_factory=dict, description="Passed to the function.")

    @field_validator("function")
    @classmethod
    def _reference(cls, value: str) -> str:
        if not _FUNCTION_REF.match(value):
            raise ValueError(f'function {value!r} is not "module:function", e.g. '
                             '"mytriggers:fire" (mytriggers.py in the project folder)')
        return value


class EventTrigger(BaseModel):
    """A run when a Prefect event matches: a Prefect automation on the scenario's deployment."""

    model_config = _STRICT

    match: str = Field(min_length=1, description='Event name or pattern, e.g. '
                       '"scenarist.check.*" or "prefect.flow-run.Failed".')
    where: dict[str, str | list[str]] = Field(
        default_factory=dict, description="Labels the event's resource must have, e.g. "
        "{prefect.resource.id: scenarist.check.*}.")
    related: dict[str, str | list[str]] = Field(
        default_factory=dict, description="Labels one of the event's related resources must "
        "have, e.g. {prefect.resource.role: evaluation-store}.")
    variables: dict[str, Any] = Field(default_factory=dict,
                                      description="Variables of the runs it starts.")


POLLING = ("dataset_changed", "sql_changed", "labels_ready", "python")
KINDS = ("cron", "interval_seconds", *POLLING, "event")


def trigger_name(trigger: Any, position: int) -> str:
    """The trigger's `name`, else `trigger-<n>` (1-based position in the scenario)."""
    return trigger.name or f"trigger-{position + 1}"
