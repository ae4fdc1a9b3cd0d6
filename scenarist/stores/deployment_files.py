"""Feature data of logged predictions: Parquet partitions at any fsspec URL (DESIGN.md §7).

The deployment's data location is a local folder (for a SQLite store `…/store.db` it is
`…/store.db.d/` by default) or any fsspec URL given at creation (`file:///shared/scenarist`,
`memory://tests`, `s3://bucket/scenarist` in production). Layout under it:

    <deployment id>/reference/v<model version>.parquet          reference rows (+ outputs)
    <deployment id>/batch=<batch id | _none>/hour=<epoch hour>/part-<call id>.parquet
    <deployment id>/batch=<batch id | _none>/hour=<epoch hour>/compact-<id>.parquet

A partition file holds rows of one hour (a daily compacted file: of 24 hours): `sample_id`,
`ts`, `model_version`, `__prediction__`, `__proba__` and the data columns.

Which files hold committed rows is recorded in the database (`scenarist_deployment_files`):
`log_batch` writes its files first, then registers them in the transaction that stores the
prediction rows; a failed transaction deletes them. Readers list the registered files of a
window in one query and never look at the folder, so a file whose transaction did not commit
(a crash in between) is never read. Compaction (deployments.compaction) writes the merged file,
then retires the small ones and registers the merged one in one transaction: a reader sees
either the small files or the merged one, never both, never neither. Retired files are deleted
by a later compaction pass once `grace` seconds have passed, so a reader that listed them just
before the switch still finds them.

Deleting a monitoring batch removes its rows and file records in one transaction and its folder
afterwards; readers only list the files of live batches.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from sqlalchemy import Engine, delete, insert, select

from scenarist.errors import StoreError
from scenarist.stores.deployment_tables import feature_files

NO_BATCH = "_none"
# feature values are mostly distinct numbers: dictionary pages only cost time there
WRITE_OPTIONS = {"compression": "snappy", "use_dictionary": False}
HOUR_S = 3600


def default_data_dir(url: str | None) -> Path | None:
    """`<database file>.d` for a file-backed SQLite URL; None otherwise (a data_dir is needed)."""
    from scenarist.stores.database import resolve_url

    resolved = resolve_url(url)
    if resolved.get_backend_name() == "sqlite" and resolved.database not in (None, "", ":memory:"):
        return Path(f"{resolved.database}.d")
    return None


def is_url(location: str | Path) -> bool:
    return "://" in str(location)


@dataclass
class StagedFiles:
    """Partition files written for one call, awaiting its database transaction."""

    files: FeatureFiles | None = None
    records: list[dict[str, Any]] = field(default_factory=list)

    def register(self, conn: Any) -> None:
        """Record the files as committed, in the caller's transaction."""
        if self.records and self.files is not None:
            conn.execute(insert(feature_files), [
                {**r, "deployment_key": self.files.key} for r in self.records])

    def commit(self) -> None:
        """Nothing left to do once the transaction committed (kept for callers)."""
        self.records = []

    def discard(self) -> None:
        if self.files is not None:
            for record in self.records:
                self.files.remove(record["path"])
        self.records = []


class FeatureFiles:
    """The Parquet partitions of one deployment."""

    def __init__(self, root: Path | str, deployment_id: str, engine: Engine | None = None,
                 key: int | None = None):
        self.location = str(root).rstrip("/") + "/" + deployment_id
        self.fs, self.base = fsspec.core.url_to_fs(self.location)
        self.local = isinstance(self.fs, fsspec.implementations.local.LocalFileSystem)
        self.arrow_fs = (pafs.LocalFileSystem() if self.local
                         else pafs.PyFileSystem(pafs.FSSpecHandler(self.fs)))
        self.engine, self.key = engine, key

    @property
    def folder(self) -> Path:
        """The local folder (secondary datasets, tests); a URL location has none."""
        if not self.local:
            raise StoreError(f"feature data at {self.location} is not a local folder")
        return Path(self.base)

    def full(self, relative: str) -> str:
        return f"{self.base}/{relative}"

    # -- writing ----------------------------------------------------------------------------

    def stage(self, rows: pd.DataFrame | pa.Table, hours: np.ndarray, batch_id: str | None
              ) -> StagedFiles:
        """Write `rows` as one file per hour of `hours` (same length); register them with
        `StagedFiles.register` in the transaction, or `discard` them."""
        staged = StagedFiles(self)
        call = uuid.uuid4().hex[:16]
        table = (rows if isinstance(rows, pa.Table)
                 else pa.Table.from_pandas(rows, preserve_index=False))
        if len(hours) > 1 and (np.diff(hours) < 0).any():
            order = np.argsort(hours, kind="stable")
            hours, table = hours[order], table.take(order)
        starts = np.flatnonzero(np.r_[True, hours[1:] != hours[:-1]])
        ends = np.r_[starts[1:], len(hours)]
        batch = batch_id or NO_BATCH
        now = time.time()
        try:
            for begin, end in zip(starts, ends, strict=True):
                hour = int(hours[begin])
                relative = f"batch={batch}/hour={hour}/part-{call}.parquet"
                staged.records.append({"batch": batch, "hour": hour, "hours": 1,
                                       "path": relative, "rows": int(end - begin),
                                       "created_at": now, "retired_at": None})
                self.write(relative, table.slice(begin, end - begin))
        except OSError as exc:
            staged.discard()
            raise StoreError(f"cannot write feature data under {self.location}: {exc}") from exc
        return staged

    def write(self, relative: str, table: pa.Table) -> None:
        path = self.full(relative)
        if self.local:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, filesystem=self.arrow_fs, **WRITE_OPTIONS)

    def remove(self, relative: str) -> None:
        try:
            self.fs.rm_file(self.full(relative))
        except (FileNotFoundError, OSError):
            pass

    def write_reference(self, version: int, frame: pd.DataFrame) -> None:
        relative = f"reference/v{version}.parquet"
        try:
            self.write(relative, pa.Table.from_pandas(frame, preserve_index=False))
        except OSError as exc:
            raise StoreError(f"cannot write the reference data to {self.full(relative)}: "
                             f"{exc}") from exc

    def delete_batch(self, batch_id: str) -> None:
        """Remove a deleted batch's files (after its rows are gone: readers already skip it)."""
        try:
            self.fs.rm(self.full(f"batch={batch_id}"), recursive=True)
        except (FileNotFoundError, OSError):
            pass

    # -- reading ----------------------------------------------------------------------------

    def read_reference(self, version: int) -> pd.DataFrame | None:
        path = self.full(f"reference/v{version}.parquet")
        if not self.fs.exists(path):
            return None
        return pq.read_table(path, filesystem=self.arrow_fs).to_pandas()

    def listed(self, start_hour: int, end_hour: int, batch_ids: Sequence[str] | None,
               conn: Any = None) -> list[Any]:
        """The registered (live) file records overlapping hours [start_hour, end_hour)."""
        t = feature_files
        query = select(t).where(t.c.deployment_key == self.key, t.c.retired_at.is_(None),
                                t.c.hour < end_hour, t.c.hour + t.c.hours > start_hour)
        if batch_ids is not None:
            query = query.where(t.c.batch.in_(list(batch_ids)))
        query = query.order_by(t.c.key)
        if conn is not None:
            return conn.execute(query).all()
        with self.engine.connect() as own:
            return own.execute(query).all()

    def files(self, start_hour: int, end_hour: int, batch_ids: Sequence[str] | None
              ) -> list[str]:
        """Committed partition files (full paths) of the hours and batches (None: all)."""
        return [self.full(r.path) for r in self.listed(start_hour, end_hour, batch_ids)]

    def read(self, start_hour: int, end_hour: int, batch_ids: Sequence[str] | None,
             columns: Sequence[str] | None = None, model_version: int | None = None
             ) -> pd.DataFrame:
        """Rows of the window's hours (model version: only its rows), in file order."""
        paths = self.files(start_hour, end_hour, batch_ids)
        wanted = list(columns) if columns else None
        if not paths:
            return pd.DataFrame(columns=wanted)
        condition = ((pc.field("ts") >= start_hour * HOUR_S)
                     & (pc.field("ts") < end_hour * HOUR_S))
        if model_version is not None:
            condition &= pc.field("model_version") == model_version
        return read_tables(paths, self.arrow_fs, wanted, condition).to_pandas()


def read_tables(paths: list[str], filesystem: Any, columns: list[str] | None,
                condition: Any = None) -> pa.Table:
    """The files' rows as one table (filter pushed down to row groups). Files whose columns
    differ (additional data given to some calls only) are read one by one and unified."""
    try:
        dataset = ds.dataset(paths, format="parquet", filesystem=filesystem)
        if columns is not None or len(paths) == 1:
            return dataset.to_table(columns=columns, filter=condition)
    except (pa.ArrowInvalid, pa.ArrowTypeError, KeyError):
        pass
    tables = [pq.read_table(p, filesystem=filesystem, columns=columns, filters=condition)
              for p in paths]
    return pa.concat_tables(tables, promote_options="permissive")


def remove_records(conn: Any, keys: list[int]) -> None:
    conn.execute(delete(feature_files).where(feature_files.c.key.in_(keys)))
