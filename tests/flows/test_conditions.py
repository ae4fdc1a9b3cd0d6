"""Run conditions and expressions, as pure functions."""

from __future__ import annotations

import pytest

from scenarist.checks.outcome import StepOutcome
from scenarist.errors import ConfigError
from scenarist.flows.conditions import (
    ConditionError,
    evaluate_expression,
    expression_names,
    should_run,
)

S, W, F, A = StepOutcome.SUCCESS, StepOutcome.WARNING, StepOutcome.FAILED, StepOutcome.ABORTED


@pytest.mark.parametrize(
    "condition, so_far, expected",
    [
        ("no_prior_failure", None, True),
        ("no_prior_failure", S, True),
        ("no_prior_failure", W, True),
        ("no_prior_failure", F, False),
        ("no_prior_failure", A, False),
        ("always", F, True),
        ("always", None, True),
        ("prior_failure", S, False),
        ("prior_failure", W, False),
        ("prior_failure", F, True),
        ("prior_failure", A, True),
        ("prior_warning", W, True),
        ("prior_warning", S, False),
        ("prior_warning", F, False),
        ("prior_warning", None, False),
    ],
)
def test_named_run_conditions(condition, so_far, expected):
    assert should_run(condition, None, so_far, {}) is expected


def test_when_expression_decides_alone():
    variables = {"stepOutcome_MES_Warn": "WARNING"}
    assert should_run("no_prior_failure", "stepOutcome_MES_Warn == 'WARNING'", F, variables)
    assert not should_run("always", "stepOutcome_MES_Warn == 'SUCCESS'", S, variables)


def test_expressions_are_sandboxed_and_strict():
    assert evaluate_expression("x * 2 + 1", {"x": 3}) == 7
    assert evaluate_expression("checks | selectattr('outcome', 'eq', 'WARNING') | list | length",
                               {"checks": [{"outcome": "WARNING"}, {"outcome": "OK"}]}) == 1
    with pytest.raises(ConditionError, match="'nope' is undefined in 'nope == 1'; defined: x"):
        evaluate_expression("nope == 1", {"x": 1})
    with pytest.raises(ConditionError, match="unsafe"):
        evaluate_expression("x.__class__.__subclasses__()", {"x": 1})
    with pytest.raises(ConfigError, match="does not parse"):
        expression_names("x ==")
    assert expression_names("a == 'x' and b.c > 1") == {"a", "b"}


def test_a_single_equals_sign_says_use_double_equals():
    with pytest.raises(ConfigError, match=r"got '='; use == to compare"):
        expression_names("outcome = 'WARNING'")
    with pytest.raises(ConfigError, match=r"use == to compare"):  # at run time too
        evaluate_expression("stepOutcome_A = 'FAILED' or x", {"x": 1})
    with pytest.raises(ConfigError) as info:  # another mistake: no == hint
        expression_names("x +")
    assert "==" not in str(info.value)
    assert expression_names("f(a=1) and b <= 2 and c != 3") == {"f", "b", "c"}


def test_unknown_run_condition():
    with pytest.raises(ConfigError, match="unknown run condition 'sometimes'"):
        should_run("sometimes", None, None, {})
