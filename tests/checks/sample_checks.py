"""Check functions for the python check tests (importable: pytest puts tests/checks on sys.path).
"""

from scenarist.checks.outcome import Outcome


def auc_at_least(evaluation, previous, params):
    return Outcome.OK if evaluation.metric("auc") >= params["minimum"] else Outcome.ERROR


def as_string(evaluation, previous, params):
    return params.get("answer", "warning")


def with_message(evaluation, previous, params):
    before = "none" if previous is None else previous.label
    return "WARNING", f"compared {evaluation.label} with {before}"


def empty(evaluation, previous, params):
    return Outcome.EMPTY


def raises(evaluation, previous, params):
    raise RuntimeError("the drift service is down")


def returns_a_number(evaluation, previous, params):
    return 42


NOT_A_FUNCTION = 3
