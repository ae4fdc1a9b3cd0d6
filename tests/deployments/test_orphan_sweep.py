"""A writer killed (kill -9) between writing a feature file and recording it leaves a file no
reader sees; compaction's sweep deletes it once it is older than `orphan_age`, never while a
writer may still record it, and keeps every recorded row."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from scenarist.deployments import Deployment
from scenarist.deployments.drift import current_rows
from scenarist.stores.deployment_files import INLINE_ROWS

HOUR = 3600.0
WINDOW = (pd.Timestamp("2000-01-01T00:00Z"), pd.Timestamp("2100-01-01T00:00Z"))
BIG = INLINE_ROWS + 200  # a call that writes a Parquet file

CHILD = """
import sys
import numpy as np
from scenarist.deployments import Deployment

url, dep_id, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
dep = Deployment.get(dep_id, url=url)
n = int(sys.argv[4])
rng = np.random.default_rng(5)
data = {"x1": rng.normal(size=n), "x2": rng.normal(size=n)}
proba = rng.random(n)
dep.log_batch([f"killed-{i}" for i in range(n)], start + np.arange(n) * 0.5, data,
              (proba > 0.5).astype(int), proba)
print("the call returned: the pause hook did not stop it", flush=True)
"""


def _log(dep: Deployment, model, frame: pd.DataFrame, start: float, prefix: str) -> None:
    pred, proba = model.predict(frame[["x1", "x2"]])
    dep.log_batch([f"{prefix}{i}" for i in range(len(frame))],
                  start + np.arange(len(frame)) * 0.5, frame[["x1", "x2"]], pred, proba)


def _parquet_files(dep: Deployment) -> set[str]:
    folder = dep.files.folder
    return {p.relative_to(folder).as_posix() for p in folder.rglob("batch=*/*/*.parquet")}


def test_a_file_left_by_a_killed_writer_is_swept_and_recorded_rows_stay(
        store_url, data_dir, small_binary, tmp_path):
    model, reference = small_binary
    dep = Deployment.create(model, "killed", reference=reference, url=store_url,
                            data_dir=data_dir)
    start = (time.time() // HOUR - 3) * HOUR  # closed hours: compaction merges them
    rows = pd.concat([reference] * 4, ignore_index=True).iloc[:BIG]
    _log(dep, model, rows, start, "big-")               # a recorded Parquet file
    for call in range(3):                                # recorded inline rows
        _log(dep, model, reference.iloc[:5], start + 1_000 + call, f"small{call}-")
    recorded_files = _parquet_files(dep)
    before = current_rows(dep, *WINDOW, None, None)
    assert len(before) == BIG + 15 and len(recorded_files) == 1

    marker = tmp_path / "staged"
    env = {**os.environ, "SCENARIST_FAULT_HOLD": f"before-record:{marker}"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, store_url, dep.id, str(start + 2_000), str(BIG)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, child.stdout.read()
            assert time.monotonic() < deadline, "the child never reached the pause"
            time.sleep(0.05)
        orphan = _parquet_files(dep) - recorded_files
        assert len(orphan) == 1, orphan  # written, not recorded: the writer is paused
        # a pass while the writer may still record its file leaves the file alone (SQLite: the
        # paused writer holds the write lock, so this pass only reads and sweeps)
        if not store_url.startswith("sqlite"):
            assert dep.compact(older_than=0).orphans_deleted == 0
        from scenarist.deployments.compaction import sweep_unrecorded
        assert sweep_unrecorded(dep, time.time() - 3600) == 0
        assert orphan <= _parquet_files(dep)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL

    # nobody reads the orphan: the killed call stored nothing
    assert len(current_rows(dep, *WINDOW, None, None)) == BIG + 15
    assert dep.get_service_stats(*WINDOW).total_predictions == BIG + 15
    # a pass within the safe age keeps it; one an hour later deletes it, and only it
    first = dep.compact(older_than=0)
    assert first.orphans_deleted == 0 and orphan <= _parquet_files(dep)
    later = dep.compact(older_than=0, now=time.time() + 2 * HOUR)
    assert later.orphans_deleted == 1
    assert not orphan & _parquet_files(dep)
    after = current_rows(dep, *WINDOW, None, None)
    assert sorted(after["sample_id"]) == sorted(before["sample_id"])
    assert np.isclose(after["x1"].sum(), before["x1"].sum())
    assert all(Path(dep.files.full(r.path)).exists()
               for r in dep.files.listed(-(2 ** 31), 2 ** 31 - 1, None))
