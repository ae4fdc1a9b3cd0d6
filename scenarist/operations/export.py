"""Data export: the exact rows behind an evaluation, for auditors and for debugging.

    store.export("2017Q4", "rows.parquet")                  # EvaluationStore
    export_rows(evaluation, "rows.csv")                     # the same, from an Evaluation
    scenarist export the_MES --label 2017Q4 -o rows.csv     # the CLI

The store keeps numbers, not rows. So that an export is row-exact, evaluating a batch with a
`snapshot_dir` (project stores do, under `.scenarist/snapshots/<store>/`, unless the store sets
`keep_rows: false`) writes the batch as evaluated — every column (features, additional data,
labels, columns joined from secondary datasets) in its row order, plus the model's `prediction`
(and `prediction_probability` for binary models) — to a Parquet file named by the SHA-256 of its
content. The evaluation's details keep `snapshot = {file, sha256, rows, columns}`; the export
checks the hash, so a snapshot changed or replaced on disk is an error, never a silent
different answer. Identical batches share one file, which goes when the last evaluation that
refers to it is deleted or replaced (or when the write of its evaluation fails). A process
killed between the snapshot write and the commit cannot clean up: the next evaluation of a
store with a snapshot folder sweeps it (`sweep_snapshots`), removing temporary files and
snapshots no evaluation of the database refers to once they are older than `SNAPSHOT_GRACE`
(1 hour; an evaluation owns its files for the seconds between writing and committing).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Collection, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from scenarist.errors import InputDataError, NotFoundError, StoreError

Format = Literal["parquet", "csv"]
#: files of a snapshot folder that no evaluation refers to are removed once older than this
SNAPSHOT_GRACE = timedelta(hours=1)
_SNAPSHOT = re.compile(r"[0-9a-f]{64}\.parquet")
PREDICTION = "prediction"
PROBABILITY = "prediction_probability"


def write_snapshot(folder: Path | str, model: Any, current: pd.DataFrame,
                   reference: pd.DataFrame) -> dict[str, Any]:
    """Keep `current` and the model's predictions on it as `<sha256>.parquet` in `folder`;
    returns the facts the evaluation's details keep (`snapshot`)."""
    from scenarist.metrics.inputs import check_batch

    checked = check_batch(reference, current, features=list(model.features))
    predicted, probability = model.predict(checked)
    rows = current.reset_index(drop=True).copy(deep=False)
    rows[unique_column(PREDICTION, rows.columns)] = np.asarray(predicted)
    if probability is not None and np.ndim(probability) == 1:
        rows[unique_column(PROBABILITY, rows.columns)] = np.asarray(probability, dtype=float)
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix="tmp", suffix=".parquet.tmp")
        os.close(handle)
        try:
            rows.to_parquet(temporary, index=False)
            pause_point("snapshot_temporary")
            digest = _sha256(Path(temporary))
            target = folder / f"{digest}.parquet"
            if target.exists():
                os.unlink(temporary)
                os.utime(target)  # in use again: young, so no sweep removes it before commit
            else:
                os.replace(temporary, target)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
    except OSError as exc:
        raise StoreError(f"cannot keep the evaluated rows in {folder}: {exc}. Make the folder "
                         "writable, or set `keep_rows: false` on the store") from exc
    return {"file": str(target.resolve()), "sha256": digest, "rows": len(rows),
            "columns": [str(c) for c in rows.columns]}


def sweep_snapshots(folder: Path | str, referenced: Collection[str]) -> list[Path]:
    """Remove what killed evaluations left in a snapshot folder: temporary files
    (`tmp*.parquet.tmp`) and snapshots whose SHA-256 is not in `referenced`, once older than
    `SNAPSHOT_GRACE`. A running evaluation owns its files only between the temporary write and
    its commit (seconds); the grace leaves those alone, and an existing snapshot an evaluation
    re-uses is touched when it does. Returns the files removed."""
    cutoff = time.time() - SNAPSHOT_GRACE.total_seconds()
    removed = []
    for path in Path(folder).iterdir() if Path(folder).is_dir() else []:
        name = path.name
        stray = (name.startswith("tmp") and name.endswith(".parquet.tmp")) or (
            _SNAPSHOT.fullmatch(name) is not None and name.removesuffix(".parquet")
            not in referenced)
        try:
            if stray and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
        except OSError:
            continue  # removed meanwhile, or not ours to remove: the next sweep tries again
    return removed


def pause_point(name: str) -> None:
    """A test hook, a no-op unless SCENARIST_PAUSE_AT=<name>: then the process writes its pid to
    the file SCENARIST_PAUSE_FILE names and waits there forever, so a test can kill -9 it at
    exactly this point (tests/stores/test_snapshot_crash.py). Points: "snapshot_temporary" (the
    rows written to the temporary file), "snapshot_written" (the snapshot in place, its
    evaluation not yet committed)."""
    if os.environ.get("SCENARIST_PAUSE_AT") != name:
        return
    Path(os.environ["SCENARIST_PAUSE_FILE"]).write_text(str(os.getpid()))
    while True:
        time.sleep(1)


def read_snapshot(snapshot: Mapping[str, Any] | None, what: str) -> pd.DataFrame:
    """The rows kept by `write_snapshot`, checked against their hash. `what` names the
    evaluation in errors."""
    if not snapshot:
        raise NotFoundError(
            f"{what} kept no rows (its store has `keep_rows: false`, it was evaluated from "
            "Python without `snapshot_dir=`, or before scenarist kept rows); re-evaluate it to "
            "export its rows")
    path = Path(snapshot["file"])
    if not path.is_file():
        raise NotFoundError(f"the rows of {what} were kept in {path}, which no longer exists; "
                            "re-evaluate it to export its rows")
    if _sha256(path) != snapshot["sha256"]:
        raise StoreError(f"the rows of {what} in {path} changed since it was evaluated (SHA-256 "
                         "differs); they are not the rows behind it. Re-evaluate it")
    return pd.read_parquet(path)


def export_rows(evaluation: Any, output: Path | str, format: Format | None = None) -> Path:
    """Write the rows behind `evaluation` (an Evaluation) to `output` (Parquet or CSV)."""
    what = f"evaluation {evaluation.label!r} of store {evaluation.store!r}"
    source = evaluation.details.get("deployment")
    if not evaluation.details.get("snapshot") and source:
        window = (f"batch={source['batch']!r}" if source.get("batch")
                  else f"start={source.get('start')!r}, end={source.get('end')!r}")
        raise NotFoundError(f"{what} was built from the logged predictions of deployment "
                            f"{source.get('id')!r}; export them with "
                            f"Deployment.get({source.get('id')!r}).export(path, {window})")
    return write_table(read_snapshot(evaluation.details.get("snapshot"), what), output, format)


def write_table(rows: pd.DataFrame, output: Path | str, format: Format | None = None) -> Path:
    """`rows` to `output` (format from `format`, else from the suffix), written atomically."""
    path = Path(output)
    chosen = format or {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}.get(
        path.suffix.lower())
    if chosen not in ("parquet", "csv"):
        raise InputDataError(f"cannot tell the export format of {str(path)!r}; name it .parquet "
                             "or .csv, or pass format='parquet' / 'csv' (--format)")
    temporary = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if chosen == "parquet":
            rows.to_parquet(temporary, index=False)
        else:
            rows.to_csv(temporary, index=False)
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise StoreError(f"cannot write the export to {path}: {exc}") from exc
    return path


def unique_column(name: str, existing: Any) -> str:
    """`name`, or `scenarist_<name>` when the data already has a column called `name`."""
    return name if name not in set(map(str, existing)) else f"scenarist_{name}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
