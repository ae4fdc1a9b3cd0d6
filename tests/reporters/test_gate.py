"""The gate on its own: `when:` expressions, `on:` outcomes, and the default."""

from __future__ import annotations

import pytest

from scenarist.checks.outcome import StepOutcome
from scenarist.errors import ConditionError
from scenarist.reporters.gate import should_report

VARS = {"stepOutcome_MES_Warn": "WARNING", "outcome": "WARNING"}


@pytest.mark.parametrize(("outcome", "sends"), [
    ("SUCCESS", False), ("WARNING", True), ("FAILED", True), ("ABORTED", True)])
def test_default_sends_on_anything_but_success(outcome, sends):
    assert should_report(None, None, outcome, VARS) is sends


def test_on_lists_the_outcomes_that_send():
    assert should_report(None, ["FAILED"], StepOutcome.FAILED, VARS)
    assert not should_report(None, ["FAILED"], StepOutcome.WARNING, VARS)
    assert should_report(None, [StepOutcome.SUCCESS], "SUCCESS", VARS)


def test_when_is_an_expression_over_the_variables():
    assert should_report("stepOutcome_MES_Warn == 'WARNING'", None, "WARNING", VARS)
    assert not should_report("stepOutcome_MES_Warn == 'FAILED'", None, "FAILED", VARS)


def test_an_undefined_name_is_an_error_not_a_silent_false():
    with pytest.raises(ConditionError, match="'stepOutcome_Typo' is undefined"):
        should_report("stepOutcome_Typo == 'WARNING'", None, "WARNING", VARS)
