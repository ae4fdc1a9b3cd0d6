"""The parts of a project file that validate on their own, for the checks that need typed specs
(conditions, templates, gates) to run even when the file as a whole does not match the schema:
one pass of `scenarist validate` reports every problem, not the schema's first.

    partial_project(raw, root, file) -> Project (built with model_construct, never run)

Each connection, evaluation store, step and reporter is validated alone; one that fails only
on unknown keys is validated again without them (the schema reports the keys), one that still
fails becomes a stand-in: a connection or store keeps its known keys unchecked (so references
to it resolve), a step or reporter becomes `Unchecked` (its name still defines
`stepOutcome_<name>`; later checks skip it). Datasets, models and checks are left out: the
checks that run on the partial project do not read them (cross-references read the raw data).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from scenarist.flows.specs import StepSpec
from scenarist.project.config import Connection, EvaluationStoreSpec, Project, ScenarioSpec
from scenarist.reporters.specs import ReporterSpec


@dataclass(frozen=True)
class Unchecked:
    """A step or reporter that does not validate (the schema reports why)."""

    name: str
    when: None = None


def partial_project(raw: Mapping[str, Any], root: Path, file: Path) -> Project:
    """`raw` (the YAML mapping) as a Project of the parts that validate alone."""
    scenarios = {}
    for name, scenario in _mapping(raw.get("scenarios")).items():
        if isinstance(scenario, Mapping):
            scenarios[str(name)] = ScenarioSpec.model_construct(
                variables=_mapping(scenario.get("variables")), triggers=[],
                steps=[_item(StepSpec, item) for item in _list(scenario.get("steps"))],
                reporters=[_item(ReporterSpec, item) for item in _list(scenario.get("reporters"))],
            )
    project = Project.model_construct(
        project=str(raw.get("project") or ""), variables=_mapping(raw.get("variables")),
        connections=_entries(Connection, raw.get("connections")), datasets={}, models={},
        evaluation_stores=_entries(EvaluationStoreSpec, raw.get("evaluation_stores")),
        checks={}, scenarios=scenarios, root=root, file=file,
    )
    for name, connection in project.connections.items():
        connection._name, connection._root, connection._file = name, root, str(file)
    return project


def _entries(model: type[BaseModel], section: Any) -> dict[str, Any]:
    entries = {}
    for name, entry in _mapping(section).items():
        if isinstance(entry, Mapping):
            valid = _validated(model, entry)
            entries[str(name)] = valid if valid is not None else model.model_construct(
                **{k: v for k, v in entry.items() if k in model.model_fields})
    return entries


def _item(spec: Any, item: Any) -> Any:
    valid = _validated(spec, item) if isinstance(item, Mapping) else None
    if valid is not None:
        return valid
    name = item.get("name") if isinstance(item, Mapping) else None
    return Unchecked(name if isinstance(name, str) else "")


def _validated(spec: Any, data: Mapping[str, Any]) -> Any:
    """`data` validated as `spec`, else without its unknown top-level keys, else None."""
    adapter = _adapter(spec)
    try:
        return adapter.validate_python(dict(data))
    except ValidationError as exc:
        unknown = {str(e["loc"][-1]) for e in exc.errors() if e["type"] == "extra_forbidden"
                   and len(e["loc"]) <= 2 and str(e["loc"][-1]) in data}
    if not unknown:
        return None
    try:
        return adapter.validate_python({k: v for k, v in data.items() if k not in unknown})
    except ValidationError:
        return None


@functools.cache
def _adapter(spec: Any) -> TypeAdapter:
    return TypeAdapter(spec)


def _mapping(value: Any) -> dict[Any, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []
