"""Run conditions: when a step (or reporter) runs. Pure functions, tested on their own.

A condition is either a named rule over the outcome so far

    no_prior_failure   the scenario has not FAILED or been ABORTED so far (default for steps)
    always             whatever happened before
    prior_failure      an earlier step FAILED (or the run was ABORTED)
    prior_warning      the worst outcome so far is WARNING

or a `when:` expression: Jinja2 compiled in a `SandboxedEnvironment` with `StrictUndefined`
(never `eval`), e.g. `stepOutcome_MES_Warn == 'WARNING'`. A name the run does not define is an
error, not a silent false.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import jinja2
from jinja2 import StrictUndefined, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from scenarist.checks.outcome import StepOutcome
from scenarist.errors import ConditionError, ConfigError

_ENV = SandboxedEnvironment(undefined=StrictUndefined)


def parse_expression(expression: str) -> nodes.Template:
    """The syntax tree of an expression (as the body of `{{ (...) }}`); ConfigError when it
    does not parse, saying "use == to compare" when a lone `=` is the reason."""
    try:
        return _ENV.parse(f"{{{{ ({expression}) }}}}")
    except jinja2.TemplateSyntaxError as exc:
        hint = "; use == to compare (a single = assigns)" if _assigns(expression) else ""
        raise ConfigError(f"expression {expression!r} does not parse: {exc.message}{hint}"
                          ) from exc


def expression_names(expression: str) -> set[str]:
    """Variable names an expression reads; ConfigError when it does not parse."""
    return set(meta.find_undeclared_variables(parse_expression(expression)))


def _assigns(expression: str) -> bool:
    """Whether the expression holds a lone `=` token (not ==, !=, <=, >=)."""
    try:
        tokens = _ENV.lex(f"{{{{ {expression} }}}}")
        return any(kind == "operator" and value == "=" for _, kind, value in tokens)
    except jinja2.TemplateSyntaxError:
        return False


@functools.lru_cache(maxsize=512)
def _compiled(expression: str) -> Any:
    """The compiled expression, once per text (a backtest evaluates one gate per evaluation);
    a syntax error raises ConfigError every time (lru_cache keeps no exception)."""
    expression_names(expression)
    return _ENV.compile_expression(expression, undefined_to_none=False)


def evaluate_expression(expression: str, variables: Mapping[str, Any]) -> Any:
    """The value of a Jinja expression over `variables` (sandboxed, StrictUndefined)."""
    compiled = _compiled(expression)  # syntax errors as ConfigError
    try:
        value = compiled(**variables)
        if isinstance(value, jinja2.Undefined):
            str(value)  # raises UndefinedError for StrictUndefined
        return value
    except jinja2.UndefinedError as exc:
        known = ", ".join(sorted(variables)) or "none"
        raise ConditionError(f"{exc.message} in {expression!r}; defined: {known}") from exc
    except Exception as exc:  # noqa: BLE001 - a user expression may raise anything
        raise ConditionError(f"cannot evaluate {expression!r}: {exc}") from exc


def should_run(
    run_condition: str,
    when: str | None,
    outcome_so_far: StepOutcome | None,
    variables: Mapping[str, Any],
) -> bool:
    """Whether a step runs, given the worst outcome of the steps before it (None: first step)."""
    if when is not None:
        return bool(evaluate_expression(when, variables))
    failed = outcome_so_far is not None and outcome_so_far >= StepOutcome.FAILED
    if run_condition == "always":
        return True
    if run_condition == "no_prior_failure":
        return not failed
    if run_condition == "prior_failure":
        return failed
    if run_condition == "prior_warning":
        return outcome_so_far is StepOutcome.WARNING
    raise ConfigError(
        f"unknown run condition {run_condition!r}; "
        "use no_prior_failure, always, prior_failure or prior_warning"
    )
