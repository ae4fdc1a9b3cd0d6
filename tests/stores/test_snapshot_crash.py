"""An evaluation killed (SIGKILL, a real subprocess) between writing its kept-rows snapshot and
committing leaves files no evaluation refers to; the next evaluation of the store removes those
older than any running evaluation could own (`SNAPSHOT_GRACE`), and nothing else."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from scenarist.operations.build import build_evaluation, open_store
from scenarist.operations.export import SNAPSHOT_GRACE
from scenarist.project.config import load_project

BUILD = """
import sys
from scenarist.operations.build import build_evaluation
from scenarist.project.config import load_project
build_evaluation(load_project(sys.argv[1]), "the_MES", {"quarter": sys.argv[2]})
"""


def _kill_at(point: str, root: Path, quarter: str, marker: Path) -> None:
    """Run an evaluation in a subprocess that stops at `point`, and kill -9 it there."""
    env = {**os.environ, "SCENARIST_PAUSE_AT": point, "SCENARIST_PAUSE_FILE": str(marker)}
    process = subprocess.Popen([sys.executable, "-c", BUILD, str(root), quarter], env=env)
    deadline = time.monotonic() + 600
    while not marker.exists():
        assert process.poll() is None, f"the evaluation ended before reaching {point}"
        assert time.monotonic() < deadline, f"the evaluation never reached {point}"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL


def _age(folder: Path, seconds: float) -> None:
    for path in folder.iterdir():
        stamp = time.time() - seconds
        os.utime(path, (stamp, stamp))


def test_the_next_evaluation_removes_what_a_killed_one_left(project_copy: Path, tmp_path: Path):
    project = load_project(project_copy)
    folder = project_copy / ".scenarist" / "snapshots" / "the_MES"
    kept = Path(build_evaluation(project, "the_MES", {"quarter": "2017Q2"}).snapshot["file"])

    _kill_at("snapshot_temporary", project_copy, "2017Q3", tmp_path / "paused-1")
    _kill_at("snapshot_written", project_copy, "2017Q4", tmp_path / "paused-2")
    temporary = [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    orphans = [p for p in folder.glob("*.parquet") if p != kept]
    assert len(temporary) == 1 and temporary[0].name.startswith("tmp")
    assert len(orphans) == 1  # the Q4 rows, written and never committed
    assert open_store(project, "the_MES").labels() == ["2017Q2"]

    _age(folder, SNAPSHOT_GRACE.total_seconds() + 60)  # older than any evaluation could run
    running = folder / "tmpstillwriting.parquet.tmp"  # a running evaluation's file: too young
    running.write_bytes(b"PAR1")

    q3 = Path(build_evaluation(project, "the_MES", {"quarter": "2017Q3"}).snapshot["file"])
    assert sorted(folder.iterdir()) == sorted([kept, q3, running])
    assert open_store(project, "the_MES").export("2017Q2", tmp_path / "q2.parquet").is_file()
