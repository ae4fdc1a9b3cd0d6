"""Column groups as Prefect tasks: in-process and on a real local 2-worker Dask cluster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scenarist.errors import ConfigError
from scenarist.flows.column_groups import run_streaming_evaluation
from scenarist.profiles.streaming import SCRATCH_BYTES_PER_VALUE, StreamOptions


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask")
    rng = np.random.default_rng(3)
    columns = {f"x{i}": rng.normal(size=4_000) for i in range(12)}
    pd.DataFrame(columns).to_parquet(folder / "reference.parquet")
    shifted = {f"x{i}": rng.normal(0.05 * i, 1, 3_000) for i in range(12)}
    pd.DataFrame(shifted).to_parquet(folder / "current.parquet")
    return folder / "reference.parquet", folder / "current.parquet"


def _numbers(computed):
    return {(v.metric, v.feature): v.value for v in computed.values}


def test_dask_cluster_gives_the_same_numbers_as_in_process(prefect_api, sources):
    from distributed import LocalCluster

    # scratch of 2 computing columns + buffers for 3 float64 columns: 4 groups of 3 columns
    options = StreamOptions(memory_limit=SCRATCH_BYTES_PER_VALUE * 7_000 * 2 + 3 * 8 * 7_000,
                            row_chunk=1_000)
    seen = []
    local, local_current, local_reference = run_streaming_evaluation(
        *sources, options=options, on_group=lambda done, total, cols: seen.append((done, total)))
    assert local.details["streaming"]["column_groups"] == 4
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        on_dask, dask_current, dask_reference = run_streaming_evaluation(
            *sources, options=options, task_runner="dask",
            dask_address=cluster.scheduler_address)
        assert len(cluster.workers) == 2
    assert _numbers(on_dask) == _numbers(local)
    assert dask_current.edges_digest == local_current.edges_digest
    np.testing.assert_array_equal(dask_current.counts, local_current.counts)
    # KLL compaction flips random coins: sketches agree within their rank error, not bitwise
    for column in local_reference.numeric:
        for got, want in zip(dask_reference.quantiles(column, [0.1, 0.5, 0.9]),
                             local_reference.quantiles(column, [0.1, 0.5, 0.9]), strict=True):
            assert got == pytest.approx(want, abs=0.1)


def test_task_runner_settings_are_checked(sources):
    with pytest.raises(ConfigError, match="set task_runner: dask"):
        run_streaming_evaluation(*sources, dask_address="tcp://127.0.0.1:1")
    with pytest.raises(ConfigError, match="unknown task_runner 'spark'"):
        run_streaming_evaluation(*sources, task_runner="spark")  # type: ignore[arg-type]
