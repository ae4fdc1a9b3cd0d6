"""Every error scenarist raises on purpose.

    ScenaristError                       root: catch this to catch everything below
    ├── ConfigError (ValueError)         definition time: scenarist.yaml, store/check/step specs
    ├── InputDataError (ValueError)      a dataset, batch or reference the metrics cannot use
    ├── ModelLoadError                   a model artifact that cannot be read or used
    ├── StoreError (RuntimeError)        a store that cannot be reached, migrated or written
    ├── EvaluationError (RuntimeError)   a metric computation that failed at run time
    ├── NotFoundError (LookupError)      a store, evaluation or metric that does not exist
    ├── ConditionError (RuntimeError)    a run condition or expression that failed at run time
    ├── DeliveryError (RuntimeError)     a message that could not be delivered (`temporary`)
    └── BundleError (RuntimeError)       a bundle or release operation refused or failed

Messages name the thing to fix (file, key path, column, row) and say what to do next; the CLI
prints them without a traceback and exits non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass


class ScenaristError(Exception):
    """Root of every error scenarist raises on purpose."""


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a project file: where it is and what is wrong."""

    file: str
    location: str  # dotted key path, e.g. "evaluation_stores.the_MES.model"
    message: str

    def __str__(self) -> str:
        where = ": ".join(part for part in (self.file, self.location) if part)
        return f"{where}: {self.message}" if where else self.message


class ConfigError(ScenaristError, ValueError):
    """A definition-time problem; carries every problem found, not only the first."""

    def __init__(self, problems: list[ConfigProblem] | str):
        if isinstance(problems, str):
            problems = [ConfigProblem(file="", location="", message=problems)]
        self.problems: list[ConfigProblem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class InputDataError(ScenaristError, ValueError):
    """A dataset, batch or reference the metrics cannot use (missing column, wrong type, empty)."""


class ModelLoadError(ScenaristError):
    """A model artifact that cannot be read, or does not behave like an sklearn estimator."""


class StoreError(ScenaristError, RuntimeError):
    """A store that cannot be reached, migrated or written."""


class EvaluationError(ScenaristError, RuntimeError):
    """A metric computation that failed at run time."""


class NotFoundError(ScenaristError, LookupError):
    """A store, evaluation or metric that does not exist; the message lists what does."""


class ConditionError(ScenaristError, RuntimeError):
    """A condition that could not be evaluated at run time (an undefined name, a type error)."""


class DeliveryError(ScenaristError, RuntimeError):
    """A message that could not be delivered; `temporary` says whether a retry may succeed."""

    def __init__(self, message: str, *, temporary: bool):
        super().__init__(message)
        self.temporary = temporary


class BundleError(ScenaristError, RuntimeError):
    """A bundle or release operation that was refused or failed: duplicate version, checksum
    mismatch, unsafe archive member, unreachable store or Prefect API during deploy, nothing to
    roll back to. A failed deploy always leaves the active release as it was."""
