"""Feature data at an fsspec URL: two processes share a deployment through one PostgreSQL and
one `file://` folder (as N servers behind a load balancer share one database and one bucket);
`memory://` works in process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid

import pandas as pd

from scenarist.deployments import Deployment

T0 = pd.Timestamp("2024-05-01T10:00Z").timestamp()
WINDOW = ("2024-05-01T00:00Z", "2024-05-02T00:00Z")
CALLS, ROWS = 20, 5

WORKER = textwrap.dedent("""
    import sys
    import numpy as np
    from scenarist.deployments import Deployment
    url, dep_id, worker = sys.argv[1], sys.argv[2], int(sys.argv[3])
    dep = Deployment.get(dep_id, url=url)
    rng = np.random.default_rng(worker)
    for call in range({calls}):
        x = rng.normal(size=({rows}, 2))
        import pandas as pd
        frame = pd.DataFrame({{"x1": x[:, 0], "x2": x[:, 1]}})
        ids = [f"w{{worker}}-{{call}}-{{i}}" for i in range({rows})]
        stamps = {t0} + call * 60 + worker * 30 + np.arange({rows})
        dep.log_batch(ids, stamps, frame, (x[:, 0] > 0).astype(int),
                      1 / (1 + np.exp(-x[:, 0])), request_ms=10.0 + worker)
    print("done", worker)
""").format(calls=CALLS, rows=ROWS, t0=T0)


def test_two_processes_share_a_deployment_through_postgres_and_a_file_url(
        postgres_url, tmp_path, small_binary):
    model, reference = small_binary
    shared = f"file://{tmp_path}/bucket"
    dep = Deployment.create(model, "shared", reference=reference, url=postgres_url,
                            data_url=shared)
    assert str(dep.data_dir) == shared
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, postgres_url, dep.id, str(w)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for w in (0, 1)]
    outputs = [w.communicate(timeout=600) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    stats = dep.get_service_stats(*WINDOW)
    assert stats.total_predictions == 2 * CALLS * ROWS  # the sum of both processes' calls
    assert stats.total_requests == 2 * CALLS
    assert stats.mean_request_ms == 10.5
    exported = pd.read_parquet(dep.export(tmp_path / "rows.parquet", *WINDOW))
    assert len(exported) == 2 * CALLS * ROWS and exported["sample_id"].is_unique
    assert {s.split("-")[0] for s in exported["sample_id"]} == {"w0", "w1"}
    result = Deployment.get(dep.id, url=postgres_url).compact(older_than=0)
    assert result.files_retired == 2 * CALLS
    assert len(pd.read_parquet(dep.export(tmp_path / "again.parquet", *WINDOW))) == 2 * CALLS * ROWS
    assert set(dep.get_feature_drift(*WINDOW).index) == {"x1", "x2"}


def test_memory_url_holds_the_feature_data(store_url, small_binary):
    model, reference = small_binary
    dep = Deployment.create(model, "in memory", reference=reference, url=store_url,
                            data_url=f"memory://scenarist-tests/{uuid.uuid4().hex}")
    frame = reference.iloc[:30].reset_index(drop=True)[["x1", "x2"]]
    pred, proba = model.predict(frame)
    for call in range(3):
        part = slice(call * 10, call * 10 + 10)
        dep.log_batch([f"m{i}" for i in range(call * 10, call * 10 + 10)],
                      T0 + call * 7200 + pd.Series(range(10)).to_numpy(),
                      frame.iloc[part].reset_index(drop=True), pred[part], proba[part])
    assert dep.files.fs.protocol in ("memory", ("memory",))
    assert set(dep.get_feature_drift(*WINDOW).index) == {"x1", "x2"}
    assert dep.compact(older_than=0).merged == 1  # 3 hours of one old day: one daily file
