"""sql_changed starts a run when its query's result changes; an fsspec URL's fingerprint
follows what its filesystem reports (here fsspec's in-memory filesystem)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import fsspec
from triggers_helpers import add_scenarios, runs_of

import scenarist.triggers as triggers
from scenarist.triggers.fingerprints import _file_fingerprint


def test_sql_changed_starts_a_run_when_the_result_changes(prefect_api, project_copy: Path):
    warehouse = project_copy / "warehouse.db"
    with sqlite3.connect(warehouse) as db:
        db.execute("create table batches (id integer, updated_at text)")
        db.execute("insert into batches values (1, '2024-05-01')")
    file = project_copy / "scenarist.yaml"
    file.write_text(file.read_text().replace(
        "connections:\n", 'connections:\n  warehouse: {url: "sqlite:///warehouse.db"}\n', 1))
    add_scenarios(project_copy, """
  New rows:
    triggers: [{sql_changed: {connection: warehouse, every: 1m,
                              query: "select max(updated_at) from batches"}}]
    steps: [{name: note, type: set_variables, values: {seen: true}}]
""")
    assert [r.action for r in triggers.poll(project_copy, "New rows")] == ["baseline"]
    assert [r.action for r in triggers.poll(project_copy, "New rows")] == ["unchanged"]
    with sqlite3.connect(warehouse) as db:
        db.execute("insert into batches values (2, '2024-05-02')")
    (started,) = triggers.poll(project_copy, "New rows")
    assert started.action == "started"
    (run,) = runs_of(project_copy, "New rows").itertuples()
    assert run.id == started.run_id and run.trigger == "trigger-1"


def test_a_url_is_fingerprinted_by_what_its_filesystem_reports():
    fs = fsspec.filesystem("memory")
    fs.pipe("/landing/transactions_2017Q4.parquet", b"first")
    url = "memory://landing/transactions_2017Q4.parquet"
    first = _file_fingerprint(url)
    assert first is not None and _file_fingerprint(url) == first
    fs.pipe("/landing/transactions_2017Q4.parquet", b"second, longer")
    assert _file_fingerprint(url) not in (None, first)
    assert _file_fingerprint("memory://landing/absent.parquet") is None
