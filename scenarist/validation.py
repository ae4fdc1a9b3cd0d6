"""Every problem of a project, in one pass: what `scenarist validate` prints and what a run
refuses to start with. Beside flows and bundles, this module may import every layer; the
layers themselves only check what they know.

    validate_project(path) -> list[ConfigProblem], [] when the project is valid
    load_project(path)     -> Project, or ConfigError carrying every problem

One pass gathers
1. the file: YAML syntax, duplicate and unknown keys, the schema (`project.config`);
2. cross-references between sections and missing files, read from the raw YAML so they run
   whatever the schema says (`project.config_checks`);
3. scenarios: conditions and set_variables expressions, python steps, run_scenario
   (`flows.validation`), and reporters: templates, gates, connections (`reporters.render`) —
   on the project, or, when the schema rejects the file, on the parts that validate alone
   (`project.sections`);
4. the templates outside reporters that a run renders in the sandbox (dataset paths and
   queries, model paths, store labels): attributes the sandbox would refuse.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from scenarist.errors import ConfigError, ConfigProblem
from scenarist.flows import template_checks
from scenarist.flows.validation import scenario_problems
from scenarist.project.config import Project, read_project
from scenarist.project.config_checks import format_location, with_lines
from scenarist.project.sections import partial_project
from scenarist.reporters.render import reporter_problems
from scenarist.triggers.validation import trigger_problems

#: (section, key) of the project-level templates a run renders with `project.config.render`
RENDERED = (("datasets", "path"), ("datasets", "sql"), ("models", "path"),
            ("evaluation_stores", "label"))


def validate_project(path: str | Path = ".") -> list[ConfigProblem]:
    """Every problem of the project at `path` (folder or scenarist.yaml); [] when it is valid."""
    return _validate(Path(path))[1]


def load_project(path: str | Path = ".") -> Project:
    """The project at `path`, checked as `validate_project` checks it; ConfigError carrying
    every problem when it has any."""
    project, problems = _validate(Path(path))
    if problems or project is None:
        raise ConfigError(problems)
    return project


def _validate(path: Path) -> tuple[Project | None, list[ConfigProblem]]:
    loaded = read_project(path)
    if loaded.raw is None:
        return None, with_lines(loaded.problems, loaded.lines)
    project = loaded.project or partial_project(loaded.raw, loaded.root, loaded.file)
    problems = [*loaded.problems, *scenario_problems(project), *reporter_problems(project),
                *(trigger_problems(loaded.project) if loaded.project else []),
                *rendered_problems(loaded.raw, str(loaded.file))]
    problems = with_lines(list(dict.fromkeys(problems)), loaded.lines)
    return (loaded.project if not problems else None), problems


def rendered_problems(raw: dict[str, Any], file: str) -> list[ConfigProblem]:
    """Refused attributes in the project-level templates (`RENDERED`). Their names are not
    checked: they come from run parameters (`--var`) as well as from the project; syntax
    errors are reported with the cross-references."""
    problems = []
    for section, key in RENDERED:
        entries = raw.get(section)
        for name, spec in (entries.items() if isinstance(entries, dict) else []):
            text = spec.get(key) if isinstance(spec, dict) else None
            if not isinstance(text, str) or "{" not in text:
                continue
            try:
                tree = _SANDBOX.parse(text)
            except TemplateSyntaxError:
                continue
            location = format_location((section, str(name), key))
            problems += [ConfigProblem(file, location, f"{message} (in {text!r})")
                         for message in template_checks.unsafe_problems(tree)]
    return problems


_SANDBOX = SandboxedEnvironment()
