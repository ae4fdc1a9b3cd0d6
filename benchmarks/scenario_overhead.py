"""Orchestration overhead of a scenario: 3 steps that do nothing, against a running Prefect API.

    .venv/bin/python benchmarks/scenario_overhead.py [--runs 5]

Starts a Prefect API (prefect_test_harness: a real server in a subprocess) unless PREFECT_API_URL
is set, writes a project whose scenario has three no-op python steps (SQLite store), runs it once
to warm up, then times --runs runs and prints the median. For reference, the same run also times
a bare Prefect async flow with three no-op tasks: what Prefect itself costs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from prefect import flow, task  # noqa: E402
from prefect.testing.utilities import prefect_test_harness  # noqa: E402

from scenarist.flows.scenario import scenario_flow  # noqa: E402

PROJECT = """
project: overhead
connections:
  store: {url: "sqlite:///.scenarist/store.db"}
scenarios:
  Three no-ops:
    steps:
      - {name: One, type: python, function: "noop:run"}
      - {name: Two, type: python, function: "noop:run"}
      - {name: Three, type: python, function: "noop:run"}
"""


@task
async def bare_task() -> None:
    return None


@flow
async def bare_flow() -> None:
    for _ in range(3):
        await bare_task()


def median_seconds(run, runs: int) -> tuple[float, list[float]]:
    run()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="scenarist-overhead-"))
    (folder / "scenarist.yaml").write_text(PROJECT)
    (folder / "noop.py").write_text("def run(context):\n    return None\n")
    server = nullcontext() if os.environ.get("PREFECT_API_URL") else prefect_test_harness()
    with server:
        scenario, scenario_times = median_seconds(
            lambda: asyncio.run(scenario_flow(project=str(folder), scenario="Three no-ops")),
            args.runs,
        )
        bare, bare_times = median_seconds(lambda: asyncio.run(bare_flow()), args.runs)
    print(f"{'what':<44} {'median s':>9}  runs")
    print(f"{'scenarist scenario, 3 no-op steps':<44} {scenario:>9.3f}  "
          + " ".join(f"{t:.3f}" for t in scenario_times))
    print(f"{'bare Prefect async flow, 3 no-op tasks':<44} {bare:>9.3f}  "
          + " ".join(f"{t:.3f}" for t in bare_times))
    print(f"scenarist's own share: {scenario - bare:.3f} s (target: whole scenario < 0.5 s)")


if __name__ == "__main__":
    main()
