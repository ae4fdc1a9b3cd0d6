"""scenarist: a model-monitoring scenario engine on Prefect.

    import scenarist as sc
    store = sc.EvaluationStore.open("the_MES")
    model = sc.model_from_estimator(estimator, target="authorized_flag", type="binary")
    evaluation = store.evaluate(model, current_df, reference_df, label="2017Q4")
    store.history("data_drift")
"""

from scenarist.build import build_evaluation, open_store
from scenarist.config import Project, load_project, validate_project
from scenarist.datasets import read_dataset
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
from scenarist.models import LoadedModel, load_model, model_from_estimator
from scenarist.stores.evaluation import Evaluation
from scenarist.stores.evaluation_store import EvaluationStore

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "Evaluation",
    "EvaluationError",
    "EvaluationOptions",
    "EvaluationStore",
    "InputDataError",
    "LoadedModel",
    "ModelLoadError",
    "NotFoundError",
    "Project",
    "ScenaristError",
    "StoreError",
    "build_evaluation",
    "load_model",
    "load_project",
    "model_from_estimator",
    "open_store",
    "read_dataset",
    "validate_project",
]
