"""The python check: a function of the project decides the outcome.

    checks:
      no new categories: {type: python, store: the_MES, function: "mychecks:no_new", params: {}}

    # mychecks.py, in the project folder
    def no_new(evaluation, previous, params):
        return "OK"                                   # or Outcome.WARNING, or ("ERROR", "why")

The function receives the latest evaluation, the previous one (None when there is none) and the
spec's `params`. It returns an Outcome, an outcome string (case-insensitive) or an
(outcome, message) tuple. A function that raises, or returns anything else, gives ERROR with the
reason in the message: a broken check never crashes a run. Modules import with the project
folder on `sys.path` (`project_on_path`); `scenarist validate` reports a function that does not
import (`import_problem`).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scenarist.checks.base import EvaluationLike, factory, metric_value
from scenarist.checks.outcome import Outcome
from scenarist.checks.result import CheckResult, fmt_number, metric_key
from scenarist.checks.specs import PythonCheckSpec


class CheckFunctionError(Exception):
    """A `module:function` that cannot be imported or is not callable (message says why)."""


@contextmanager
def project_on_path(root: Path | str | None) -> Iterator[None]:
    """Make modules of the project folder `root` importable for the duration of the block."""
    folder = str(Path(root).resolve()) if root is not None else None
    added = folder is not None and folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        yield
    finally:
        if added:
            sys.path.remove(folder)


def load_function(reference: str) -> Callable[..., Any]:
    """The callable named by "module:function"; CheckFunctionError says what is wrong."""
    module_name, _, function_name = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure is the user's to fix
        raise CheckFunctionError(
            f"cannot import module {module_name!r} ({type(exc).__name__}: {exc}); modules "
            "import from the project folder"
        ) from exc
    function = getattr(module, function_name, None)
    if function is None:
        known = sorted(n for n, v in vars(module).items()
                       if callable(v) and not n.startswith("_") and
                       getattr(v, "__module__", None) == module.__name__)
        raise CheckFunctionError(f"module {module_name!r} has no function {function_name!r}; "
                                 f"functions: {', '.join(known) or 'none'}")
    if not callable(function):
        raise CheckFunctionError(f"{reference} is a {type(function).__name__}, not a function")
    return function


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
