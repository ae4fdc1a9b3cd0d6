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
prediction rows; a failed transaction deletes them. A small call (at most `INLINE_ROWS` rows)
writes no file: its rows, as Arrow IPC bytes, are the `data` of its record (path ''), committed
with the call's transaction (durable with it, no file to open later) and read in the same query
that lists the files; compaction turns them into a Parquet file once their hour is closed.
Readers list the registered files of a window in one query and never look at the folder, so a
file whose transaction did not commit (a crash in between) is never read. Compaction
(deployments.compaction) writes the merged file, then retires the small ones and registers the
merged one in one transaction: a reader sees either the small files or the merged one, never
both, never neither. Retired files are deleted by a later compaction pass once `grace` seconds
have passed, so a reader that listed them just before the switch still finds them. A file
written but never recorded (the process killed between the two) is never read; `unrecorded`
finds such files for compaction's sweep.

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
INLINE_ROWS = 1_000  # a call of at most this many rows keeps them in its record (no file)
_INSERT = insert(feature_files)  # one object: SQLAlchemy memoizes its cache key


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
        """Record the files (and inline rows) as committed, in the caller's transaction."""
        if self.records and self.files is not None:
            conn.execute(_INSERT, [{**r, "deployment_key": self.files.key}
                                   for r in self.records])

    def commit(self) -> None:
        """Nothing left to do once the transaction committed (kept for callers)."""
        self.records = []

    def discard(self) -> None:
        if self.files is not None:
            for record in self.records:
                if record["data"] is None:
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

    def stage(self, rows: pd.DataFrame | pa.Table, hours: np.ndarray, batch_id: str | None,
              *, inline: bool | None = None) -> StagedFiles:
        """Write `rows` as one file per hour of `hours` (same length); register them with
        `StagedFiles.register` in the transaction, or `discard` them. `inline` (default: at
        most INLINE_ROWS rows) keeps each hour's rows in its record instead of a file."""
        staged = StagedFiles(self)
        call = uuid.uuid4().hex[:16]
        table = (rows if isinstance(rows, pa.Table)
                 else pa.Table.from_pandas(rows, preserve_index=False))
        if inline is None:
            inline = table.num_rows <= INLINE_ROWS
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
                part = table.slice(begin, end - begin)
                relative = "" if inline else f"batch={batch}/hour={hour}/part-{call}.parquet"
                staged.records.append({"batch": batch, "hour": hour, "hours": 1,
                                       "path": relative, "rows": int(end - begin),
                                       "created_at": now, "retired_at": None,
                                       "data": encode_rows(part) if inline else None})
                if not inline:
                    self.write(relative, part)
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
               conn: Any = None, *, data: bool = False) -> list[Any]:
        """The registered (live) file records overlapping hours [start_hour, end_hour); with
        `data`, inline records carry their rows (one query: a consistent view)."""
        t = feature_files
        shown = t.c if data else [c for c in t.c if c.name != "data"]
        query = select(*shown).where(t.c.deployment_key == self.key, t.c.retired_at.is_(None),
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
        """Committed partition files (full paths) of the hours and batches (None: all); rows
        kept inline in their records are not files (see `listed`)."""
        return [self.full(r.path) for r in self.listed(start_hour, end_hour, batch_ids)
                if r.path]

    def read(self, start_hour: int, end_hour: int, batch_ids: Sequence[str] | None,
             columns: Sequence[str] | None = None, model_version: int | None = None, *,
             start_s: float | None = None, end_s: float | None = None) -> pd.DataFrame:
        """Rows of the window's hours — or of [start_s, end_s) within them — (model version:
        only its rows): the files' rows, then the inline ones. The filters are pushed down to
        the files (only `columns` are read; the filter columns need not be among them), and
        the frame's columns are not consolidated into one block (no copy)."""
        records = self.listed(start_hour, end_hour, batch_ids, data=True)
        wanted = list(columns) if columns else None
        if not records:
            return pd.DataFrame(columns=wanted)
        first = start_hour * HOUR_S if start_s is None else max(start_s, start_hour * HOUR_S)
        last = end_hour * HOUR_S if end_s is None else min(end_s, end_hour * HOUR_S)
        condition = (pc.field("ts") >= first) & (pc.field("ts") < last)
        if model_version is not None:
            condition &= pc.field("model_version") == model_version
        return self.rows_of(records, wanted, condition).to_pandas(split_blocks=True)

    def rows_of(self, records: Sequence[Any], columns: list[str] | None = None,
                condition: Any = None) -> pa.Table:
        """The rows of file records (listed with data=True): files read with the filter pushed
        down, inline rows decoded and filtered; one table."""
        paths = [self.full(r.path) for r in records if r.data is None]
        inline = [decode_rows(r.data) for r in records if r.data is not None]
        tables = [read_tables(paths, self.arrow_fs, columns, condition)] if paths else []
        if inline:
            try:  # one schema (the usual case): no unification per table
                table = pa.concat_tables(inline)
            except pa.ArrowInvalid:  # additional data in some calls only, widened types
                table = pa.concat_tables(inline, promote_options="permissive")
            if condition is not None:
                table = table.filter(condition)
            if columns is not None:
                table = table.select([c for c in columns if c in table.column_names])
            tables.append(table)
        if len(tables) == 1:
            return tables[0]
        return pa.concat_tables(tables, promote_options="permissive")

    def unrecorded(self, recorded: set[str], older_than: float) -> list[str]:
        """Partition files (relative paths) under batch=*/ that `recorded` (every path the
        database records, live or retired) lacks and that were last modified before
        `older_than` (epoch seconds): files of calls or merges that never committed."""
        found = []
        try:
            listing = self.fs.find(self.base, detail=True)
        except (FileNotFoundError, OSError):
            return []
        prefix = self.base.rstrip("/") + "/"
        for path, info in listing.items():
            relative = path[len(prefix):] if path.startswith(prefix) else path
            if not relative.startswith("batch=") or not relative.endswith(".parquet"):
                continue
            if relative in recorded:
                continue
            modified = _modified(info)
            if modified is not None and modified < older_than:
                found.append(relative)
        return found


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


def encode_rows(table: pa.Table) -> bytes:
    """A small call's rows as Arrow IPC stream bytes (cheap to write and to read back)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def decode_rows(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(data).read_all()


def _modified(info: dict[str, Any]) -> float | None:
    """A listed file's modification time (epoch seconds) from fsspec's details, if known."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if value is None:
            continue
        if hasattr(value, "timestamp"):
            return float(value.timestamp())
        try:
            return float(value)
        except (TypeError, ValueError):
            try:
                return pd.Timestamp(value).timestamp()
            except (TypeError, ValueError):
                continue
    return None


def remove_records(conn: Any, keys: list[int]) -> None:
    conn.execute(delete(feature_files).where(feature_files.c.key.in_(keys)))
