"""A `log_batch` call's feature rows: its Arrow table, staged and registered with the call.

`feature_table` builds the rows column by column from numpy (no pandas frame to assemble, no
per-column pandas conversion); `Stager` stages them and registers them in the call's
transaction (see stores.deployment_files): a call of at most `INLINE_ROWS` rows keeps them in
its record (Arrow IPC bytes, committed with the call: no file); a larger one writes Parquet
files (inline up to `SMALL` rows, else on a thread while the rows go to the database) that are
removed when the transaction fails.

Crash tests hold a call that wrote files before it records them (`hold_point("before-record")`,
see `scenarist.faults`) and kill it there.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from scenarist.deployments.model_info import PREDICTION, PROBA
from scenarist.faults import hold_point
from scenarist.stores.deployment_files import StagedFiles

if TYPE_CHECKING:
    from scenarist.deployments.deployment import Deployment


def feature_table(self: Deployment, frame: pd.DataFrame, extra: pd.DataFrame | None,
                  texts: np.ndarray, seconds: np.ndarray, values: np.ndarray,
                  proba: np.ndarray | None) -> pa.Table:
    """The call's feature file rows, built column by column (no pandas frame to assemble)."""
    columns: dict[str, pa.Array] = {}
    dtypes = set(frame.dtypes)
    only = next(iter(dtypes)) if len(dtypes) == 1 else None
    if isinstance(only, np.dtype) and only.kind in "fiub":
        # one numeric dtype (the usual feature frame): one 2-D array, no Series per column
        block = frame.to_numpy()
        for j, name in enumerate(frame.columns):
            columns[str(name)] = pa.array(block[:, j], from_pandas=True)
    else:
        for name, column in frame.items():
            columns[str(name)] = _arrow(column)
    columns["sample_id"] = pa.array(texts, type=pa.string())
    columns["ts"] = pa.array(seconds, type=pa.float64())
    columns["model_version"] = pa.array(np.full(len(texts), self.model_version, dtype=np.int32))
    for name, column in extra.items() if extra is not None else ():
        columns[str(name)] = _arrow(column)
    columns[PREDICTION] = (pa.array(values, from_pandas=True)
                           if isinstance(values, np.ndarray) and values.dtype.kind in "fiub"
                           else pa.Array.from_pandas(pd.Series(values)))
    if proba is not None:
        columns[PROBA] = pa.array(proba, type=pa.float64())
    return pa.table(columns)


def _arrow(column: pd.Series) -> pa.Array:
    """A column as Arrow, as `pa.Array.from_pandas` gives it (NaN as null), from its numpy
    values when it has plain numeric ones (5x cheaper than the pandas conversion)."""
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "fiub":
        return pa.array(column.to_numpy(), from_pandas=True)
    return pa.Array.from_pandas(column)


SMALL = 2_000  # rows written inline rather than on a thread


class Stager:
    """Writes a call's feature files (inline when small, else on a thread) and registers them
    in the transaction; any failure before the commit removes them."""

    def __init__(self, self_: Deployment, parquet: pa.Table | None, hours: np.ndarray,
                 n: int):
        self.deployment, self.parquet, self.hours, self.n = self_, parquet, hours, n
        self.pool: ThreadPoolExecutor | None = None
        self.future: Future[StagedFiles] | None = None
        self.staged: StagedFiles | None = None

    def __enter__(self) -> Stager:
        return self

    def start(self, batch_id: str | None) -> None:
        if self.parquet is None:
            return
        files = self.deployment.files
        if self.n <= SMALL:
            self.staged = files.stage(self.parquet, self.hours, batch_id)
        else:
            self.pool = ThreadPoolExecutor(max_workers=1)
            self.future = self.pool.submit(files.stage, self.parquet, self.hours, batch_id)

    def register(self, conn: Any) -> None:
        if self.future is not None:
            self.staged = self.future.result()
        if self.staged is not None:
            if any(r["path"] for r in self.staged.records):
                hold_point("before-record")
            self.staged.register(conn)

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        if exc is not None:
            if self.future is not None and self.staged is None:
                _discard(self.future)
            elif self.staged is not None:
                self.staged.discard()


def _discard(staging: Future[StagedFiles] | None) -> None:
    """Remove the staged files of a call whose transaction did not commit."""
    if staging is None:
        return
    try:
        staging.result().discard()
    except Exception:  # noqa: BLE001 - staging failed: it removed its own files
        pass


