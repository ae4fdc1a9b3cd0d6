"""scenarist: a model-monitoring scenario engine on Prefect.

    import scenarist as sc
    store = sc.EvaluationStore.open("the_MES")
    model = sc.model_from_estimator(estimator, target="authorized_flag", type="binary")
    evaluation = store.evaluate(model, current_df, reference_df, label="2017Q4")
    store.history("data_drift")
"""

from scenarist.checks import CheckResult, CheckSpec, Outcome, StepOutcome, evaluate_check
from scenarist.deployments import (
    MODEL_REPLACEMENT_REASON,
    Deployment,
    DeploymentListFilters,
    MonitoringBatch,
    construct_duration_string,
)
from scenarist.errors import (
    ConfigError,
    ConfigProblem,
    EvaluationError,
    InputDataError,
    ModelLoadError,
    NotFoundError,
    ScenaristError,
    StoreError,
)
from scenarist.metrics.evaluation import EvaluationOptions
from scenarist.metrics.segments import SegmentOptions
from scenarist.operations.backtesting import Backtest, backtest
from scenarist.operations.build import build_evaluation, open_store
from scenarist.operations.checking import run_checks
from scenarist.operations.revisions import revise_evaluations, revise_verdicts
from scenarist.operations.streamed import stream_evaluation
from scenarist.profiles import BatchProfile, ProfileDrift
from scenarist.profiles.streaming import StreamOptions
from scenarist.project.config import Project, load_project, validate_project
from scenarist.project.datasets import read_dataset
from scenarist.project.models import LoadedModel, load_model, model_from_estimator
from scenarist.project.secondary import SecondaryDatasetSpec
from scenarist.stores.evaluation import Evaluation
from scenarist.stores.evaluation_store import EvaluationStore


def run_scenario(*args, **kwargs):  # noqa: ANN002, ANN003 - same signature as flows.scenario
    """Run a scenario through Prefect; see `scenarist.flows.scenario.run_scenario`.

    Imported on first use, so `import scenarist` does not import Prefect."""
    from scenarist.flows.scenario import run_scenario as run

    return run(*args, **kwargs)

def run_streaming_evaluation(*args, **kwargs):  # noqa: ANN002, ANN003 - see flows.column_groups
    """Stream two Parquet sources in column groups as Prefect tasks; see
    `scenarist.flows.column_groups.run_streaming_evaluation` (imported on first use)."""
    from scenarist.flows.column_groups import run_streaming_evaluation as run

    return run(*args, **kwargs)

__version__ = "0.1.0"

__all__ = [
    "Backtest",
    "BatchProfile",
    "CheckResult",
    "CheckSpec",
    "ConfigError",
    "ConfigProblem",
    "Deployment",
    "DeploymentListFilters",
    "Evaluation",
    "EvaluationError",
    "EvaluationOptions",
    "EvaluationStore",
    "InputDataError",
    "LoadedModel",
    "MODEL_REPLACEMENT_REASON",
    "ModelLoadError",
    "MonitoringBatch",
    "NotFoundError",
    "Outcome",
    "ProfileDrift",
    "Project",
    "ScenaristError",
    "SecondaryDatasetSpec",
    "SegmentOptions",
    "StepOutcome",
    "StoreError",
    "StreamOptions",
    "backtest",
    "build_evaluation",
    "construct_duration_string",
    "evaluate_check",
    "load_model",
    "load_project",
    "model_from_estimator",
    "open_store",
    "read_dataset",
    "revise_evaluations",
    "revise_verdicts",
    "run_checks",
    "run_scenario",
    "run_streaming_evaluation",
    "stream_evaluation",
    "validate_project",
]
