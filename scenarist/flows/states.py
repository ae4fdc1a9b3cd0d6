"""The Prefect state a scenario's flow run ends in: the scenario outcome, told to Prefect.

    SUCCESS  → Completed
    WARNING  → Completed named "Warning" (its own name in the Prefect UI, filterable)
    FAILED   → Failed, its message naming the failed step(s) and their messages
    ABORTED  → Cancelled, its message naming the aborted step(s)

So Prefect's UI, its automations ("flow run failed") and its notifications see what the
scenario saw. ABORTED is Cancelled, not Failed: a scenario is aborted when its run (or a
nested run) was cancelled, which is what Prefect's Cancelled state means.

The run's result (the dict `scenario_flow` returns) is kept on every state. Prefect raises
when a caller asks a Failed or Cancelled state for its result: what it raises is a
`ScenarioEnded` carrying the result, and `flow_result` turns that back into the result, so a
caller reads every run's outcome the same way:

    result = await flow_result(scenario_flow(project=..., scenario=...))
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from prefect.states import Cancelled, Completed, Failed, State

from scenarist.checks.outcome import StepOutcome
from scenarist.stores.runs import StepRecord

WARNING_STATE = "Warning"
MAX_STEP_MESSAGE = 300


class ScenarioEnded(Exception):  # noqa: N818 - not an error: how Prefect hands back the result
    """What Prefect raises for the result of a FAILED or ABORTED scenario's flow run; `result`
    is the run's result, as a SUCCESS run returns it."""

    def __init__(self, message: str, result: dict[str, Any]):
        super().__init__(message)
        self.result = result

    def __reduce__(self):  # pickled across processes with its result
        return type(self), (str(self), self.result)


def final_state(outcome: StepOutcome, steps: Sequence[StepRecord],
                result: dict[str, Any]) -> State | dict[str, Any]:
    """What the flow returns for `outcome`: the result itself (Completed) or a named state."""
    if outcome is StepOutcome.SUCCESS:
        return result
    message = outcome_message(outcome, steps)
    if outcome is StepOutcome.WARNING:
        return Completed(name=WARNING_STATE, message=message, data=result)
    ended = ScenarioEnded(message, result)
    if outcome is StepOutcome.ABORTED:
        return Cancelled(message=message, data=ended)
    return Failed(message=message, data=ended)


def outcome_message(outcome: StepOutcome, steps: Sequence[StepRecord]) -> str:
    """`step 'Build MES' FAILED: KeyError: …` for every step that took the scenario's outcome."""
    parts = []
    for step in steps:
        if step.outcome == str(outcome):
            text = (step.message or "").replace("\n", " ")
            if len(text) > MAX_STEP_MESSAGE:
                text = text[:MAX_STEP_MESSAGE - 1] + "…"
            parts.append(f"step {step.name!r} {outcome}" + (f": {text}" if text else ""))
    return "; ".join(parts) or f"scenario {outcome}"


async def flow_result(run: Awaitable[Any]) -> dict[str, Any]:
    """The result of a scenario flow run (`run`: the awaitable of calling the flow), whatever
    state it ended in; exceptions other than `ScenarioEnded` (the flow crashed) propagate."""
    try:
        return await run
    except ScenarioEnded as ended:
        return ended.result
