"""Static checks of Jinja templates and expressions, on their syntax tree: every branch is
checked, not only the one a sample run happens to take. Pure; used by `scenarist validate` for
reporter templates, `when:` conditions, `set_variables` expressions, store labels and dataset
paths.

    problems(tree, known, custom_metrics=...) -> ["unknown metric 'data_drfit' in
        evaluation.metrics.data_drfit; did you mean data_drift?", ...]

It reports
- names read from the run's variables that nothing defines (`known`), with the closest defined
  name ("did you mean scenarioName?");
- `evaluation.<key>` that the `evaluation` variable does not have, and `evaluation.metrics.<m>`
  (or `["m"]`, `.get("m")`) that no metric of scenarist (`scenarist.metrics.names`) or of the
  project's custom metrics is called;
- attributes the sandbox refuses at run time (`''.__class__`, anything starting with `_`, and
  Python's frame/code internals): a SecurityError at run time, a problem here.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator
from typing import Any

from jinja2 import meta, nodes
from jinja2.sandbox import (
    UNSAFE_ASYNC_GENERATOR_ATTRIBUTES,
    UNSAFE_COROUTINE_ATTRIBUTES,
    UNSAFE_GENERATOR_ATTRIBUTES,
)

from scenarist.metrics.names import closest_metric, is_known_metric

#: the keys of the `evaluation` variable (flows/steps.py `_evaluated`)
EVALUATION_KEYS = ("store", "label", "row_count", "metrics", "top_drifted_features")
#: dict methods a template may call on `evaluation` and `evaluation.metrics`
DICT_METHODS = ("get", "items", "keys", "values")
#: names the sandbox refuses whatever the object (besides every name starting with "_")
SANDBOX_INTERNALS = frozenset({"mro", *UNSAFE_GENERATOR_ATTRIBUTES, *UNSAFE_COROUTINE_ATTRIBUTES,
                               *UNSAFE_ASYNC_GENERATOR_ATTRIBUTES})


def custom_metric_names(project: Any) -> set[str]:
    """The names of the custom metrics (`metrics:`) of every store of `project`."""
    return {name for spec in project.evaluation_stores.values() for name in spec.metrics}


def did_you_mean(name: str, candidates: Collection[str]) -> str:
    """"; did you mean X?" for the closest candidate (difflib), or ""."""
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def undefined_names(tree: nodes.Template, known: Collection[str]) -> list[str]:
    """Names the template reads from its variables that are not in `known`, sorted."""
    return sorted(set(meta.find_undeclared_variables(tree)) - set(known))


def problems(tree: nodes.Template, known: Collection[str], *,
             custom_metrics: Collection[str] = (), check_names: bool = True) -> list[str]:
    """Every static problem of `tree` (see the module docstring), each once, in source order
    of kind: undefined names, then evaluation keys and metrics, then refused attributes.
    `check_names=False` skips undefined names and the `evaluation` checks (for templates whose
    variables come from the run's parameters, such as dataset paths)."""
    found: list[str] = []
    if check_names:
        for name in undefined_names(tree, known):
            found.append(f"undefined variable {name!r}{did_you_mean(name, known)}")
        if "evaluation" in meta.find_undeclared_variables(tree):
            found += _evaluation_problems(tree, custom_metrics)
    found += unsafe_problems(tree)
    return list(dict.fromkeys(found))


def unsafe_problems(tree: nodes.Template) -> list[str]:
    """Attribute reads the sandbox refuses at run time."""
    found = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name = node.attr if isinstance(node, nodes.Getattr) else _const(node.arg)
        if name is None:
            continue
        refused = (name.startswith("_") or name in SANDBOX_INTERNALS
                   if isinstance(node, nodes.Getattr) else name.startswith("__"))
        if refused:
            found.append(f"reads {name!r}, which the sandbox refuses (names starting with '_' "
                         "and Python internals are never readable); remove it")
    return found


def _evaluation_problems(tree: nodes.Template, custom: Collection[str]) -> list[str]:
    found = []
    for base, keys in _chains(tree):
        if base != "evaluation" or not keys:
            continue
        if keys[0] not in (*EVALUATION_KEYS, *DICT_METHODS):
            found.append(f"evaluation has no {keys[0]!r}{did_you_mean(keys[0], EVALUATION_KEYS)} "
                         f"(it has {', '.join(EVALUATION_KEYS)})")
        elif keys[0] == "metrics" and len(keys) > 1 and keys[1] not in DICT_METHODS:
            found += _metric_problem(keys[1], custom, f"evaluation.metrics.{keys[1]}")
    for call in tree.find_all(nodes.Call):  # evaluation.metrics.get("data_drfit")
        chain = _chain(call.node)
        if chain == ("evaluation", ["metrics", "get"]) and call.args:
            key = _const(call.args[0])
            if key is not None:
                found += _metric_problem(key, custom, f"evaluation.metrics.get({key!r})")
    return found


def _metric_problem(key: str, custom: Collection[str], where: str) -> list[str]:
    if is_known_metric(key, custom):
        return []
    close = closest_metric(key, custom)
    hint = f"; did you mean {close}?" if close else (
        "; metric names look like data_drift, auc, feature_drift[card_age] or auc.lower")
    return [f"unknown metric {key!r} in {where}{hint}"]


def _chains(tree: nodes.Template) -> Iterator[tuple[str, list[str]]]:
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        chain = _chain(node)
        if chain is not None:
            yield chain


def _chain(node: nodes.Node) -> tuple[str, list[str]] | None:
    """`evaluation.metrics["auc"]` → ("evaluation", ["metrics", "auc"]); None when a part is
    not a constant or the chain does not start at a variable."""
    keys: list[str] = []
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        key = node.attr if isinstance(node, nodes.Getattr) else _const(node.arg)
        if key is None:
            return None
        keys.insert(0, key)
        node = node.node
    return (node.name, keys) if isinstance(node, nodes.Name) else None


def _const(node: nodes.Node) -> str | None:
    return node.value if isinstance(node, nodes.Const) and isinstance(node.value, str) else None
