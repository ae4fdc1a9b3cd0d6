"""Compaction: small feature files merged per (batch, hour) / (batch, day), atomically for
readers, concurrently with writers, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from typer.testing import CliRunner

from scenarist.cli import app
from scenarist.deployments import Deployment
from scenarist.deployments.drift import current_rows
from scenarist.stores import deployment_files
from scenarist.stores.deployment_tables import feature_files

HOUR = 3600.0
WINDOW = ("2000-01-01T00:00Z", "2100-01-01T00:00Z")


def _log(dep: Deployment, model, frame: pd.DataFrame, start: float, step: float, prefix: str,
         **kwargs):
    ids = [f"{prefix}{i}" for i in range(len(frame))]
    pred, proba = model.predict(frame[["x1", "x2"]])
    dep.log_batch(ids, start + np.arange(len(frame)) * step, frame[["x1", "x2"]], pred, proba,
                  **kwargs)


def _live_files(dep: Deployment) -> pd.DataFrame:
    with dep._engine.connect() as conn:
        rows = conn.execute(select(feature_files).where(
            feature_files.c.deployment_key == dep.key,
            feature_files.c.retired_at.is_(None))).all()
    return pd.DataFrame(rows, columns=[c.name for c in feature_files.columns])


def _all_rows(dep: Deployment) -> pd.DataFrame:
    first, last = pd.Timestamp(WINDOW[0]), pd.Timestamp(WINDOW[1])
    return current_rows(dep, first, last, None, None)


def test_compaction_merges_hours_and_days_and_keeps_every_row(store_url, data_dir,
                                                              small_binary, monkeypatch):
    model, reference = small_binary
    dep = Deployment.create(model, "compaction", reference=reference, url=store_url,
                            data_dir=data_dir)
    batch = dep.create_batch("nightly")
    old = pd.Timestamp("2024-05-01T00:00Z").timestamp()   # days ago: compacted daily
    recent = (time.time() // HOUR - 4) * HOUR             # hours ago: compacted hourly
    frame = reference.iloc[:40].reset_index(drop=True)
    # 8 calls of 5 rows over 2 days (6 h apart) written as Parquet files (as calls above
    # INLINE_ROWS are), then 8 recent ones kept inline in their records (small calls)
    monkeypatch.setattr(deployment_files, "INLINE_ROWS", 0)
    for call in range(8):
        _log(dep, model, frame.iloc[call * 5:call * 5 + 5], old + call * 6 * HOUR, 60.0,
             f"old{call}-")
    monkeypatch.undo()
    for call in range(8):
        _log(dep, model, frame.iloc[call * 5:call * 5 + 5], recent + call * 900, 60.0,
             f"new{call}-", batch_id=batch.id if call % 2 else None)
    before = _all_rows(dep)
    live = _live_files(dep)
    assert len(live) == 16 and (live["path"] == "").sum() == 8 and live["data"].notna().sum() == 8
    result = dep.compact(older_than=0)
    after = _all_rows(dep)
    assert len(after) == len(before) == 80
    assert sorted(after["sample_id"]) == sorted(before["sample_id"])
    assert after["x1"].sum() == np.float64(before["x1"].sum()) or np.isclose(
        after["x1"].sum(), before["x1"].sum())
    files = _live_files(dep)
    # 2 old days -> 2 daily files; recent: 8 calls over 2 hours, 2 batches -> 4 hourly files
    daily, hourly = files[files["hours"] == 24], files[files["hours"] == 1]
    assert len(daily) == 2 and len(hourly) == 4, files
    assert result.merged == 6 and result.files_retired == 16
    # a batch's query reads only its compacted file
    batch_rows = dep.export(data_dir.parent / "b.parquet", *WINDOW, batch=batch.id)
    assert len(pd.read_parquet(batch_rows)) == 20
    assert files["data"].isna().all() and (files["path"] != "").all()
    # retired files stay for the grace period, then a later pass deletes them; the inline
    # records went with the merge (their rows were read with the listing)
    folder = dep.files.folder
    assert len(list(folder.rglob("part-*.parquet"))) == 8
    with dep._engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(feature_files).where(
            feature_files.c.deployment_key == dep.key)).scalar_one() == 6 + 8
    assert dep.compact(older_than=0).files_deleted == 0
    assert dep.compact(older_than=0, now=time.time() + 3600).files_deleted == 8
    assert not list(folder.rglob("part-*.parquet"))
    assert len(_all_rows(dep)) == 80
    drift = dep.get_feature_drift(*WINDOW)
    assert set(drift.index) == {"x1", "x2"}


def test_compaction_concurrent_with_writes_and_reads_loses_and_duplicates_nothing(
        store_url, data_dir, small_binary):
    model, reference = small_binary
    dep = Deployment.create(model, "busy", reference=reference, url=store_url,
                            data_dir=data_dir)
    start = (time.time() // HOUR - 3) * HOUR  # 3 closed hours, written while compacted
    frame = reference.iloc[:4].reset_index(drop=True)
    calls, per_call = 120, 4
    done = threading.Event()
    problems: list[str] = []
    counts: list[int] = []

    def write() -> None:
        writer = Deployment.get(dep.id, url=store_url)
        try:
            for call in range(calls):
                _log(writer, model, frame, start + call * 90.0, 1.0, f"c{call}-")
        except Exception as exc:  # noqa: BLE001 - reported by the test
            problems.append(f"writer: {exc!r}")
        finally:
            done.set()

    def compact() -> None:
        compactor = Deployment.get(dep.id, url=store_url)
        while not done.is_set():
            try:
                compactor.compact(older_than=0)
            except Exception as exc:  # noqa: BLE001
                problems.append(f"compactor: {exc!r}")
                return

    def read() -> None:
        reader = Deployment.get(dep.id, url=store_url)
        while not done.is_set():
            try:
                rows = _all_rows(reader)
            except Exception as exc:  # noqa: BLE001
                problems.append(f"reader: {exc!r}")
                return
            if rows.empty:
                continue
            if rows["sample_id"].duplicated().any():
                problems.append(f"reader saw duplicates: {len(rows)} rows")
            if counts and len(rows) < counts[-1]:
                problems.append(f"reader lost rows: {len(rows)} after {counts[-1]}")
            counts.append(len(rows))

    threads = [threading.Thread(target=f) for f in (write, compact, read)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not problems, problems
    assert len(counts) > 3, "the reader ran alongside the writer"
    dep.compact(older_than=0)
    rows = _all_rows(dep)
    expected = pd.concat([frame] * calls)
    assert len(rows) == calls * per_call and not rows["sample_id"].duplicated().any()
    assert np.isclose(rows["x1"].sum(), expected["x1"].sum())
    assert dep.get_service_stats(*WINDOW).total_predictions == calls * per_call
    per_hour = _live_files(dep).groupby(["batch", "hour"]).size()
    assert (per_hour == 1).all(), per_hour
    with dep._engine.connect() as conn:
        listed = conn.execute(select(func.sum(feature_files.c.rows)).where(
            feature_files.c.deployment_key == dep.key,
            feature_files.c.retired_at.is_(None))).scalar_one()
    assert listed == calls * per_call


def test_compact_command(store_url, data_dir, small_binary):
    model, reference = small_binary
    dep = Deployment.create(model, "cli", reference=reference, url=store_url,
                            data_dir=data_dir)
    start = (time.time() // HOUR - 3) * HOUR
    for call in range(3):
        _log(dep, model, reference.iloc[:3], start + call, 0.1, f"k{call}-")
    result = CliRunner().invoke(app, ["deployments", "compact", dep.id, "--url", store_url])
    assert result.exit_code == 0, result.output
    assert f"{dep.id}: 1 merged file(s) from 3 small ones" in result.output
    both = CliRunner().invoke(app, ["deployments", "compact", "--url", store_url])
    assert both.exit_code != 0 and "give a deployment id or --all" in both.output
    every = CliRunner().invoke(app, ["deployments", "compact", "--all", "--url", store_url])
    assert every.exit_code == 0 and dep.id in every.output
