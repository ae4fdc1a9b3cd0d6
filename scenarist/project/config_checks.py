"""The checks behind `load_project`: YAML reading, schema-error wording, cross-references.

All functions return `ConfigProblem`s instead of raising, so one pass reports every problem.
Cross-reference checks read the raw YAML mapping (defensively: a section of the wrong shape
is the schema's problem), so they run even when the schema rejects another part of the file.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union

import jinja2
import yaml
from pydantic import BaseModel, ValidationError

from scenarist.errors import ConfigProblem

Loc = tuple[str | int, ...]


def format_location(loc: Loc) -> str:
    """('scenarios', 'Daily', 'steps', 0, 'store') -> 'scenarios.Daily.steps[0].store'.

    A key containing '.', '[' or ']' is quoted: checks["auc above 0.7"].store."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif any(c in part for c in ".[]"):
            out += f'["{part}"]'
        else:
            out += f".{part}" if out else part
    return out


def read_yaml(file: Path) -> tuple[dict[str, Any] | None, dict[Loc, int], list[ConfigProblem]]:
    """The top-level mapping of `file`, the line of every key path, and the problems found
    (syntax errors with line/column, duplicate keys, a document that is not a mapping)."""
    where = str(file)
    try:
        text = file.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        return None, {}, [ConfigProblem(where, "", f"cannot read the file: {exc}")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        return None, {}, [ConfigProblem(where, "", f"invalid YAML: {at}{reason}")]
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}, not a mapping"
        return None, {}, [ConfigProblem(where, "", f"the project file is {kind}; it needs at "
                                        "least `project: <name>`")]
    lines: dict[Loc, int] = {}
    problems: list[ConfigProblem] = []
    _index(node, (), lines, problems, where)
    return data, lines, problems


def _index(node: yaml.Node, loc: Loc, lines: dict[Loc, int], problems: list[ConfigProblem],
           where: str) -> None:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                problems.append(ConfigProblem(where, format_location((*loc, name)),
                                              f"duplicate key {name!r} (line "
                                              f"{key.start_mark.line + 1}); names must be unique"))
            seen.add(name)
            _index(value, (*loc, name), lines, problems, where)
            lines[(*loc, name)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*loc, i), lines, problems, where)


def with_lines(problems: list[ConfigProblem], lines: Mapping[Loc, int]) -> list[ConfigProblem]:
    """Problems with "(line N)" added (the line of the deepest known prefix of the location),
    in file order."""
    by_location = {format_location(loc): line for loc, line in lines.items() if loc}
    out: list[tuple[int, ConfigProblem]] = []
    for problem in problems:
        location = problem.location
        line = None
        while location and line is None:
            line = by_location.get(location)
            cut = max(location.rfind("."), location.rfind("["))
            location = location[:cut] if cut > 0 else ""
        if line is not None and "(line " not in problem.message:
            problem = ConfigProblem(problem.file, problem.location,
                                    f"{problem.message} (line {line})")
        out.append((line or 0, problem))
    return [problem for _, problem in sorted(out, key=lambda pair: pair[0])]


def pydantic_problems(exc: ValidationError, file: Path, root_model: type[BaseModel],
                      raw: Mapping[str, Any] | None = None) -> list[ConfigProblem]:
    """One problem per pydantic error, worded for a YAML author; with `raw` (the YAML data),
    the member tags pydantic puts in the locations of `type`-discriminated unions are dropped
    (`steps[0].run_checks.store` → `steps[0].store`)."""
    problems = []
    for error in exc.errors(include_url=False):
        loc: Loc = _without_union_tags(tuple(error["loc"]), raw) if raw else tuple(error["loc"])
        kind = error["type"]
        if kind == "extra_forbidden" and loc:
            model = _model_at(root_model, loc[:-1])
            message = unknown_key_message(str(loc[-1]), model)
        elif kind == "missing":
            message = "required key is missing"
        elif kind.startswith("value_error"):
            message = error["msg"].removeprefix("Value error, ")
        else:
            message = f"{error['msg']} (got {error['input']!r})"
        problems.append(ConfigProblem(str(file), format_location(loc), message))
    return problems


DEFAULT_TAGS = ("numeric_range",)  # the member chosen when `type` is omitted


def _without_union_tags(loc: Loc, raw: Mapping[str, Any]) -> Loc:
    kept: list[str | int] = []
    node: Any = raw
    for part in loc:
        if isinstance(node, Mapping) and isinstance(part, str) and part not in node:
            if part == node.get("type", part if part in DEFAULT_TAGS else None):
                continue  # the union member's tag, not a key of the YAML
        kept.append(part)
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(kept)


def unknown_key_message(key: str, model: type[BaseModel] | None) -> str:
    """"unknown key 'x'; valid keys: ..." listing the YAML keys of `model`."""
    if model is None:
        return f"unknown key {key!r}"
    valid = [name for name, field in model.model_fields.items() if not field.exclude]
    return f"unknown key {key!r}; valid keys: {', '.join(valid)}"


def _model_at(model: Any, loc: Loc) -> type[BaseModel] | None:
    """The model class found by walking `loc` through field annotations, dicts and lists."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) in (dict, list):
            current = typing.get_args(current)[-1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """Strip Optional[...] / Annotated[...] down to the single non-None type."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def cross_reference_problems(raw: Mapping[str, Any], file: Path, root: Path
                             ) -> list[ConfigProblem]:
    """Unknown names referenced between sections, missing files, bad template syntax."""
    from scenarist.project.config import EvaluationStoreSpec

    where = str(file)
    problems: list[ConfigProblem] = []
    sections = {key: _mapping(raw.get(key)) for key in (
        "connections", "datasets", "models", "evaluation_stores", "checks", "scenarios")}
    sql_connections = {name for name, c in sections["connections"].items()
                       if isinstance(c, Mapping) and "url" in c}

    def refer(loc: Loc, kind: str, section: str, value: Any, sql: bool = False) -> None:
        if not isinstance(value, str):
            return
        defined = sections[section]
        if value not in defined:
            listing = (f"defined {kind}s: {', '.join(defined)}" if defined
                       else f"no {kind}s are defined")
            problems.append(ConfigProblem(where, format_location(loc),
                                          f"unknown {kind} {value!r}; {listing}"))
        elif sql and value not in sql_connections:
            problems.append(ConfigProblem(where, format_location(loc), f"connection {value!r} "
                                          "is a mail connection; a database `url` is needed"))

    def template(loc: Loc, value: Any) -> None:
        if isinstance(value, str) and "{" in value:
            try:
                jinja2.Environment().parse(value)
            except jinja2.TemplateSyntaxError as exc:
                problems.append(ConfigProblem(where, format_location(loc),
                                              f"invalid template {value!r}: {exc.message}"))

    def exists(loc: Loc, value: Any) -> None:
        if isinstance(value, str) and "{{" not in value and "{%" not in value:
            if not (root / value).exists():
                problems.append(ConfigProblem(where, format_location(loc),
                                              f"{value} does not exist (relative to {root})"))

    for name, spec in _entries(sections["datasets"]):
        loc = ("datasets", name)
        if "connection" in spec:
            refer((*loc, "connection"), "connection", "connections", spec["connection"], True)
        template((*loc, "path"), spec.get("path"))
        template((*loc, "sql"), spec.get("sql"))
        exists((*loc, "path"), spec.get("path"))
    for name, spec in _entries(sections["models"]):
        template(("models", name, "path"), spec.get("path"))
        exists(("models", name, "path"), spec.get("path"))
    default_store = EvaluationStoreSpec.model_fields["connection"].default
    for name, spec in _entries(sections["evaluation_stores"]):
        loc = ("evaluation_stores", name)
        refer((*loc, "model"), "model", "models", spec.get("model"))
        refer((*loc, "reference"), "dataset", "datasets", spec.get("reference"))
        refer((*loc, "input"), "dataset", "datasets", spec.get("input"))
        refer((*loc, "connection"), "connection", "connections",
              spec.get("connection", default_store), True)
        template((*loc, "label"), spec.get("label"))
        metrics = spec.get("metrics")
        for metric, custom in (metrics.items() if isinstance(metrics, Mapping) else []):
            if isinstance(custom, Mapping):
                problems += _check_function_problems(
                    {"type": "python", "function": custom.get("python")},
                    (*loc, "metrics", metric, "python"), where, root)
        secondary = spec.get("secondary_datasets")
        for i, join in enumerate(secondary if isinstance(secondary, list) else []):
            if isinstance(join, Mapping):
                refer((*loc, "secondary_datasets", i, "dataset"), "dataset", "datasets",
                      join.get("dataset"))
    for name, spec in _entries(sections["checks"]):
        refer(("checks", name, "store"), "evaluation store", "evaluation_stores",
              spec.get("store"))
        problems += _segment_problems(spec, sections["evaluation_stores"],
                                      ("checks", name, "segment"), where)
        problems += _check_function_problems(spec, ("checks", name, "function"), where, root)
    for name, spec in _entries(sections["scenarios"]):
        for part in ("steps", "reporters"):
            items = spec.get(part)
            seen: set[str] = set()
            for i, item in enumerate(items if isinstance(items, list) else []):
                if not isinstance(item, Mapping):
                    continue
                loc = ("scenarios", name, part, i)
                _step_references(item, loc, refer)
                step_name = item.get("name")
                if part == "steps" and isinstance(step_name, str):
                    if step_name in seen:
                        problems.append(ConfigProblem(where, format_location((*loc, "name")),
                                                      f"duplicate step name {step_name!r}"))
                    seen.add(step_name)
    return problems


def _segment_problems(spec: Mapping[str, Any], stores: Mapping[str, Any], loc: Loc,
                      where: str) -> list[ConfigProblem]:
    """A check's `segment` must be "all" or "<column>=<value>" of a column its store segments
    by (`segment_by`)."""
    segment, store = spec.get("segment"), stores.get(spec.get("store"))
    if not isinstance(segment, str) or not isinstance(store, Mapping):
        return []
    by = store.get("segment_by") or []
    if not by:
        message = (f"segment {segment!r} needs `segment_by` on store {spec.get('store')!r} "
                   "(the columns whose values are segments)")
    elif segment != "all" and segment.partition("=")[0] not in by:
        message = (f"segment {segment!r} is not \"all\" or \"<column>=<value>\" of a column "
                   f"in segment_by ({', '.join(map(str, by))})")
    else:
        return []
    return [ConfigProblem(where, format_location(loc), message)]


def _check_function_problems(spec: Mapping[str, Any], loc: Loc, where: str, root: Path
                             ) -> list[ConfigProblem]:
    """A `python` check whose "module:function" does not import from the project folder."""
    from scenarist.checks.python_check import import_problem
    from scenarist.checks.specs import is_function_reference

    function = spec.get("function")
    if spec.get("type") != "python" or not is_function_reference(function):
        return []  # a malformed reference is the schema's problem
    problem = import_problem(function, root)
    return [ConfigProblem(where, format_location(loc), problem)] if problem else []


def _step_references(item: Mapping[str, Any], loc: Loc, refer: Any) -> None:
    if "store" in item:
        refer((*loc, "store"), "evaluation store", "evaluation_stores", item["store"])
    checks = item.get("checks")
    if isinstance(checks, str):
        refer((*loc, "checks"), "check", "checks", checks)
    elif isinstance(checks, list):
        for j, check in enumerate(checks):
            refer((*loc, "checks", j), "check", "checks", check)
    if "connection" in item:
        refer((*loc, "connection"), "connection", "connections", item["connection"])


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _entries(section: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    return [(str(k), v) for k, v in section.items() if isinstance(v, Mapping)]
