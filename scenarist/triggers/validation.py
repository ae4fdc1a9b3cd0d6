"""The problems of a project's triggers that the schema cannot see: what they refer to.

    trigger_problems(project) -> list[ConfigProblem]   (run by `scenarist validate`)

Each problem names the scenario, the trigger (position and name) and the field, and lists the
valid choices: an unknown dataset, a connection that is not a database, a `labels_ready`
deployment that no evaluation store monitors, a `python` function that does not import from
the project folder, a templated dataset path a file name cannot be matched against.
"""

from __future__ import annotations

from scenarist.errors import ConfigProblem
from scenarist.project.config import Project
from scenarist.project.config_checks import format_location


def trigger_problems(project: Project) -> list[ConfigProblem]:
    """Every reference problem of every trigger of `project`."""
    file = str(project.file or "")
    problems = []
    for name, spec in project.scenarios.items():
        for position, trigger in enumerate(getattr(spec, "triggers", None) or []):
            loc = ("scenarios", name, "triggers", position, trigger.kind)
            label = f"trigger {trigger.name!r}" if trigger.name else f"trigger {position + 1}"
            for key, message in _problems(project, trigger):
                problems.append(ConfigProblem(file, format_location((*loc, key)),
                                              f"{label} of scenario {name!r}: {message}"))
    return problems


def _problems(project: Project, trigger) -> list[tuple[str, str]]:
    kind, spec = trigger.kind, getattr(trigger, trigger.kind)
    if kind == "dataset_changed":
        return _dataset(project, spec)
    if kind == "sql_changed":
        return _connection(project, spec.connection)
    if kind == "labels_ready":
        fed = {n: s.deployment for n, s in project.evaluation_stores.items() if s.deployment}
        if spec.deployment in fed or spec.deployment in fed.values():
            return []
        listing = ", ".join(f"{n} (deployment {d})" for n, d in fed.items()) or "none"
        return [("deployment", f"unknown deployment {spec.deployment!r}; name an evaluation "
                 f"store fed by a deployment, or its deployment id; such stores: {listing}")]
    if kind == "python":
        from scenarist.checks.python_check import import_problem

        problem = import_problem(spec.function, project.root)
        return [("function", problem)] if problem else []
    return []


def _dataset(project: Project, spec) -> list[tuple[str, str]]:
    from scenarist.triggers.fingerprints import path_template

    dataset = project.datasets.get(spec.dataset)
    if dataset is None:
        known = ", ".join(project.datasets) or "none"
        return [("dataset", f"unknown dataset {spec.dataset!r}; defined datasets: {known}")]
    if dataset.sql is None and spec.query is not None:
        return [("query", f"dataset {spec.dataset!r} is a file; `query` applies to SQL datasets")]
    path = dataset.path or ""
    if ("{%" in path or "{{" in path) and path_template(path) is None:
        return [("dataset", f"the path of dataset {spec.dataset!r} ({path!r}) uses template "
                 "code a file name cannot be matched against; use plain \"{{ var }}\" parts")]
    if "{{" in path and "|" in path:
        return [("dataset", f"the path of dataset {spec.dataset!r} ({path!r}) uses a filter; "
                 "a watched path may only use plain \"{{ var }}\" parts")]
    return []


def _connection(project: Project, name: str) -> list[tuple[str, str]]:
    sql = [n for n, c in project.connections.items() if c.kind == "sql"]
    if name not in sql:
        return [("connection", f"unknown database connection {name!r}; database connections: "
                 f"{', '.join(sql) or 'none'}")]
    return []
