"""Feature data of logged predictions: Parquet partitions beside the database (DESIGN.md §7).

Layout under the deployment's data folder (for a SQLite store `…/store.db` it is
`…/store.db.d/` by default; for PostgreSQL it is the `data_dir` given at creation):

    <deployment id>/reference/v<model version>.parquet          reference rows (+ outputs)
    <deployment id>/batch=<batch id | _none>/hour=<epoch hour>/part-<call id>.parquet

A partition file holds the call's rows of that hour: `sample_id`, `ts`, `model_version`,
`__prediction__`, `__proba__` and the data columns.

Files are written as `*.parquet.tmp` while the database transaction runs (it commits only once
they are all written), renamed after it commits (`StagedFiles.commit`), or removed when it
fails (`discard`). Readers ignore `.tmp` files, so they never see feature rows whose
predictions are not committed. A crash between the commit and the rename leaves `.tmp` files
behind: their predictions count in every statistic (service stats, accuracy) but their
features are missing from drift; renaming such a file by hand (dropping `.tmp`) restores them.
A `.tmp` file left by a crash before the commit has no rows and is never read.

Deleting a monitoring batch removes its rows in one transaction and its folder afterwards;
readers only open the folders of live batches, so a crash in between leaves unread files, never
wrong drift.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scenarist.errors import StoreError

NO_BATCH = "_none"
# feature values are mostly distinct numbers: dictionary pages only cost time there
WRITE_OPTIONS = {"compression": "snappy", "use_dictionary": False}
TMP = ".tmp"


def default_data_dir(url: str | None) -> Path | None:
    """`<database file>.d` for a file-backed SQLite URL; None otherwise (a data_dir is needed)."""
    from scenarist.stores.database import resolve_url

    resolved = resolve_url(url)
    if resolved.get_backend_name() == "sqlite" and resolved.database not in (None, "", ":memory:"):
        return Path(f"{resolved.database}.d")
    return None


@dataclass
class StagedFiles:
    """Partition files written under temporary names, awaiting the database commit."""

    paths: list[Path] = field(default_factory=list)

    def commit(self) -> None:
        for path in self.paths:
            os.replace(path, path.with_name(path.name[: -len(TMP)]))
        self.paths.clear()

    def discard(self) -> None:
        for path in self.paths:
            path.unlink(missing_ok=True)
        self.paths.clear()


class FeatureFiles:
    """The Parquet partitions of one deployment."""

    def __init__(self, root: Path | str, deployment_id: str):
        self.folder = Path(root) / deployment_id

    # -- writing ----------------------------------------------------------------------------

    def stage(self, frame: pd.DataFrame, hours: np.ndarray, batch_id: str | None) -> StagedFiles:
        """Write `frame` as one file per hour of `hours` (same length), under temporary names."""
        staged = StagedFiles()
        call = uuid.uuid4().hex[:16]
        order = np.argsort(hours, kind="stable")
        sorted_hours = hours[order]
        if not np.array_equal(order, np.arange(len(order))):
            frame = frame.iloc[order]
        starts = np.flatnonzero(np.r_[True, sorted_hours[1:] != sorted_hours[:-1]])
        ends = np.r_[starts[1:], len(sorted_hours)]
        table = pa.Table.from_pandas(frame, preserve_index=False)
        try:
            for begin, end in zip(starts, ends, strict=True):
                folder = self._partition(batch_id, int(sorted_hours[begin]))
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / f"part-{call}.parquet{TMP}"
                staged.paths.append(path)
                pq.write_table(table.slice(begin, end - begin), path, **WRITE_OPTIONS)
        except OSError as exc:
            staged.discard()
            raise StoreError(f"cannot write feature data under {self.folder}: {exc}") from exc
        return staged

    def write_reference(self, version: int, frame: pd.DataFrame) -> None:
        path = self.folder / "reference" / f"v{version}.parquet"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
        except OSError as exc:
            raise StoreError(f"cannot write the reference data to {path}: {exc}") from exc

    def delete_batch(self, batch_id: str) -> None:
        """Remove a deleted batch's files (after its rows are gone: readers already skip it)."""
        shutil.rmtree(self.folder / f"batch={batch_id}", ignore_errors=True)

    # -- reading ----------------------------------------------------------------------------

    def read_reference(self, version: int) -> pd.DataFrame | None:
        path = self.folder / "reference" / f"v{version}.parquet"
        return pq.read_table(path).to_pandas() if path.is_file() else None

    def files(self, start_hour: int, end_hour: int, batch_ids: Sequence[str] | None
              ) -> list[Path]:
        """Committed partition files of hours [start_hour, end_hour) of the batches (None: all)."""
        if batch_ids is None:
            batch_dirs: Iterable[Path] = sorted(self.folder.glob("batch=*"))
        else:
            batch_dirs = [self.folder / f"batch={b}" for b in batch_ids]
        found: list[Path] = []
        for batch_dir in batch_dirs:
            if not batch_dir.is_dir():
                continue
            for hour_dir in batch_dir.glob("hour=*"):
                hour = int(hour_dir.name.split("=", 1)[1])
                if start_hour <= hour < end_hour:
                    found.extend(sorted(hour_dir.glob("*.parquet")))
        return found

    def read(self, start_hour: int, end_hour: int, batch_ids: Sequence[str] | None,
             columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Rows of the window (all committed partitions of those hours), in file order."""
        paths = self.files(start_hour, end_hour, batch_ids)
        if not paths:
            return pd.DataFrame(columns=list(columns) if columns else None)
        tables = [pq.read_table(p, columns=list(columns) if columns else None) for p in paths]
        return pd.concat([t.to_pandas() for t in tables], ignore_index=True)

    def _partition(self, batch_id: str | None, hour: int) -> Path:
        return self.folder / f"batch={batch_id or NO_BATCH}" / f"hour={hour}"
