"""Rendering reporter templates, and checking them before any run.

Templates are Jinja, rendered in a `SandboxedEnvironment` with `StrictUndefined` (HTML ones with
autoescape). A template file is looked up in the project folder, then its `templates/` folder,
then scenarist's built-in templates (`scenarist/reporters/templates/`), so `body_template:
drift_warning.txt.j2` finds the project's own file first. Filters: `fmt` (a number to 4
significant digits, "-" for none) and `bounds` ({"soft_max": 0.45} → "soft_max=0.45").

    render_content(spec, root, variables)  -> RenderedContent (subject, body, html)
    render_recovery(spec, root, variables) -> the "back to OK" message of alert hygiene
    sample_variables(project, scenario)    -> the variables of a made-up run, for validation
    reporter_problems(project)             -> ConfigProblems: missing files, syntax errors,
                                              undefined variables, bad JSON, unknown connection

Names are checked twice: statically on each template's syntax tree, every branch
(`scenarist.flows.template_checks`: undefined names, `evaluation.metrics.X` against the metric
names), then by rendering it against the sample run (filters, attribute errors at run time).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from scenarist.errors import ConfigProblem, ScenaristError
from scenarist.flows import template_checks
from scenarist.flows.template_checks import custom_metric_names
from scenarist.project.config_checks import format_location
from scenarist.reporters.specs import (
    SPECIAL_ATTACHMENTS,
    MailReporterSpec,
    ReporterOptions,
    WebhookReporterSpec,
)

BUILTIN_TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_MAIL_BODY = "mail_body.txt.j2"
RECOVERY_MAIL = "recovery.txt.j2"
RECOVERY_WEBHOOK = "webhook_recovery.json.j2"


class RenderError(ScenaristError, ValueError):
    """A reporter template that cannot be found, parsed or rendered; names the field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


@dataclass(frozen=True)
class RenderedContent:
    """A reporter's rendered templates (webhooks: `body` is the JSON payload)."""

    body: str
    subject: str | None = None
    html: str | None = None


def fmt(value: Any) -> str:
    """A value for a message: numbers to 4 significant digits, "-" for None/NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def fmt_bounds(bounds: Mapping[str, Any] | None) -> str:
    """{"soft_max": 0.45, "hard_max": 0.6} → "soft_max=0.45, hard_max=0.6"."""
    return ", ".join(f"{k}={fmt(v)}" for k, v in (bounds or {}).items() if v is not None)


@functools.lru_cache(maxsize=64)
def environment(root: Path | None, html: bool = False) -> SandboxedEnvironment:
    """The sandbox templates of the project at `root` render in."""
    paths = [str(root), str(root / "templates")] if root is not None else []
    env = SandboxedEnvironment(
        loader=FileSystemLoader([*paths, str(BUILTIN_TEMPLATES)]),
        undefined=StrictUndefined,
        autoescape=html,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = fmt
    env.filters["bounds"] = fmt_bounds
    return env


def template_fields(spec: ReporterOptions) -> list[tuple[str, str | None, str | None, bool]]:
    """(field, inline template, template file, is HTML) of every template a reporter renders."""
    if isinstance(spec, MailReporterSpec):
        body_file = spec.body_template or (None if spec.body is not None else DEFAULT_MAIL_BODY)
        fields = [("subject", spec.subject, None, False),
                  ("body_template" if spec.body is None else "body", spec.body, body_file, False)]
        if spec.html is not None or spec.html_template is not None:
            fields.append(("html" if spec.html is not None else "html_template",
                           spec.html, spec.html_template, True))
        return fields
    if isinstance(spec, WebhookReporterSpec):
        payload_file = spec.payload_template or (
            None if spec.payload is not None else f"webhook_{spec.preset}.json.j2")
        name = "payload" if spec.payload is not None else "payload_template"
        return [(name, spec.payload, payload_file, False)]
    raise TypeError(f"unknown reporter spec {type(spec).__name__}")


def render_template(root: Path | None, field: str, inline: str | None, file: str | None,
                    variables: Mapping[str, Any], *, html: bool = False) -> str:
    """Render one template; RenderError saying what is wrong and where."""
    env = environment(root, html)
    try:
        template = env.from_string(inline) if inline is not None else env.get_template(file or "")
        return template.render(dict(variables))
    except jinja2.TemplateNotFound:
        where = ", ".join(f"{p}" for p in ([root, root / "templates"] if root else []))
        raise RenderError(field, f"template file {file!r} not found in {where or '-'} or "
                          f"the built-in templates ({', '.join(builtin_templates())})") from None
    except jinja2.TemplateSyntaxError as exc:
        at = f"{exc.name or 'inline template'}, line {exc.lineno}"
        raise RenderError(field, f"template syntax error ({at}): {exc.message}") from None
    except jinja2.UndefinedError as exc:
        known = ", ".join(sorted(variables))
        raise RenderError(field, f"{exc.message} (in {file or repr(inline)}); "
                          f"defined variables: {known}") from None
    except Exception as exc:  # noqa: BLE001 - a template may raise anything (a bad filter arg)
        raise RenderError(field, f"cannot render {file or repr(inline)}: "
                          f"{type(exc).__name__}: {exc}") from None


def render_content(spec: ReporterOptions, root: Path | None,
                   variables: Mapping[str, Any]) -> RenderedContent:
    """Every template of `spec` rendered; RenderError on the first that fails."""
    rendered: dict[str, str] = {}
    for field, inline, file, html in template_fields(spec):
        rendered[field] = render_template(root, field, inline, file, variables, html=html)
    if isinstance(spec, WebhookReporterSpec):
        [(field, payload)] = rendered.items()
        try:
            json.loads(payload)
        except ValueError as exc:
            raise RenderError(field, f"the payload is not valid JSON ({exc}); "
                              "write values with `| tojson`") from None
        return RenderedContent(body=payload)
    subject = " ".join(rendered["subject"].split())  # one line, whatever the template did
    body = rendered.get("body", rendered.get("body_template", ""))
    html_body = rendered.get("html", rendered.get("html_template"))
    return RenderedContent(body=body, subject=subject, html=html_body)


def render_recovery(spec: ReporterOptions, root: Path | None,
                    variables: Mapping[str, Any]) -> RenderedContent:
    """A "back to OK" message (alert hygiene): built-in templates `recovery.txt.j2` (mail; a
    project may override it with its own file of that name) and `webhook_recovery.json.j2`
    (shaped by the webhook's preset), over `hygiene.recovery_variables`."""
    if isinstance(spec, WebhookReporterSpec):
        payload = render_template(root, "notify_recovery", None, RECOVERY_WEBHOOK,
                                  {**variables, "preset": spec.preset})
        return RenderedContent(body=payload)
    recovered = ", ".join(variables["alert"]["recovered"])
    body = render_template(root, "notify_recovery", None, RECOVERY_MAIL, variables)
    return RenderedContent(body=body, subject=f"[scenarist] {variables['scenarioName']}: back "
                           f"to OK ({recovered})")


def render_path(root: Path | None, path: str, variables: Mapping[str, Any]) -> str:
    """An attachment path with its "{{ var }}" rendered."""
    if "{" not in path:
        return path
    return render_template(root, "attach", path, None, variables)


def builtin_templates() -> list[str]:
    return sorted(p.name for p in BUILTIN_TEMPLATES.glob("*.j2"))


class _SampleMetrics(dict):
    """Metrics of the sample evaluation: any metric name reads as a number (the names were
    checked statically before rendering)."""

    def __missing__(self, key: str) -> float:
        return 0.5


def sample_variables(project: Any, scenario: str) -> dict[str, Any]:
    """The variables of a made-up run of `scenario` that warned on one check: what
    `scenarist validate` renders every template against."""
    from scenarist.flows.context import step_variable
    from scenarist.flows.specs import SetVariablesStep

    spec = project.scenarios[scenario]
    now = datetime.now(timezone.utc)
    variables: dict[str, Any] = {**project.variables, **spec.variables}
    for step in spec.steps:
        variables[step_variable(step.name)] = "WARNING"
        if isinstance(step, SetVariablesStep):
            variables.update(step.values)
            variables.update({name: "sample" for name in step.expressions})
    check = {"name": "sample check", "outcome": "WARNING", "metric": "data_drift",
             "feature": None, "value": 0.5, "bounds": {"soft_max": 0.45},
             "message": "data_drift = 0.5 > soft_max 0.45", "evaluation_label": "sample",
             "checked_at": now, "store": "sample_store"}
    variables.update(
        scenarioName=scenario,
        scenarioRunId="00000000-0000-0000-0000-000000000000",
        scenarioRunURL="http://127.0.0.1:4200/runs/flow-run/00000000",
        triggerName="manual",
        outcome="WARNING",
        checks=[check],
        alert={"kind": "alert", "escalated": [], "entered": ["sample check"], "recovered": []},
        evaluation={"store": "sample_store", "label": "sample", "row_count": 1000,
                    "metrics": _SampleMetrics(data_drift=0.5), "top_drifted_features": []},
    )
    return variables


def reporter_problems(project: Any) -> list[ConfigProblem]:
    """Every reporter problem found without running: template files missing, syntax errors,
    variables the run does not define, payloads that are not JSON, unknown or non-mail
    connections, duplicate reporter names."""
    from scenarist.project.sections import Unchecked

    file = str(project.file or "")
    problems: list[ConfigProblem] = []
    metrics = custom_metric_names(project)
    for scenario, scenario_spec in project.scenarios.items():
        if not scenario_spec.reporters:
            continue
        variables = sample_variables(project, scenario)
        seen: set[str] = set()
        for i, spec in enumerate(scenario_spec.reporters):
            if isinstance(spec, Unchecked):
                continue
            loc = ("scenarios", scenario, "reporters", i)

            def problem(field: str | tuple, message: str, loc: tuple = loc) -> None:
                parts = field if isinstance(field, tuple) else (field,)
                problems.append(ConfigProblem(file, format_location((*loc, *parts)), message))

            if spec.name in seen:
                problem("name", f"duplicate reporter name {spec.name!r}; the name is part of "
                        "each message's idempotency key, so it must be unique in its scenario")
            seen.add(spec.name)
            static = static_problems(spec, project.root, variables, metrics)
            for field, message in static:
                problem(field, message)
            try:
                if not static:  # else rendering the sample reports the same names again
                    render_content(spec, project.root, variables)
                if spec.notify_recovery:
                    recovered = {**variables, "alert": {**variables["alert"], "kind": "recovery",
                                                        "recovered": ["sample check"]},
                                 "checks": [{**variables["checks"][0], "outcome": "OK",
                                             "alerted": "WARNING"}]}
                    render_recovery(spec, project.root, recovered)
            except RenderError as exc:
                problem(exc.field, exc.reason)
            if isinstance(spec, MailReporterSpec):
                _mail_problems(project, spec, variables, problem)
    return problems


def static_problems(spec: ReporterOptions, root: Path | None, variables: Mapping[str, Any],
                    metrics: set[str]) -> list[tuple[str, str]]:
    """(field, message) of every name a template of `spec` reads that the run does not define,
    in any branch (`scenarist.flows.template_checks`); templates that cannot be found or
    parsed are left to rendering, which says so."""
    found = []
    for field, inline, file, html in template_fields(spec):
        env = environment(root, html)
        try:
            source = inline if inline is not None else env.loader.get_source(env, file or "")[0]
            tree = env.parse(source)
        except jinja2.TemplateError:
            continue
        where = file or repr(inline)
        known = {*variables, *env.globals}
        found += [(field, f"{message} (in {where})")
                  for message in template_checks.problems(tree, known, custom_metrics=metrics)]
    return found


def _mail_problems(project: Any, spec: MailReporterSpec, variables: Mapping[str, Any],
                   problem: Any) -> None:
    connection = project.connections.get(spec.connection)
    if connection is None:
        mail = [n for n, c in project.connections.items() if c.kind == "mail"]
        problem("connection", f"unknown mail connection {spec.connection!r}; "
                f"mail connections: {', '.join(mail) or 'none (add one with host: and sender:)'}")
    elif connection.kind != "mail":
        problem("connection", f"connection {spec.connection!r} is a database; a mail "
                "connection (host:, port:, sender:) is needed")
    elif not (spec.sender or connection.sender):
        problem("sender", f"no sender: set `sender` on the reporter or on connection "
                f"{spec.connection!r}")
    for j, item in enumerate(spec.attach):
        if item in SPECIAL_ATTACHMENTS:
            continue
        try:
            render_path(project.root, item, variables)
        except RenderError as exc:
            problem(("attach", j), exc.reason)
