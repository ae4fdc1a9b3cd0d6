"""The agent for models served elsewhere, against a real `scenarist serve` that starts late."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from scenarist.agent import MonitoringAgent
from scenarist.deployments import Deployment
from scenarist.project.models import model_from_estimator
from scenarist.server import create_key


def test_importing_the_agent_loads_no_pandas_numpy_or_prefect():
    code = ("import sys, scenarist.agent; "
            "print(sorted(m for m in ('pandas', 'numpy', 'prefect', 'fastapi', 'sqlalchemy') "
            "if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "y": (x1 - x2 > 0).astype(int)})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_agent_spools_while_the_server_is_down_and_delivers_every_row_once_in_order(
        tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    train = _frame(400, 1)
    estimator = LogisticRegression().fit(train[["x1", "x2"]], train["y"])
    model = model_from_estimator(estimator, target="y", type="binary", name="elsewhere")
    deployment = Deployment.create(model, "served elsewhere", reference=train, url=url,
                                   data_dir=tmp_path / "data")
    _, secret = create_key("agent", ["ingest"], [deployment.id], url=url)
    port = _free_port()
    agent = MonitoringAgent(f"http://127.0.0.1:{port}", secret, tmp_path / "agent-spool",
                            max_wait=1.0)
    sent: list[str] = []
    started = time.monotonic()
    call = 0
    while time.monotonic() - started < 12:  # the server is down: ~12 s of reports
        features = _frame(25, 100 + call)[["x1", "x2"]]
        probabilities = estimator.predict_proba(features)
        ids = [f"r-{call:04d}-{i:02d}" for i in range(len(features))]
        agent.report_predictions_data(deployment.id, features, probabilities, ids,
                                      class_names=[0, 1])
        agent.report_deployment_stats(deployment.id, 3, 12.5)
        sent += ids
        call += 1
        time.sleep(0.2)
    assert agent.pending() > 0 and agent.stats["sent"] == 0
    assert any((tmp_path / "agent-spool").iterdir())  # on disk while the server is away
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "scenarist"), "serve", "--url", url, "--port",
         str(port), "--spool-dir", str(tmp_path / "server-spool")], stdout=log,
        stderr=subprocess.STDOUT)
    try:
        assert agent.shutdown(timeout=120), agent.stats
        assert agent.stats["rejected"] == 0, agent.stats
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).raise_for_status()
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    exported = pd.read_parquet(deployment.export(tmp_path / "rows.parquet",
                                                 start="2020-01-01T00:00Z",
                                                 end="2100-01-01T00:00Z"))
    assert len(exported) == len(sent) == exported["sample_id"].nunique()  # each row once
    in_order = exported.sort_values(["timestamp", "sample_id"])["sample_id"].tolist()
    assert in_order == sent
    stats = Deployment.get(deployment.id, url=url).get_service_stats(
        start="2020-01-01T00:00Z", end="2100-01-01T00:00Z")
    assert stats.total_predictions == len(sent) + 3 * call
