"""scenarist: a model-monitoring scenario engine on Prefect.

    import scenarist as sc
    store = sc.EvaluationStore.open("the_MES")
    model = sc.model_from_estimator(estimator, target="authorized_flag", type="binary")
    evaluation = store.evaluate(model, current_df, reference_df, label="2017Q4")
    store.history("data_drift")

Every public name is imported on first use (PEP 562), so `import scenarist` — and with it the
`scenarist` command's `--help` — does not load pandas, scipy, scikit-learn or Prefect.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name → the module that defines it
_LAZY: dict[str, str] = {
    "Backtest": "scenarist.operations.backtesting",
    "BatchProfile": "scenarist.profiles",
    "CheckResult": "scenarist.checks",
    "CheckSpec": "scenarist.checks",
    "ConfigError": "scenarist.errors",
    "ConfigProblem": "scenarist.errors",
    "Deployment": "scenarist.deployments",
    "DeploymentListFilters": "scenarist.deployments",
    "Evaluation": "scenarist.stores.evaluation",
    "EvaluationError": "scenarist.errors",
    "EvaluationOptions": "scenarist.metrics.evaluation",
    "EvaluationStore": "scenarist.stores.evaluation_store",
    "InputDataError": "scenarist.errors",
    "LoadedModel": "scenarist.project.models",
    "MODEL_REPLACEMENT_REASON": "scenarist.deployments",
    "ModelLoadError": "scenarist.errors",
    "MonitoringBatch": "scenarist.deployments",
    "NotFoundError": "scenarist.errors",
    "Outcome": "scenarist.checks",
    "ProfileDrift": "scenarist.profiles",
    "Project": "scenarist.project.config",
    "ScenaristError": "scenarist.errors",
    "SecondaryDatasetSpec": "scenarist.project.secondary",
    "SegmentOptions": "scenarist.metrics.segments",
    "StepOutcome": "scenarist.checks",
    "StoreError": "scenarist.errors",
    "StreamOptions": "scenarist.profiles.streaming",
    "backtest": "scenarist.operations.backtesting",
    "build_evaluation": "scenarist.operations.build",
    "construct_duration_string": "scenarist.deployments",
    "evaluate_check": "scenarist.checks",
    "load_model": "scenarist.project.models",
    "load_project": "scenarist.validation",
    "model_from_estimator": "scenarist.project.models",
    "open_store": "scenarist.operations.stores",
    "read_dataset": "scenarist.project.datasets",
    "revise_evaluations": "scenarist.operations.revisions",
    "revise_verdicts": "scenarist.operations.revisions",
    "run_checks": "scenarist.operations.checking",
    "run_scenario": "scenarist.flows.scenario",
    "run_streaming_evaluation": "scenarist.flows.column_groups",
    "shadow_report": "scenarist.operations.shadow",
    "stream_evaluation": "scenarist.operations.streamed",
    "validate_project": "scenarist.validation",
}

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
    "shadow_report",
    "stream_evaluation",
    "validate_project",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name in this module."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'scenarist' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
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
    from scenarist.flows.column_groups import run_streaming_evaluation
    from scenarist.flows.scenario import run_scenario
    from scenarist.metrics.evaluation import EvaluationOptions
    from scenarist.metrics.segments import SegmentOptions
    from scenarist.operations.backtesting import Backtest, backtest
    from scenarist.operations.build import build_evaluation
    from scenarist.operations.checking import run_checks
    from scenarist.operations.revisions import revise_evaluations, revise_verdicts
    from scenarist.operations.shadow import shadow_report
    from scenarist.operations.stores import open_store
    from scenarist.operations.streamed import stream_evaluation
    from scenarist.profiles import BatchProfile, ProfileDrift
    from scenarist.profiles.streaming import StreamOptions
    from scenarist.project.config import Project
    from scenarist.project.datasets import read_dataset
    from scenarist.project.models import LoadedModel, load_model, model_from_estimator
    from scenarist.project.secondary import SecondaryDatasetSpec
    from scenarist.stores.evaluation import Evaluation
    from scenarist.stores.evaluation_store import EvaluationStore
    from scenarist.validation import load_project, validate_project
