"""A streaming evaluation as a Prefect flow: one task per column group, on the task runner chosen.

    computed, current, reference = run_streaming_evaluation(
        "data/reference.parquet", "s3://bucket/batches/2026-11-23/",
        options=StreamOptions(memory_limit=2 * 1024**3),
        task_runner="dask", dask_address="tcp://scheduler:8786",
    )

`task_runner="default"` runs the groups in this process, two at a time so that the next group
is read while the last columns of one are computed (`profiles/streaming.py`, "Pipeline"): the
groups share one buffer budget and one pool of `n_jobs` compute threads, so memory stays within
`memory_limit` however many groups are in flight. `"dask"` submits every
group to prefect-dask's DaskTaskRunner: to the cluster at `dask_address`, or to a temporary
local cluster when it is None. Workers only read the sources and compute; the results (numbers
and profiles, a few kB per column) come back to this process, which records them. So workers on
other machines need the sources' URL to be readable there (object storage, a shared file
system) and nothing else: not the store.

`on_group(done, total, columns)` is called here as each group finishes (progress).
`computed.details["streaming"]["seconds"]` gets the evaluation's wall time ("evaluation"), the
time no group task was running ("prefect_overhead": flow and task start-up, result handling)
and each compute thread's idle time ("idle[<thread>]"), next to the steps' times.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Literal

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from scenarist.errors import ConfigError, EvaluationError, ScenaristError
from scenarist.metrics.evaluation import ComputedEvaluation
from scenarist.profiles.profile import BatchProfile
from scenarist.profiles.streaming import (
    GroupResult,
    StreamOptions,
    StreamPlan,
    combine,
    evaluate_group,
    plan_stream,
    release_buffers,
)

TaskRunnerName = Literal["default", "dask"]
GroupCallback = Callable[[int, int, Sequence[str]], None]
_on_group: ContextVar[GroupCallback | None] = ContextVar("scenarist_on_group", default=None)


def _column_group(plan: StreamPlan, columns: tuple[str, ...]) -> GroupResult:
    """Drift, quality and profiles of one column group."""
    return evaluate_group(plan, columns)


def _streaming_evaluation(plan: StreamPlan) -> list[GroupResult]:
    """Every column group of `plan` as a task; results in the plan's group order."""
    futures = {column_group.submit(plan, group): i for i, group in enumerate(plan.groups)}
    results: list[GroupResult | None] = [None] * len(futures)
    report = _on_group.get()
    for done, future in enumerate(as_completed(list(futures)), start=1):
        index = futures[future]
        results[index] = future.result()
        if report is not None:
            report(done, len(futures), plan.groups[index])
    return [r for r in results if r is not None]


# Both wrap functions kept under their own module names, so that Dask (which sends the flow run
# context along with each task) pickles them by reference.
column_group = task(_column_group, name="scenarist-column-group", cache_policy=NO_CACHE,
                    persist_result=False)
streaming_evaluation_flow = flow(_streaming_evaluation, name="scenarist-streaming-evaluation",
                                 persist_result=False, validate_parameters=False)


def run_streaming_evaluation(
    reference: str | Path,
    current: str | Path,
    *,
    columns: Sequence[str] | None = None,
    options: StreamOptions | None = None,
    task_runner: TaskRunnerName = "default",
    dask_address: str | None = None,
    on_group: GroupCallback | None = None,
) -> tuple[ComputedEvaluation, BatchProfile, BatchProfile]:
    """Plan, run every column group as a Prefect task, and combine: (evaluation, current
    profile, reference profile). Nothing is written; record them with `EvaluationStore.record`.
    """
    plan = plan_stream(reference, current, columns=columns, options=options or StreamOptions())
    runner = _task_runner(task_runner, dask_address)
    token = _on_group.set(on_group)
    began = time.time()
    try:
        results = streaming_evaluation_flow.with_options(task_runner=runner)(plan)
    except ScenaristError:
        raise
    except OSError as exc:  # a Dask scheduler that cannot be reached
        raise EvaluationError(f"the streaming evaluation could not run on the {task_runner} "
                              f"task runner: {exc}") from exc
    finally:
        _on_group.reset(token)
        release_buffers()
    wall = time.time() - began
    computed, current, reference = combine(plan, results)
    _add_overhead(computed.details["streaming"], wall, [r.span for r in results])
    return computed, current, reference


def _add_overhead(streaming: dict, wall: float, spans: Sequence[tuple[float, float]]) -> None:
    """Prefect's share (the time no group task ran) and each compute thread's idle time."""
    covered, reach = 0.0, float("-inf")
    for start, end in sorted(spans):  # the union of the tasks' intervals
        covered += max(0.0, end - max(start, reach))
        reach = max(reach, end)
    seconds = streaming["seconds"]
    seconds["evaluation"] = round(wall, 3)
    seconds["prefect_overhead"] = round(max(0.0, wall - covered), 3)
    for key in [k for k in seconds if k.startswith("busy[")]:
        seconds["idle" + key[4:]] = round(max(0.0, wall - seconds[key]), 3)


def _task_runner(name: str, dask_address: str | None):
    if name == "default":
        if dask_address:
            raise ConfigError("dask_address is set but task_runner is 'default'; set "
                              "task_runner: dask to use the Dask cluster")
        return ThreadPoolTaskRunner(max_workers=2)
    if name == "dask":
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=dask_address) if dask_address else DaskTaskRunner()
    raise ConfigError(f"unknown task_runner {name!r}; choose 'default' or 'dask'")
