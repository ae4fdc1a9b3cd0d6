"""A scenario run: one Prefect flow run named after the scenario, one task run per step.

    result = run_scenario("path/to/project", "Data drift monitor", {"quarter": "2017Q4"})
    result.outcome  # StepOutcome.WARNING

The flow (`scenario_flow`, the entry point of the Prefect deployments in prefect.yaml) loads the
project, then runs the steps in order. Each step runs when its run condition holds (skipped
steps have no outcome); a step that raises is retried as configured and then takes its
`outcome_on_failure` (FAILED by default) with the error kept as its message. The scenario
outcome is the worst step outcome. The run, its steps and its whole log are recorded in the
project's store, and two Prefect artifacts are published on the flow run: a markdown summary
of the steps and a table of check results. The flow run ends in the state of the outcome
(`states.py`: WARNING is a Completed state named "Warning", FAILED a Failed one, ABORTED a
Cancelled one), with the run's result kept on it.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import anyio
from prefect import flow, get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run as current_flow_run

from scenarist import events
from scenarist.checks.outcome import StepOutcome
from scenarist.errors import ConditionError
from scenarist.flows.conditions import should_run
from scenarist.flows.context import RunContext, run_url
from scenarist.flows.logs import RunLogCapture, console_without_tracebacks
from scenarist.flows.specs import RunScenarioStep
from scenarist.flows.states import final_state, flow_result
from scenarist.flows.steps import STEP_FUNCTIONS, StepResult
from scenarist.project.config import render, scenario_spec
from scenarist.reporters.queue import queue_reports
from scenarist.stores.database import project_engine
from scenarist.stores.runs import StepRecord, record_scenario_end, record_scenario_start
from scenarist.validation import load_project

MAX_NESTING = 10


@dataclass(frozen=True)
class ScenarioRunResult:
    """How a scenario run ended, as `run_scenario` returns it."""

    run_id: str
    scenario: str
    outcome: StepOutcome
    steps: list[StepRecord]
    checks: list[dict[str, Any]]
    url: str | None
    log: str


@flow(
    name="scenarist-scenario",
    flow_run_name="{scenario}",
    persist_result=False,
    validate_parameters=True,
)
async def scenario_flow(
    project: str,
    scenario: str,
    variables: dict[str, Any] | None = None,
    trigger: str | None = None,
    parent_run_id: str | None = None,
    depth: int = 0,
) -> Any:
    """Run scenario `scenario` of the project at `project` (folder or scenarist.yaml).

    `variables` override the project's and the scenario's variables for this run. Returns the
    run's result (a dict) in the Prefect state of its outcome; read it with `flow_result`.
    """
    loaded = load_project(project)
    spec = scenario_spec(loaded, scenario)
    run_id = str(current_flow_run.id or uuid.uuid4())
    log = get_run_logger()
    ctx = RunContext(
        project=loaded,
        scenario=scenario,
        run_id=run_id,
        run_url=run_url(run_id),
        trigger=trigger,
        user_variables={**loaded.variables, **spec.variables, **(variables or {})},
        step_outcomes={step.name: None for step in spec.steps},
    )
    engine = project_engine(loaded)
    started = datetime.now(timezone.utc)
    record_scenario_start(
        engine,
        run_id=run_id,
        project=loaded.project,
        scenario=scenario,
        trigger=trigger,
        parent_run_id=parent_run_id,
        url=ctx.run_url,
        variables=_jsonable(ctx.user_variables),
        started_at=started,
    )
    records: list[StepRecord] = []
    with RunLogCapture(run_id) as capture:
        log.info("scenario %r started (run %s)", scenario, run_id)
        try:
            for position, step in enumerate(spec.steps):
                records.append(await _run_one(position, step, ctx, project, depth, log))
                events.emit_step_finished(project=loaded.project, scenario=scenario,
                                          run_id=run_id, step=records[-1])
            await _write_evaluation_report(ctx, log)
        except asyncio.CancelledError:
            ctx.step_outcomes[spec.steps[len(records)].name] = StepOutcome.ABORTED
            raise
        finally:
            log.info("scenario %r finished: %s", scenario, ctx.outcome)
            record_scenario_end(
                engine,
                run_id=run_id,
                outcome=str(ctx.outcome),
                ended_at=datetime.now(timezone.utc),
                message=None,
                log=capture.text(),
                steps=records,
            )
            events.emit_scenario_finished(
                project=loaded.project, scenario=scenario, run_id=run_id,
                outcome=str(ctx.outcome), trigger=trigger, url=ctx.run_url,
                duration_seconds=(datetime.now(timezone.utc) - started).total_seconds())
    await queue_reports(ctx, spec.reporters, capture.text(), engine, logger=log)
    await _publish_artifacts(scenario, ctx, records)
    return final_state(ctx.outcome, records, {
        "run_id": run_id,
        "scenario": scenario,
        "outcome": str(ctx.outcome),
        "url": ctx.run_url,
        "checks": _jsonable(ctx.checks),
        "log": capture.text(),
        "steps": [r.__dict__ for r in records],
    })


def run_scenario(
    project: str | Path,
    scenario: str,
    variables: dict[str, Any] | None = None,
    *,
    trigger: str | None = None,
) -> ScenarioRunResult:
    """Validate the project, then run one scenario through Prefect and wait for its outcome."""
    scenario_spec(load_project(project), scenario)  # bad input: nothing runs
    with console_without_tracebacks():  # they are in the run's log
        result = asyncio.run(flow_result(
            scenario_flow(
                project=str(Path(project).resolve()),
                scenario=scenario,
                variables=variables or {},
                trigger=trigger,
            )
        ))
    return ScenarioRunResult(
        run_id=result["run_id"],
        scenario=scenario,
        outcome=StepOutcome(result["outcome"]),
        steps=[StepRecord(**s) for s in result["steps"]],
        checks=result["checks"],
        url=result["url"],
        log=result["log"],
    )


async def _run_one(position, step, ctx: RunContext, project: str, depth: int, log) -> StepRecord:
    """Run (or skip) one step; record its outcome in `ctx` and return its record."""
    try:
        runs = should_run(step.run_condition, step.when, _so_far(ctx), ctx.variables())
    except ConditionError as exc:
        log.error("step %r: its condition failed: %s", step.name, exc)
        ctx.step_outcomes[step.name] = StepOutcome.FAILED
        return StepRecord(position, step.name, step.type, str(StepOutcome.FAILED), 0, None, None,
                          f"condition failed: {exc}")
    if not runs:
        reason = f"when: {step.when}" if step.when else f"run_condition: {step.run_condition}"
        log.info("step %r skipped (%s)", step.name, reason)
        return StepRecord(position, step.name, step.type, None, 0, None, None,
                          f"skipped ({reason})")
    started = datetime.now(timezone.utc)
    attempts = [0]
    try:
        if isinstance(step, RunScenarioStep):
            result = await _run_child(step, ctx, project, depth, attempts)
        else:
            result = await _run_task(step, ctx, attempts)
    except Exception as exc:  # noqa: BLE001 - a failing step is an outcome, not a crash
        outcome = StepOutcome(step.outcome_on_failure)
        message = f"{type(exc).__name__}: {exc}"
        log.error("step %r failed after %d attempt(s): %s → %s",
                  step.name, attempts[0], message, outcome)
        result = StepResult(outcome, message)
    ctx.step_outcomes[step.name] = result.outcome
    log.info("step %r: %s %s", step.name, result.outcome, result.message)
    return StepRecord(position, step.name, step.type, str(result.outcome), attempts[0], started,
                      datetime.now(timezone.utc), result.message)


async def _run_task(step, ctx: RunContext, attempts: list[int]) -> StepResult:
    function = STEP_FUNCTIONS[step.type]

    async def attempt() -> StepResult:
        attempts[0] += 1
        logger = get_run_logger()
        # abandon_on_cancel: a timed-out attempt fails at once; Python cannot kill the thread,
        # which finishes in the background and whose result is ignored
        return await anyio.to_thread.run_sync(function, step, ctx, logger,
                                              abandon_on_cancel=True)

    step_task = task(
        attempt,
        name=step.name,
        task_run_name=step.name,
        retries=step.retries,
        retry_delay_seconds=step.retry_delay_seconds,
        timeout_seconds=step.timeout_seconds,
        cache_policy=NO_CACHE,
        persist_result=False,
    )
    return await step_task()


async def _run_child(
    step: RunScenarioStep, ctx: RunContext, project: str, depth: int, attempts: list[int]
) -> StepResult:
    if depth + 1 > MAX_NESTING:
        raise RuntimeError(f"scenarios nest deeper than {MAX_NESTING} levels")
    variables = ctx.variables()
    child_variables = {
        name: render(value, variables) if isinstance(value, str) and "{" in value else value
        for name, value in step.variables.items()
    }
    # retried here, not by Prefect: Prefect retries a flow run that ends Failed, and a FAILED
    # child is an outcome (as for any step); only a run that raises (crash, timeout) is retried
    child = scenario_flow.with_options(timeout_seconds=step.timeout_seconds)
    for attempt in range(step.retries + 1):
        attempts[0] += 1
        try:
            result = await flow_result(child(
                project=project,
                scenario=step.scenario,
                variables=child_variables,
                trigger=f"scenario {ctx.scenario!r}",
                parent_run_id=ctx.run_id,
                depth=depth + 1,
            ))
            break
        except Exception:
            if attempt == step.retries:
                raise
            await asyncio.sleep(step.retry_delay_seconds)
    ctx.checks.extend(result["checks"])
    return StepResult(
        StepOutcome(result["outcome"]), f"scenario {step.scenario!r} → {result['outcome']}"
    )


async def _write_evaluation_report(ctx: RunContext, log) -> None:
    """The HTML report of the evaluation this run built (for reporters' `evaluation_report`);
    a report that cannot be written is logged, never a failed run."""
    if ctx.evaluation is None:
        return
    from scenarist.reports.html import write_report

    try:
        ctx.evaluation_report_path = await anyio.to_thread.run_sync(
            lambda: write_report(ctx.project, ctx.evaluation["store"],
                                 label=ctx.evaluation["label"])
        )
    except Exception as exc:  # noqa: BLE001 - a report is an extra, not the run's outcome
        log.warning("could not write the HTML evaluation report: %s", exc)
        return
    log.info("HTML evaluation report: %s", ctx.evaluation_report_path)


def _so_far(ctx: RunContext) -> StepOutcome | None:
    ran = [o for o in ctx.step_outcomes.values() if o is not None]
    return StepOutcome.worst(ran) if ran else None


async def _publish_artifacts(scenario: str, ctx: RunContext, records: list[StepRecord]) -> None:
    slug = re.sub(r"[^a-z0-9]+", "-", scenario.lower()).strip("-") or "scenario"
    lines = [
        f"# Scenario {scenario}: {ctx.outcome}",
        "",
        "| # | step | type | outcome | attempts | message |",
        "|---|---|---|---|---|---|",
    ]
    for r in records:
        message = (r.message or "").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {r.position + 1} | {r.name} | {r.type} | {r.outcome or 'skipped'} | "
                     f"{r.attempts} | {message} |")
    await acreate_markdown_artifact(
        markdown="\n".join(lines), key=f"{slug}-steps", description="Step outcomes"
    )
    if ctx.checks:
        table = [
            {k: (v if isinstance(v, (int, float, str, type(None))) else str(v))
             for k, v in check.items()}
            for check in ctx.checks
        ]
        await acreate_table_artifact(
            table=table, key=f"{slug}-checks", description="Check results"
        )


def _jsonable(value: Any) -> Any:
    """Variables and check results as JSON values (datetimes as ISO text)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    return str(value)
