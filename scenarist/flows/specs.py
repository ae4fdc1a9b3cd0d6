"""Scenario steps as pydantic models, discriminated on `type` (the `steps:` of a scenario).

    - {name: Build MES, type: build_evaluation, store: the_MES}
    - {name: MES_Warn,  type: run_checks, checks: ["data drift < 0.45"]}
    - {name: Notify,    type: python, function: "monitoring:notify", run_condition: always}
    - {name: Decide,    type: set_variables, expressions: {bad: "outcome != 'SUCCESS'"}}
    - {name: Q2,        type: run_scenario, scenario: Monitor, variables: {quarter: 2017Q2}}

Every step shares the options of `StepOptions`: when it runs (`run_condition`, or a `when:`
expression instead), `retries` with `retry_delay_seconds`, `timeout_seconds`, and
`outcome_on_failure` (the outcome a failure counts as, e.g. WARNING for a best-effort step).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

RunCondition = Literal["no_prior_failure", "always", "prior_failure", "prior_warning"]


class StepOptions(BaseModel):
    """What every step type accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="Step name, unique in its scenario.")
    run_condition: RunCondition = Field(
        "no_prior_failure",
        description="When the step runs, from the outcome so far: no_prior_failure (default), "
        "always, prior_failure, prior_warning.",
    )
    when: str | None = Field(
        None,
        description="Instead of run_condition: a Jinja expression over the run's variables, "
        "e.g. \"stepOutcome_MES_Warn == 'WARNING'\"; the step runs when it is true.",
    )
    retries: int = Field(0, ge=0, le=20, description="Extra attempts after a failure.")
    retry_delay_seconds: float = Field(0, ge=0, description="Wait between attempts.")
    timeout_seconds: float | None = Field(
        None, gt=0, description="An attempt running longer than this fails."
    )
    outcome_on_failure: Literal["FAILED", "WARNING", "SUCCESS"] = Field(
        "FAILED", description="The outcome the step takes when it fails after its retries."
    )

    @model_validator(mode="after")
    def _one_condition(self) -> StepOptions:
        if self.when is not None and "run_condition" in self.model_fields_set:
            raise ValueError("use either `run_condition` or `when`, not both")
        return self


class BuildEvaluationStep(StepOptions):
    """Evaluate an evaluation store's input batch and append it to the store."""

    type: Literal["build_evaluation"] = Field(description="Step type.")
    store: str = Field(description="Evaluation store to build.")
    variables: dict[str, Any] = Field(
        default_factory=dict, description="Variables for this build (override the run's)."
    )


class RunChecksStep(StepOptions):
    """Run checks: ERROR → FAILED, else WARNING → WARNING, else SUCCESS."""

    type: Literal["run_checks"] = Field(description="Step type.")
    checks: list[str] | None = Field(None, description="Checks to run, by name.")
    store: str | None = Field(None, description="Run every check of this store.")

    @model_validator(mode="after")
    def _something_to_run(self) -> RunChecksStep:
        if not self.checks and not self.store:
            raise ValueError("a run_checks step needs `checks` (names) or `store`")
        return self


class PythonStep(StepOptions):
    """Call `module:function(context, **params)`; its return value may set variables."""

    type: Literal["python"] = Field(description="Step type.")
    function: str = Field(description='"module:function", importable from the project folder.')
    params: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments.")


class SetVariablesStep(StepOptions):
    """Set variables for the steps and reporters that follow."""

    type: Literal["set_variables"] = Field(description="Step type.")
    values: dict[str, Any] = Field(default_factory=dict, description="Literal values.")
    expressions: dict[str, str] = Field(
        default_factory=dict, description="Jinja expressions over the run's variables."
    )


class RunScenarioStep(StepOptions):
    """Run another scenario of the project; its outcome becomes this step's."""

    type: Literal["run_scenario"] = Field(description="Step type.")
    scenario: str = Field(description="Name of the scenario to run.")
    variables: dict[str, Any] = Field(
        default_factory=dict, description="Variables passed to that scenario's run."
    )


class EvaluateDeploymentStep(StepOptions):
    """Evaluate a deployment's logged predictions (a time window or a monitoring batch) into
    an evaluation store, so checks and reporters work on deployments too."""

    type: Literal["evaluate_deployment"] = Field(description="Step type.")
    store: str = Field(description="Evaluation store (with `deployment:`) written to.")
    start: str | None = Field(None, description="Window start (ISO time or a template).")
    end: str | None = Field(None, description="Window end (default: next top of the hour).")
    batch: str | None = Field(None, description="Monitoring batch name or id, instead of a window.")
    label: str | None = Field(None, description="Evaluation label (default: batch or window).")


class ReviseEvaluationsStep(StepOptions):
    """Revise the evaluations of a deployment-fed store whose labels arrived since they were
    computed: new revision, checks again, "verdict revised" messages
    (scenarist.operations.revisions)."""

    type: Literal["revise_evaluations"] = Field(description="Step type.")
    store: str = Field(description="Evaluation store (with `deployment:`) to revise.")
    labels: list[str] | None = Field(
        None, description="Only these evaluations (default: every stale one)."
    )
    force: bool = Field(
        False, description="Revise even evaluations whose labelled count did not change "
        "(label corrections)."
    )


class CreateBundleAndDeployStep(StepOptions):
    """Create a bundle of the project, publish it and deploy it to a workspace (update)."""

    type: Literal["create_bundle_and_deploy"] = Field(description="Step type.")
    version: str = Field(
        description='Bundle version, a template such as "auto-{{ scenarioRunId[:8] }}"; '
        "versions are unique per project."
    )
    notes: str = Field("", description='Release notes; may use "{{ var }}".')
    workspace: str = Field(description="Workspace deployed to (workspaces/<name>.yaml).")
    include_data: list[str] = Field(
        default_factory=list, description="Datasets whose files go into the bundle."
    )
    registry: str | None = Field(
        None, description="Bundle registry URL (default: the workspace's, else .scenarist/)."
    )


StepSpec = Annotated[
    BuildEvaluationStep
    | RunChecksStep
    | PythonStep
    | SetVariablesStep
    | RunScenarioStep
    | EvaluateDeploymentStep
    | ReviseEvaluationsStep
    | CreateBundleAndDeployStep,
    Field(discriminator="type"),
]
STEP_TYPES = ("build_evaluation", "run_checks", "python", "set_variables", "run_scenario",
              "evaluate_deployment", "revise_evaluations", "create_bundle_and_deploy")
