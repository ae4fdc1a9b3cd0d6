"""The python check: outcomes, tuples, a raising function, and import problems."""

from __future__ import annotations

import pytest
from check_helpers import evaluation
from pydantic import TypeAdapter, ValidationError

from scenarist.checks import CheckSpec, Outcome, evaluate_check
from scenarist.checks.python_check import import_problem

SPEC = TypeAdapter(CheckSpec)


def check(function: str, **extra):
    return SPEC.validate_python({"type": "python", "store": "the_MES",
                                 "function": f"sample_checks:{function}", **extra})


def test_an_outcome_is_returned():
    spec = check("auc_at_least", metric="auc", params={"minimum": 0.7})
    ok = evaluate_check("auc ok", spec, evaluation(auc=0.8))
    assert ok.outcome is Outcome.OK and ok.value == 0.8
    assert ok.message == "auc = 0.8, sample_checks:auc_at_least returned OK"
    assert ok.bounds == {"function": "sample_checks:auc_at_least", "params": {"minimum": 0.7}}


def test_an_outcome_string_any_case():
    spec = check("as_string")
    assert evaluate_check("c", spec, evaluation()).outcome is Outcome.WARNING
    assert spec.metric is None  # a python check needs no metric


def test_a_tuple_gives_outcome_and_message_and_sees_the_previous_evaluation():
    result = evaluate_check("c", check("with_message"), evaluation("2017Q4"),
                            evaluation("2017Q3"))
    assert result.outcome is Outcome.WARNING
    assert result.message == "compared 2017Q4 with 2017Q3"


def test_a_raising_function_is_an_error_not_a_crash():
    result = evaluate_check("c", check("raises"), evaluation())
    assert result.outcome is Outcome.ERROR
    assert result.message == ("check function sample_checks:raises raised RuntimeError: "
                              "the drift service is down")


def test_a_bad_return_value_is_an_error():
    result = evaluate_check("c", check("returns_a_number"), evaluation())
    assert result.outcome is Outcome.ERROR
    assert "returned 42; return an Outcome (OK, EMPTY, WARNING, ERROR)" in result.message


def test_import_problems_say_what_is_wrong(tmp_path):
    assert import_problem("sample_checks:raises", None) is None
    assert import_problem("no_such_module_xyz:f", tmp_path).startswith(
        "cannot import module 'no_such_module_xyz' (ModuleNotFoundError")
    missing = import_problem("sample_checks:nope", None)
    assert missing.startswith("module 'sample_checks' has no function 'nope'; functions: ")
    assert "as_string" in missing and "auc_at_least" in missing
    assert import_problem("sample_checks:NOT_A_FUNCTION", None) == \
        "sample_checks:NOT_A_FUNCTION is a int, not a function"
    (tmp_path / "broken_module_xyz.py").write_text("import nothing_here_xyz\n")
    assert "ModuleNotFoundError: No module named 'nothing_here_xyz'" in \
        import_problem("broken_module_xyz:f", tmp_path)


def test_function_reference_format():
    with pytest.raises(ValidationError, match='is not "module:function"'):
        SPEC.validate_python({"type": "python", "store": "s", "function": "sample_checks.f"})
