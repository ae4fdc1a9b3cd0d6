"""The python check: a function of the project decides the outcome.

    checks:
      no new categories: {type: python, store: the_MES, function: "mychecks:no_new", params: {}}

    # mychecks.py, in the project folder
    def no_new(evaluation, previous, params):
        return "OK"                                   # or Outcome.WARNING, or ("ERROR", "why")

The function receives the latest evaluation, the previous one (None when there is none) and the
spec's `params`. It returns an Outcome, an outcome string (case-insensitive) or an
(outcome, message) tuple. A function that raises, or returns anything else, gives ERROR with the
reason in the message: a broken check never crashes a run. Modules import from the project
folder (`project_on_path`, then `scenarist.project.imports`); `scenarist validate` reports a
function that does not import (`import_problem`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from scenarist.checks.base import EvaluationLike, factory, metric_value
from scenarist.checks.outcome import Outcome
from scenarist.checks.result import CheckResult, fmt_number, metric_key
from scenarist.checks.specs import PythonCheckSpec
from scenarist.errors import ConfigError
from scenarist.project.imports import import_function

_PROJECT_ROOT: ContextVar[Path | None] = ContextVar("project_root", default=None)


class CheckFunctionError(Exception):
    """A `module:function` that cannot be imported or is not callable (message says why)."""


@contextmanager
def project_on_path(root: Path | str | None) -> Iterator[None]:
    """Python checks evaluated in this block import their modules from the project `root`."""
    token = _PROJECT_ROOT.set(Path(root).resolve() if root is not None else None)
    try:
        yield
    finally:
        _PROJECT_ROOT.reset(token)


def load_function(reference: str) -> Callable[..., Any]:
    """The callable named by "module:function" (see `scenarist.project.imports.import_function`)."""
    try:
        return import_function(reference, _PROJECT_ROOT.get())
    except ConfigError as exc:
        raise CheckFunctionError(str(exc)) from exc


def import_problem(reference: str, root: Path | str | None) -> str | None:
    """Why `reference` cannot be loaded from the project folder `root`; None when it can."""
    with project_on_path(root):
        try:
            load_function(reference)
        except CheckFunctionError as exc:
            return str(exc)
    return None


def _outcome(returned: Any) -> tuple[Outcome, str | None]:
    message = None
    if isinstance(returned, tuple) and len(returned) == 2:
        returned, message = returned
        message = None if message is None else str(message)
    if isinstance(returned, str):
        try:
            return Outcome(returned.upper()), message
        except ValueError:
            pass
    valid = ", ".join(o.value for o in Outcome)
    raise TypeError(f"returned {returned!r}; return an Outcome ({valid}), its name, or an "
                    "(outcome, message) tuple")


def evaluate(
    name: str,
    spec: PythonCheckSpec,
    evaluation: EvaluationLike,
    previous: EvaluationLike | None = None,
) -> CheckResult:
    """Call the spec's function; its answer is the outcome, a failure is ERROR."""
    make = factory(name, spec, evaluation)
    value = metric_value(spec, evaluation) if spec.metric else None
    bounds = spec.bounds()
    try:
        function = load_function(spec.function)
        outcome, message = _outcome(function(evaluation, previous, dict(spec.params)))
    except Exception as exc:  # noqa: BLE001 - a broken check is an ERROR result, not a crash
        reason = str(exc) if isinstance(exc, CheckFunctionError) else \
            f"raised {type(exc).__name__}: {exc}"
        return make(Outcome.ERROR, f"check function {spec.function} {reason}",
                    value=value, bounds=bounds)
    if message is None:
        shown = f"{metric_key(spec.metric, spec.feature)} = {fmt_number(value)}, " \
            if value is not None else ""
        message = f"{shown}{spec.function} returned {outcome.value}"
    return make(outcome, message, value=value, bounds=bounds)
