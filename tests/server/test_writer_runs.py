"""The writer stores consecutive predictionLogs requests of any size in one log_batch call,
each counted as its own request; a refused request of a spooled run is dropped alone."""

from __future__ import annotations

import numpy as np
import pytest
from server_helpers import FEATURES, small_model, training_frame

from scenarist.deployments import Deployment
from scenarist.server.writer import Record, _store_each, runs

DAY = ("2024-05-01T00:00Z", "2024-05-02T00:00Z")
T0 = 1714521600.0  # 2024-05-01T00:00Z


@pytest.fixture
def dep(store_url, tmp_path) -> Deployment:
    return Deployment.create(small_model(), "Small v1", reference=training_frame(),
                             url=store_url, data_dir=tmp_path / "data")


def _request(dep: Deployment, prefix: str, rows: int, at: float, ms: float | None) -> Record:
    frame = training_frame(rows, seed=len(prefix) + rows)
    return Record(dep.id, None, None, at, ms, sample_ids=[f"{prefix}{i}" for i in range(rows)],
                  frame={name: frame[name].tolist() for name in FEATURES},
                  predictions=frame["y"].tolist(), row_ts=[at + i for i in range(rows)])


def test_multi_row_requests_are_stored_in_one_call_each_counted(dep, store_url):
    records = [_request(dep, p, n, T0 + 60 * k, ms)
               for k, (p, n, ms) in enumerate([("a", 1000, 40.0), ("b", 3, 10.0),
                                               ("c", 500, 70.0)])]
    assert [len(run) for run in runs(records, any_size=True)] == [3]  # one log_batch call
    assert [len(run) for run in runs(records)] == [1, 1, 1]  # requests awaiting an answer
    assert _store_each(runs(records, any_size=True)[0], store_url) == 0
    stats = dep.get_service_stats(*DAY)
    assert (stats.total_predictions, stats.total_requests) == (1503, 3)
    assert stats.mean_request_ms == pytest.approx(40.0)
    timed, untimed = _request(dep, "d", 2, T0 + 600, 5.0), _request(dep, "e", 2, T0 + 660, None)
    assert len(runs([timed, untimed], any_size=True)) == 2  # a time for some only: two calls


def test_a_refused_request_of_a_spooled_run_is_dropped_alone(dep, store_url):
    """Before: the run's one refused call dropped every request of the run (7 rows here)."""
    dep.log_batch(["b1"], [T0], {name: [0.0] for name in FEATURES}, [1])  # b1 stored before
    records = [_request(dep, "a", 4, T0 + 60, 1.0), _request(dep, "b", 3, T0 + 120, 2.0),
               _request(dep, "c", 2, T0 + 180, 3.0)]
    assert _store_each(runs(records, any_size=True)[0], store_url) == 1  # b's b1 is a duplicate
    stats = dep.get_service_stats(*DAY)
    assert (stats.total_predictions, stats.total_requests) == (1 + 4 + 2, 3)
    table = dep.files.read(0, 2 ** 31 - 1, None)
    assert sorted(table["sample_id"]) == sorted(["b1", *(f"a{i}" for i in range(4)), "c0", "c1"])
    assert np.isfinite(stats.mean_request_ms)
