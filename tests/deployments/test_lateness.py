"""Out-of-order arrival: rows earlier than the latest logged one are accepted within
`ingest.allowed_lateness` (their hours' rollups updated), refused beyond it with the ids named."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest
from deployment_helpers import stored

from scenarist.deployments import Deployment
from scenarist.errors import ConfigError, InputDataError

T0 = pd.Timestamp("2024-05-01T10:00Z").timestamp()
DAY = ("2024-05-01T00:00Z", "2024-05-02T00:00Z")


def _log(dep: Deployment, model, reference: pd.DataFrame, ids: list[str], stamps):
    frame = reference.iloc[:len(ids)].reset_index(drop=True)[["x1", "x2"]]
    pred, proba = model.predict(frame)
    return dep.log_batch(ids, stamps, frame, pred, proba)


def test_late_rows_within_the_window_are_accepted_and_counted_in_their_hour(
        store_url, data_dir, small_binary):
    model, reference = small_binary
    dep = Deployment.create(model, "late", reference=reference, url=store_url,
                            data_dir=data_dir)
    assert dep.settings.ingest.allowed_lateness == 3600
    _log(dep, model, reference, ["a0", "a1"], [T0 + 600, T0 + 900])        # 10:10, 10:15
    _log(dep, model, reference, ["late0", "late1"], [T0 - 1500, T0 + 60])  # 09:35, 10:01
    hourly = dep.get_service_stats_over_time("total_predictions", "PT1H", *DAY)
    assert hourly[pd.Timestamp("2024-05-01T09:00Z")] == 1
    assert hourly[pd.Timestamp("2024-05-01T10:00Z")] == 3
    assert dep.get_feature_drift(*DAY) is not None  # the late rows' features are stored
    before = stored(dep)
    with pytest.raises(InputDataError, match=r"allowed_lateness \(3600 s\).*\['too-late'\]"):
        _log(dep, model, reference, ["ok", "too-late"], [T0, T0 + 900 - 3601])
    assert stored(dep) == before, "a refused call stores nothing"
    # another process tightens the window: this object sees it without refresh()
    Deployment.get(dep.id, url=store_url).update_settings("ingest", allowed_lateness=0)
    with pytest.raises(InputDataError, match=r"allowed_lateness \(0 s\).*\['b0'\]"):
        _log(dep, model, reference, ["b0"], [T0 + 899])
    with pytest.raises(ConfigError, match="ingest.allowed_lateness"):
        dep.update_settings("ingest", allowed_lateness=-1)


def test_concurrent_clients_with_their_own_clocks_lose_nothing(store_url, data_dir,
                                                               small_binary):
    model, reference = small_binary
    dep = Deployment.create(model, "clocks", reference=reference, url=store_url,
                            data_dir=data_dir)
    clients, calls = 4, 25
    problems: list[str] = []
    started = time.time()

    def client(number: int) -> None:
        own = Deployment.get(dep.id, url=store_url)  # as a server process of its own
        rng = np.random.default_rng(number)
        skew = rng.uniform(-2.0, 2.0)  # this client's clock is off by up to 2 s
        for call in range(calls):
            now = T0 + (time.time() - started) + skew + rng.uniform(-0.5, 0.5, size=2)
            try:
                _log(own, model, reference, [f"c{number}-{call}-{i}" for i in range(2)], now)
            except Exception as exc:  # noqa: BLE001 - reported by the test
                problems.append(f"client {number}: {exc}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not problems, problems[:3]
    assert dep.get_service_stats(*DAY).total_predictions == clients * calls * 2
