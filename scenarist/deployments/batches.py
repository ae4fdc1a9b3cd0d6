"""Monitoring batches: named groups of a deployment's predictions (DataRobot batch monitoring).

    batch = dep.create_batch("2024-05 scoring run", description="monthly scoring")
    dep.log_batch(..., batch_id=batch.id)          # by id or by name
    batch.lock()                                   # no more predictions into it
    batch.delete()                                 # its predictions leave every statistic
    dep.list_batches(); batch.update(name=..., start_time=..., end_time=...)

Deleting a batch removes its prediction rows, its rollups and its feature files, in one
transaction for the database (files after it commits); the batch row stays, marked deleted, so
its id is never reused. A deployment may create at most `settings.batches.daily_limit` batches
per UTC day (deleted ones count).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, or_, select, update

from scenarist.deployments.durations import (
    TimeLike,
    epoch_hour,
    hour_start,
    resolve_window,
    to_utc,
)
from scenarist.errors import ConfigError, InputDataError, NotFoundError
from scenarist.stores.database import database_errors
from scenarist.stores.deployment_tables import (
    feature_files,
    hourly,
    monitoring_batches,
    outcomes,
    predictions,
    request_times,
)

if TYPE_CHECKING:
    from scenarist.deployments.deployment import Deployment


@dataclass(frozen=True)
class BatchRef:
    key: int
    id: str
    name: str


class MonitoringBatch:
    """One monitoring batch of a deployment."""

    def __init__(self, deployment: Deployment, row: Any):
        self._deployment = deployment
        self.key: int = row.key
        self.id: str = row.id
        self.name: str = row.name
        self.description: str | None = row.description
        self.created_at: datetime = _utc(row.created_at)
        self.locked: bool = bool(row.locked)
        self.deleted: bool = row.deleted_at is not None
        self.start_time: datetime | None = _utc(row.start_time)
        self.end_time: datetime | None = _utc(row.end_time)

    def __repr__(self) -> str:
        state = "deleted" if self.deleted else "locked" if self.locked else "open"
        return f"MonitoringBatch(id={self.id!r}, name={self.name!r}, {state})"

    def update(self, name: str | None = None, description: str | None = None,
               start_time: TimeLike | None = None, end_time: TimeLike | None = None
               ) -> MonitoringBatch:
        """Rename, describe, or set the batch's start/end time (None leaves a value as is)."""
        values: dict[str, Any] = {}
        if name is not None:
            _check_name(self._deployment, name, exclude=self.key)
            values["name"] = name
        if description is not None:
            values["description"] = description
        start = to_utc(start_time, name="start_time") if start_time is not None else \
            self.start_time
        end = to_utc(end_time, name="end_time") if end_time is not None else self.end_time
        if start is not None and end is not None and start > end:
            raise InputDataError(f"batch start_time {start.isoformat()} is after its end_time "
                                 f"{end.isoformat()}")
        values.update(start_time=start, end_time=end)
        return self._set(**values)

    def rename(self, name: str) -> MonitoringBatch:
        return self.update(name=name)

    def lock(self) -> MonitoringBatch:
        """No more predictions may be logged into a locked batch."""
        return self._set(locked=True)

    def unlock(self) -> MonitoringBatch:
        return self._set(locked=False)

    def delete(self) -> None:
        """Remove the batch's predictions from every statistic (rows, rollups, features)."""
        engine = self._deployment._engine
        where = {"deployment_key": self._deployment.key, "batch_key": self.key}
        with database_errors(engine, f"delete batch {self.name!r}"), engine.begin() as conn:
            for table in (predictions, hourly, request_times, outcomes):
                conn.execute(delete(table).where(*(table.c[k] == v for k, v in where.items())))
            conn.execute(delete(feature_files).where(
                feature_files.c.deployment_key == self._deployment.key,
                feature_files.c.batch == self.id))
            conn.execute(update(monitoring_batches).where(monitoring_batches.c.key == self.key)
                         .values(deleted_at=datetime.now(timezone.utc), locked=True))
        self._deployment.files.delete_batch(self.id)
        self.deleted = self.locked = True

    def _set(self, **values: Any) -> MonitoringBatch:
        if self.deleted:
            raise ConfigError(f"batch {self.name!r} is deleted")
        engine = self._deployment._engine
        with database_errors(engine, f"update batch {self.name!r}"), engine.begin() as conn:
            conn.execute(update(monitoring_batches).where(monitoring_batches.c.key == self.key)
                         .values(**values))
            row = conn.execute(select(monitoring_batches)
                               .where(monitoring_batches.c.key == self.key)).one()
        self.__init__(self._deployment, row)  # type: ignore[misc]
        return self


def create_batch(self: Deployment, name: str, description: str | None = None) -> MonitoringBatch:
    """A new, open monitoring batch; at most `settings.batches.daily_limit` per UTC day."""
    self._require_active()
    if not name or not name.strip():
        raise ConfigError("a monitoring batch needs a non-empty name")
    _check_name(self, name)
    now = datetime.now(timezone.utc)
    midnight = datetime.combine(now.date(), time(0), tzinfo=timezone.utc)
    limit = self.settings.batches.daily_limit
    with database_errors(self._engine, f"create batch {name!r}"), self._engine.begin() as conn:
        today = conn.execute(select(func.count()).select_from(monitoring_batches).where(
            monitoring_batches.c.deployment_key == self.key,
            monitoring_batches.c.created_at >= midnight)).scalar_one()
        if today >= limit:
            raise ConfigError(f"deployment {self.id} already created {today} monitoring batches "
                              f"today (UTC), its daily limit; reuse a batch or raise the limit "
                              "with update_settings('batches', daily_limit=...)")
        key = conn.execute(insert(monitoring_batches).values(
            id=secrets.token_hex(12), deployment_key=self.key, name=name,
            description=description, created_at=now, locked=False,
        ).returning(monitoring_batches.c.key)).scalar_one()
        row = conn.execute(select(monitoring_batches)
                           .where(monitoring_batches.c.key == key)).one()
    return MonitoringBatch(self, row)


def list_batches(self: Deployment) -> list[MonitoringBatch]:
    """The deployment's batches that are not deleted, oldest first."""
    with self._engine.connect() as conn:
        rows = conn.execute(select(monitoring_batches).where(
            monitoring_batches.c.deployment_key == self.key,
            monitoring_batches.c.deleted_at.is_(None),
        ).order_by(monitoring_batches.c.created_at, monitoring_batches.c.key)).all()
    return [MonitoringBatch(self, r) for r in rows]


def get_batch(self: Deployment, batch: str) -> MonitoringBatch:
    """A batch by id or name (not deleted); NotFoundError lists the batches."""
    ref = resolve_batch(self, batch, allow_locked=True)
    with self._engine.connect() as conn:
        row = conn.execute(select(monitoring_batches)
                           .where(monitoring_batches.c.key == ref.key)).one()
    return MonitoringBatch(self, row)


def resolve_batch(self: Deployment, batch: str, *, conn: Any = None,
                  allow_locked: bool = False) -> BatchRef:
    """The open batch `batch` (id or name) of the deployment, read on `conn` when given."""
    query = select(monitoring_batches).where(
        monitoring_batches.c.deployment_key == self.key,
        monitoring_batches.c.deleted_at.is_(None),
        or_(monitoring_batches.c.id == batch, monitoring_batches.c.name == batch))
    if conn is None:
        with self._engine.connect() as reader:
            row = reader.execute(query).first()
    else:
        row = conn.execute(query).first()
    if row is None:
        names = ", ".join(f"{b.name} ({b.id})" for b in list_batches(self)) or "none"
        raise NotFoundError(f"deployment {self.id} has no monitoring batch {batch!r}; "
                            f"batches: {names}. Create one with create_batch(name).")
    if row.locked and not allow_locked:
        raise InputDataError(f"monitoring batch {row.name!r} is locked: no more predictions "
                             "can be logged into it. Create a new batch.")
    return BatchRef(row.key, row.id, row.name)


def batch_keys(self: Deployment, batches: str | list[str] | None) -> list[int] | None:
    """Keys of the named batches (ids or names; locked ones included) for scoping queries."""
    if batches is None:
        return None
    names = [batches] if isinstance(batches, str) else list(batches)
    return [resolve_batch(self, b, allow_locked=True).key for b in names]


def scope_conditions(self: Deployment, table: Any, first: datetime, last: datetime,
                     batches: str | Sequence[str] | None, model_version: int | None) -> list[Any]:
    """WHERE conditions scoping `table` (any table keyed by deployment, hour, batch and model
    version) to the deployment, the window [first, last), the batches and the model version."""
    conditions = [table.c.deployment_key == self.key, table.c.hour >= epoch_hour(first),
                  table.c.hour < epoch_hour(last)]
    keys = batch_keys(self, batches if batches is None or isinstance(batches, str)
                      else list(batches))
    if keys is not None:
        conditions.append(table.c.batch_key.in_(keys))
    if model_version is not None:
        conditions.append(table.c.model_version == model_version)
    return conditions


def batch_ids(self: Deployment, batches: str | list[str] | None) -> list[str] | None:
    if batches is None:
        return None
    names = [batches] if isinstance(batches, str) else list(batches)
    return [resolve_batch(self, b, allow_locked=True).id for b in names]


def _check_name(self: Deployment, name: str, exclude: int | None = None) -> None:
    for batch in list_batches(self):
        if batch.name == name and batch.key != exclude:
            raise ConfigError(f"deployment {self.id} already has a batch named {name!r} "
                              f"({batch.id}); choose another name")


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def resolve_scope(
    self: Deployment, start: TimeLike | None, end: TimeLike | None, batch: str | None
) -> tuple[list[str] | None, datetime, datetime, BatchRef | None]:
    """(batch ids or None, window start, window end, the batch) of a query over a window or a
    monitoring batch; a batch without `start`/`end` spans the hours it has predictions in."""
    if batch is None:
        return (None, *resolve_window(start, end), None)
    ref = resolve_batch(self, batch, allow_locked=True)
    if start is None and end is None:
        with self._engine.connect() as conn:
            low, high = conn.execute(select(func.min(hourly.c.hour), func.max(hourly.c.hour))
                                     .where(hourly.c.deployment_key == self.key,
                                            hourly.c.batch_key == ref.key)).one()
        if low is None:
            raise NotFoundError(f"monitoring batch {batch!r} of deployment {self.id} has no "
                                "predictions; nothing to evaluate or export")
        start, end = hour_start(low), hour_start(high + 1)
    return ([ref.id], *resolve_window(start, end), ref)
