"""Secondary datasets of a deployment (DataRobot's secondary dataset config): tables joined by key
to every logged row before it is validated and stored, so a model whose features come partly
from another table (merchant risk by merchant id) is monitored on the features it saw.

    config = dep.update_secondary_dataset_config(
        {"merchants": merchants_df},
        [{"dataset": "merchants", "key": ["merchant_id"], "columns": ["merchant_risk"]}])
    dep.get_secondary_dataset_config().id == config.id
    dep.get_secondary_dataset_config_history()        # every config, oldest first
    dep.update_secondary_dataset_config({}, [])       # stop joining (a new, empty config)

Each update is a new config with a new id kept in the deployment's history (table
`scenarist_secondary_configs`); the datasets are frozen as Parquet under the deployment's data
folder, so later changes to the source tables do not change what a config joins. The rows of a
`log_batch` call then carry their key columns (in `data`) and get the joined columns; key
columns that are not model features are kept as additional data. A key missing from a dataset
is an InputDataError with `on_missing: error`; with `report` the rows are kept with the joined
columns missing and the count is returned in `IngestResult.secondary_missing`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import insert, select, update

from scenarist.errors import ConfigError, StoreError
from scenarist.project.secondary import SecondaryDatasetSpec, join_secondary, secondary_table
from scenarist.stores.database import database_errors
from scenarist.stores.deployment_tables import deployments
from scenarist.stores.secondary_configs import secondary_configs

if TYPE_CHECKING:
    from scenarist.deployments.deployment import Deployment


@dataclass(frozen=True)
class SecondaryDatasetConfig:
    """One secondary dataset configuration of a deployment."""

    id: str
    created_at: datetime
    joins: tuple[SecondaryDatasetSpec, ...]
    datasets: Mapping[str, Mapping[str, Any]]  # name -> {"rows": n, "columns": [...]}


def update_secondary_dataset_config(
    self: Deployment,
    datasets: Mapping[str, pd.DataFrame],
    joins: Sequence[SecondaryDatasetSpec | Mapping[str, Any]],
) -> SecondaryDatasetConfig:
    """A new active config joining `datasets` (by name) as `joins` say; returns it (its id is
    kept in the history). Everything is checked before anything is written."""
    self._require_active()
    specs = tuple(j if isinstance(j, SecondaryDatasetSpec) else _spec(j) for j in joins)
    unknown = sorted({s.dataset for s in specs} - set(datasets))
    if unknown:
        raise ConfigError(f"secondary dataset(s) {unknown} are joined but not given; datasets "
                          f"given: {', '.join(datasets) or 'none'}")
    tables = {s.dataset: secondary_table(datasets[s.dataset], s) for s in specs}
    features = set(self.model.features)
    for spec in specs:
        added = [c for c in tables[spec.dataset].columns if c not in spec.key]
        if not added:
            raise ConfigError(f"secondary dataset {spec.dataset!r} adds no column besides its "
                              f"key {spec.key}")
        clashing = [k for k in spec.key if k in added]
        if clashing:
            raise ConfigError(f"key column(s) {clashing} cannot also be joined")
    config_id = secrets.token_hex(12)
    folder = self.files.folder / "secondary" / config_id
    facts = {}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, table in tables.items():
            table.to_parquet(folder / f"{name}.parquet", index=False)
            facts[name] = {"rows": len(table), "columns": [str(c) for c in table.columns],
                           "features": sorted(c for c in table.columns if c in features)}
    except OSError as exc:
        raise StoreError(f"cannot keep the secondary datasets in {folder}: {exc}") from exc
    created = datetime.now(timezone.utc)
    with database_errors(self._engine, f"update the secondary datasets of {self.id}"), \
            self._engine.begin() as conn:
        conn.execute(insert(secondary_configs).values(
            id=config_id, deployment_key=self.key, created_at=created,
            joins=[s.model_dump() for s in specs], datasets=facts))
        # a new updated_at tells every Deployment object logging to it (log_batch compares the
        # row it locks with the one it validated against) to read the config again
        conn.execute(update(deployments).where(deployments.c.key == self.key)
                     .values(updated_at=created))
    self.refresh()
    return SecondaryDatasetConfig(config_id, created, specs, facts)


def get_secondary_dataset_config(self: Deployment) -> SecondaryDatasetConfig | None:
    """The active config (the latest update), None when none was ever set."""
    rows = _history_rows(self)
    return _config(rows[-1]) if rows else None


def get_secondary_dataset_config_history(self: Deployment) -> pd.DataFrame:
    """Every config, oldest first: id, created_at, datasets (names), active."""
    rows = _history_rows(self)
    return pd.DataFrame(
        [{"id": r.id, "created_at": _utc(r.created_at),
          "datasets": [j["dataset"] for j in r.joins], "active": i == len(rows) - 1}
         for i, r in enumerate(rows)], columns=["id", "created_at", "datasets", "active"])


def join_incoming(self: Deployment, data: Any, additional: Any
                  ) -> tuple[Any, Any, dict[str, int]]:
    """`data` with the active config's columns joined (its key columns that are not features
    moved to `additional`), the additional data, and the missing keys per dataset. The active
    config is read once per state of the deployment row (no query per call)."""
    cached = self.__dict__.get("_active_secondary")
    if cached is None or cached[0] != self._row_facts:
        cached = self.__dict__["_active_secondary"] = (self._row_facts,
                                                       get_secondary_dataset_config(self))
    config = cached[1]
    if config is None or not config.joins:
        return data, additional, {}
    data = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    cache: dict[str, dict[str, pd.DataFrame]] = self.__dict__.setdefault("_secondary", {})
    tables = cache.get(config.id)
    if tables is None:
        folder = self.files.folder / "secondary" / config.id
        try:
            tables = {name: pd.read_parquet(folder / f"{name}.parquet")
                      for name in config.datasets}
        except OSError as exc:
            raise StoreError(f"the secondary datasets of config {config.id} are missing from "
                             f"{folder} ({exc}); set them again with "
                             "update_secondary_dataset_config") from exc
        cache.clear()
        cache[config.id] = tables
    missing = {}
    for spec in config.joins:
        data, report = join_secondary(data, tables[spec.dataset], spec,
                                      side=f"logged rows (secondary config {config.id})")
        missing[spec.dataset] = report["missing_keys"]
    keep = {*self.model.features, *self.settings.association_id.column_names}
    keys = [c for c in dict.fromkeys(k for s in config.joins for k in s.key) if c not in keep]
    if keys:
        extra = data[keys].reset_index(drop=True)
        if additional is not None:
            given = additional if isinstance(additional, pd.DataFrame) else \
                pd.DataFrame(additional)
            extra = pd.concat([given.reset_index(drop=True), extra], axis=1)
        additional, data = extra, data.drop(columns=keys)
    return data, additional, missing


def _spec(value: Mapping[str, Any]) -> SecondaryDatasetSpec:
    try:
        return SecondaryDatasetSpec.model_validate(dict(value))
    except Exception as exc:  # noqa: BLE001 - pydantic's message names the key
        raise ConfigError(f"invalid secondary dataset join {dict(value)!r}: {exc}") from exc


def _history_rows(self: Deployment) -> list[Any]:
    with self._engine.connect() as conn:
        return list(conn.execute(
            select(secondary_configs).where(secondary_configs.c.deployment_key == self.key)
            .order_by(secondary_configs.c.created_at, secondary_configs.c.id)).all())


def _config(row: Any) -> SecondaryDatasetConfig:
    return SecondaryDatasetConfig(
        id=row.id, created_at=_utc(row.created_at),
        joins=tuple(SecondaryDatasetSpec.model_validate(j) for j in row.joins),
        datasets=dict(row.datasets))


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)

