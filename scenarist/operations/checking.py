"""Running a project's checks: load each store's latest evaluation, evaluate, record.

    results = run_checks(project, ["data drift < 0.45"])        # -> list[CheckResult]
    results = run_checks(project, store="the_MES")               # every check of the_MES

This is what `scenarist checks run` and the scenarios' `run_checks` step call. The evaluation
itself is pure (`scenarist.checks.evaluate_check`); this module does the I/O around it: reading
the latest (and, for relative_change and python checks, the previous) evaluation of each store,
and writing the results in one transaction per database (`scenarist.stores.check_results`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from sqlalchemy import Engine

from scenarist import events
from scenarist.checks.python_check import project_on_path
from scenarist.checks.registry import check_type, evaluate_check
from scenarist.checks.result import CheckResult
from scenarist.checks.segments import check_segments
from scenarist.checks.specs import AnyCheckSpec
from scenarist.errors import ConfigError, ConfigProblem
from scenarist.project.config import Project
from scenarist.stores.check_results import check_history, record_results
from scenarist.stores.database import connect
from scenarist.stores.evaluation import Evaluation

__all__ = [
    "check_history", "project_history_engines", "resolve_checks", "run_checks", "store_engine"
]


def resolve_checks(
    project: Project, names: Sequence[str] | None = None, *, store: str | None = None
) -> dict[str, AnyCheckSpec]:
    """The checks to run, by name, in the order given (else the project's order).

    `names` None: every check of `store` (every check of the project when `store` is None too).
    An unknown check name, a check of another store than `store`, or an unknown `store` is a
    ConfigError listing what is defined."""
    file = str(project.file or "")
    if store is not None and store not in project.evaluation_stores:
        known = ", ".join(project.evaluation_stores) or "none"
        raise ConfigError([ConfigProblem(file, "evaluation_stores",
                                         f"unknown evaluation store {store!r}; defined stores: "
                                         f"{known}")])
    if names is None:
        return {n: s for n, s in project.checks.items() if store is None or s.store == store}
    problems = []
    for name in names:
        spec = project.checks.get(name)
        if spec is None:
            known = ", ".join(project.checks) or "none"
            problems.append(ConfigProblem(file, "checks",
                                          f"unknown check {name!r}; defined checks: {known}"))
        elif store is not None and spec.store != store:
            of_store = ", ".join(n for n, s in project.checks.items() if s.store == store)
            problems.append(ConfigProblem(
                file, f"checks.{name}", f"check {name!r} reads store {spec.store!r}, not "
                f"{store!r}; checks of {store!r}: {of_store or 'none'}"))
    if problems:
        raise ConfigError(problems)
    return {name: project.checks[name] for name in dict.fromkeys(names)}


def store_engine(project: Project, store: str) -> Engine:
    """The (migrated) database engine holding the evaluation store `store` of `project`."""
    spec = project.evaluation_stores[store]
    connection = project.connections.get(spec.connection)
    url = connection.resolved_url() if connection is not None else None
    return connect(url, project.root)


def run_checks(
    project: Project,
    names: Sequence[str] | None = None,
    *,
    store: str | None = None,
    scenario_run_id: str | None = None,
    record: bool = True,
    evaluations: Mapping[str, str] | None = None,
) -> list[CheckResult]:
    """Evaluate checks on their stores' latest evaluations; record them when `record`.

    `evaluations` (store → label) checks that evaluation of a store instead of its latest: a
    scenario checks the evaluation it just built, even when re-building an older label (which
    keeps its place in the history, so it is not the latest).

    Which checks: see `resolve_checks`. A store with no evaluation gives every one of its checks
    EMPTY ("store X has no evaluation yet"). A check with `segment` gives one result per
    segment it names (`scenarist.checks.segments`). Results come back in the order of the
    checks (a shadow check's marked `shadow`); the results are written in one transaction (per
    database), tagged with `scenario_run_id`, and each recorded result that is not OK is
    emitted as a Prefect event (`scenarist.events`: scenarios and `scenarist checks run` alike).
    """
    from scenarist.operations.build import (
        open_store,  # build reads datasets and models: import late
    )

    checks = resolve_checks(project, names, store=store)
    by_store: dict[str, list[str]] = {}
    for name, spec in checks.items():
        by_store.setdefault(spec.store, []).append(name)

    results: dict[str, list[CheckResult]] = {}
    with project_on_path(project.root):
        for store_name, check_names in by_store.items():
            evaluation_store = open_store(project, store_name)
            labels = evaluation_store.labels()
            chosen = (evaluations or {}).get(store_name)
            position = labels.index(chosen) if chosen in labels else len(labels) - 1
            latest: Evaluation | None = (
                evaluation_store.get(labels[position]) if labels else None
            )
            previous: Evaluation | None = None
            if position > 0 and any(check_type(checks[n]).needs_previous for n in check_names):
                previous = evaluation_store.get(labels[position - 1])
            for name in check_names:
                spec = checks[name]
                if spec.segment is not None and latest is not None:
                    results[name] = check_segments(name, spec, evaluation_store, latest,
                                                   previous)
                else:
                    results[name] = [evaluate_check(name, spec, latest, previous)]
    ordered = [replace(result, shadow=True) if checks[name].shadow else result
               for name in checks for result in results[name]]
    if record:  # one transaction per database (all stores usually share one)
        per_database: dict[int, tuple[Engine, list[CheckResult]]] = {}
        for result in ordered:
            engine = store_engine(project, str(result.store))
            per_database.setdefault(id(engine), (engine, []))[1].append(result)
        for engine, batch in per_database.values():
            record_results(engine, batch, store=None, scenario_run_id=scenario_run_id)
        events.emit_check_results(project.project, ordered, run_id=scenario_run_id)
    return ordered


def project_history_engines(project: Project, store: str | None = None) -> list[Engine]:
    """The distinct databases holding the project's stores (only `store`'s when given)."""
    names = [store] if store is not None else list(project.evaluation_stores)
    engines: dict[int, Engine] = {}
    for name in names:
        engine = store_engine(project, name)
        engines.setdefault(id(engine), engine)
    return list(engines.values())


