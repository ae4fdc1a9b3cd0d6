"""The project file, `scenarist.yaml`, as pydantic models; loading and rendering it.

    load_project(path)      -> Project, or ConfigError carrying every problem of the file
    read_project(path)      -> LoadedFile: raw YAML, line numbers, Project or None, problems
    render(template, vars)  -> str, "{{ var }}" in a Jinja2 sandbox with StrictUndefined

The problems of scenarios and reporters (conditions, templates: flows and reporters know them)
are added by `scenarist.validation`, which may import every layer; this module imports none
of them but their specs.

Every model forbids unknown keys and describes its fields. Relative paths (datasets, models,
SQLite files) resolve against `Project.root`, the folder of the project file. Connection URLs
may contain `${ENV_VAR}` or `${ENV_VAR:-default}`: they are resolved when used
(`Connection.resolved_url()`), never when the project is loaded, so a project validates
without its secrets.

Checks (`scenarist.checks.specs`), scenario steps (`scenarist.flows.specs`) and reporters
(`scenarist.reporters.specs`) are unions discriminated on `type`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jinja2
from jinja2 import StrictUndefined, meta
from jinja2.sandbox import SandboxedEnvironment
from pydantic import (
    BaseModel,
    ByteSize,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from scenarist.checks.specs import CheckSpec, NumericRangeCheckSpec  # noqa: F401 - re-exported
from scenarist.errors import ConfigError, ConfigProblem
from scenarist.flows.specs import StepSpec
from scenarist.project import config_checks as checks
from scenarist.project.secondary import SecondaryDatasetSpec
from scenarist.reporters.specs import ReporterSpec
from scenarist.triggers.specs import KINDS as TRIGGER_KINDS
from scenarist.triggers.specs import POLLING as POLLING_KINDS
from scenarist.triggers.specs import (
    DatasetChanged,
    EventTrigger,
    LabelsReady,
    PythonTrigger,
    SqlChanged,
)

PROJECT_FILE = "scenarist.yaml"

_STRICT = ConfigDict(extra="forbid")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")  # ${VAR}, ${VAR:-default}


class Connection(BaseModel):
    """A named connection: a SQLAlchemy `url` (databases, stores) or an SMTP server (mail)."""

    model_config = _STRICT

    url: str | None = Field(
        None,
        description="SQLAlchemy URL, e.g. sqlite:///.scenarist/store.db or "
        "postgresql+psycopg://user:${PGPASSWORD}@host/db; ${ENV_VAR} is resolved when used.",
    )
    host: str | None = Field(None, description="SMTP host of a mail connection.")
    port: int | str | None = Field(
        None, description="SMTP port (default 25); may be ${ENV_VAR:-1025}, resolved when used."
    )
    sender: str | None = Field(None, description="From address of mails sent through it.")
    username: str | None = Field(None, description="SMTP user; may be ${ENV_VAR}.")
    password: str | None = Field(
        None, description="SMTP password; write ${ENV_VAR}, never the secret itself."
    )
    starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    tls: bool = Field(False, description="Connect with implicit TLS (SMTPS).")

    _name: str = PrivateAttr("")
    _root: Path | None = PrivateAttr(None)
    _file: str = PrivateAttr("")

    @model_validator(mode="after")
    def _one_kind(self) -> Connection:
        mail = {k for k in ("host", "port", "sender", "username", "password") if getattr(self, k)}
        mail |= {k for k in ("starttls", "tls") if getattr(self, k)}
        if self.url is None and self.host is None:
            raise ValueError("a connection needs `url` (database) or `host` (mail server)")
        if self.url is not None and mail:
            raise ValueError(f"`url` cannot be combined with mail keys: {', '.join(sorted(mail))}")
        if self.starttls and self.tls:
            raise ValueError("choose one of `starttls` and `tls`")
        return self

    @field_validator("port")
    @classmethod
    def _port(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, str) and not _ENV_REF.fullmatch(value.strip()):
            raise ValueError("port is a number (1-65535) or ${ENV_VAR} / ${ENV_VAR:-1025}")
        if isinstance(value, int) and not 1 <= value <= 65535:
            raise ValueError("port is a number from 1 to 65535")
        return value

    @property
    def kind(self) -> Literal["sql", "mail"]:
        """"sql" for a `url` connection, "mail" for an SMTP server."""
        return "sql" if self.url is not None else "mail"

    def resolved_url(self) -> str:
        """The URL with `${ENV_VAR}` substituted and a relative SQLite path made absolute
        against the project root. Raises ConfigError naming the unset variable."""
        if self.url is None:
            raise ConfigError([self._problem("url", "this is a mail connection; it has no url")])
        url = self._resolve_env(self.url, "url")
        match = re.match(r"^(sqlite(?:\+\w+)?:///)(?!/)(.+)$", url)
        if match and self._root is not None and not match[2].startswith((":memory:", "file:")):
            url = f"{match[1]}{(self._root / match[2]).as_posix()}"
        return url

    def resolved(self, key: Literal["username", "password", "host", "sender"]) -> str | None:
        """A mail field with `${ENV_VAR}` substituted (None when not set)."""
        value = getattr(self, key)
        return None if value is None else self._resolve_env(value, key)

    def resolved_port(self) -> int | None:
        """The SMTP port with `${ENV_VAR}` substituted (None when not set)."""
        if not isinstance(self.port, str):
            return self.port
        text = self._resolve_env(self.port, "port").strip()
        if not text.isdigit() or not 1 <= int(text) <= 65535:
            raise ConfigError([self._problem(
                "port", f"{self.port} is {text!r}, not a port number (1-65535)")])
        return int(text)

    def _resolve_env(self, text: str, key: str) -> str:
        def substitute(match: re.Match[str]) -> str:
            value = os.environ.get(match[1])
            if not value and match[2] is not None:  # ${VAR:-default}: unset or empty
                return match[2]
            if value is None:
                raise ConfigError([self._problem(
                    key, f"environment variable {match[1]} is not set; export it before running "
                    "(connection strings read ${VAR} when used)",
                )])
            return value

        return _ENV_REF.sub(substitute, text)

    def _problem(self, key: str, message: str) -> ConfigProblem:
        where = f"connections.{self._name}.{key}" if self._name else key
        return ConfigProblem(file=self._file, location=where, message=message)


class DatasetSpec(BaseModel):
    """A named table: a CSV/Parquet file (`path`) or a SQL query (`sql` + `connection`)."""

    model_config = _STRICT

    path: str | None = Field(
        None, description='File path, relative to the project folder; may use "{{ var }}".'
    )
    format: Literal["csv", "parquet"] | None = Field(
        None, description="File format; inferred from the suffix (.csv, .parquet, .pq) if unset."
    )
    sql: str | None = Field(None, description='SQL query; may use "{{ var }}".')
    connection: str | None = Field(None, description="Name of the connection the query runs on.")
    columns: list[str] | None = Field(None, description="Keep only these columns, in this order.")
    read_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra keyword arguments for pandas.read_csv, pyarrow.parquet.read_table or "
        "pandas.read_sql_query.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> DatasetSpec:
        if (self.path is None) == (self.sql is None):
            raise ValueError("a dataset needs exactly one of `path` (file) and `sql` (query)")
        if self.sql is not None and not self.connection:
            raise ValueError("a `sql` dataset needs `connection` (the name of a connection)")
        if self.path is not None and self.connection:
            raise ValueError("`connection` applies to `sql` datasets only")
        if self.path is not None and self.format is None and self.file_format is None:
            raise ValueError(
                f"cannot tell the format of {self.path!r} from its suffix; "
                "add `format: csv` or `format: parquet`"
            )
        if self.sql is not None and self.format is not None:
            raise ValueError("`format` applies to `path` datasets only")
        return self

    @property
    def file_format(self) -> Literal["csv", "parquet"] | None:
        """The format of a file dataset: `format`, else from the suffix; None for SQL."""
        if self.format is not None or self.path is None:
            return self.format
        suffixes = [s.lower() for s in Path(self.path).suffixes]
        if ".parquet" in suffixes or ".pq" in suffixes:
            return "parquet"
        if ".csv" in suffixes:
            return "csv"
        return None


class ModelSpec(BaseModel):
    """A model artifact: a joblib/pickle file of an sklearn-style estimator."""

    model_config = _STRICT

    path: str = Field(description="joblib/pickle file, relative to the project folder.")
    target: str = Field(description="Name of the target (label) column.")
    type: Literal["binary", "multiclass", "regression"] = Field(description="Prediction type.")
    features: list[str] | None = Field(
        None, description="Input columns in training order; default: estimator.feature_names_in_."
    )
    positive_label: Any = Field(1, description="Class counted as positive (binary models).")


class CustomMetricSpec(BaseModel):
    """A team's own metric: `fn(current, reference, predictions, labels)` returning a number or
    a {feature: number} dict (`scenarist.metrics.custom`)."""

    model_config = _STRICT

    python: str = Field(description='The function as "module:function", imported from the '
                        'project folder first, e.g. "mymetrics:approval_rate".')

    @model_validator(mode="after")
    def _reference(self) -> CustomMetricSpec:
        from scenarist.checks.specs import is_function_reference

        if not is_function_reference(self.python):
            raise ValueError(f'python {self.python!r} is not "module:function", e.g. '
                             '"mymetrics:approval_rate"')
        return self


class EvaluationStoreSpec(BaseModel):
    """An evaluation store: the history of evaluations of one model against one reference.

    Either fed by datasets (`model`, `reference`, `input`: a build_evaluation step evaluates the
    input batch) or by a deployment's logged predictions (`deployment`: an evaluate_deployment
    step evaluates a window or monitoring batch of it)."""

    model_config = _STRICT

    model: str | None = Field(None, description="Name of the evaluated model.")
    reference: str | None = Field(None, description="Dataset the model was trained on.")
    input: str | None = Field(None, description="Dataset of the batch evaluated at each run.")
    deployment: str | None = Field(
        None, description="Instead of model/reference/input: the id of a deployment whose "
        "logged predictions feed the store."
    )
    label: str = Field(
        "{{ now }}", description='Label of each evaluation, a template such as "{{ quarter }}".'
    )
    connection: str = Field("store", description="Connection (a database url) holding the store.")
    drift_method: str = Field("auto", description="How drift is measured; auto picks per type.")
    drift_threshold: float | None = Field(
        None, ge=0, le=1, description="Per-feature drift threshold; default: the method's own."
    )
    max_rows_per_side: int = Field(
        50_000, gt=0, description="Rows sampled from reference and input for drift metrics."
    )
    features: list[str] | None = Field(None, description="Monitor only these features.")
    performance: Literal["auto", "required", "off"] = Field(
        "auto",
        description="Performance metrics: auto = when the batch has labels, required = labels "
        "missing is an error, off = never.",
    )
    segment_by: list[str] = Field(
        default_factory=list, description="Columns (additional data beside the features, e.g. "
        "device) whose values are segments: every metric is also computed per segment.")
    segment_top_n: int = Field(
        10, ge=1, description="Segments per column: its most frequent values in the reference; "
        "the others are grouped as <column>=other.")
    segment_min_rows: int = Field(
        100, ge=1, description="A segment with fewer rows (current or reference) has no metrics "
        "(EMPTY), the reason kept in the evaluation's details.")
    metrics: dict[str, CustomMetricSpec] = Field(
        default_factory=dict, description="Custom metrics by name, e.g. approval_rate: "
        "{python: mymetrics:approval_rate}; stored, charted and checked like the built-ins.")
    secondary_datasets: list[SecondaryDatasetSpec] = Field(
        default_factory=list, description="Datasets joined to the input (and to a reference "
        "lacking their columns) by key before metrics are computed.")
    keep_rows: bool = Field(
        True, description="Keep each evaluated batch (and its predictions) as a Parquet file "
        "under .scenarist/snapshots/, so `scenarist export` returns the exact rows.")
    min_rows: int = Field(
        30, ge=1, description="Fewer rows (labeled rows for performance, non-missing values "
        "per feature for drift) give metrics with no value and the reason 'insufficient data'."
    )
    correction: Literal["none", "bonferroni", "benjamini_hochberg"] = Field(
        "benjamini_hochberg", description="Multiple-testing correction of the per-feature drift "
        "verdicts of p-value tests (ks, chi2, z); distance verdicts are not corrected."
    )
    streaming: bool = Field(
        False, description="Evaluate the Parquet reference and input in column groups and row "
        "chunks within memory_limit (large batches): per-feature drift, data quality and "
        "profiles, no model predictions. `scenarist store evaluate --stream` does it once.")
    memory_limit: ByteSize = Field(
        ByteSize(2 * 1024**3), gt=0, description='Memory for one column group of a streaming '
        'evaluation, e.g. "2GB" or "512MiB" (per Dask worker with task_runner: dask).')
    task_runner: Literal["default", "dask"] = Field(
        "default", description="Where a streaming evaluation's column groups run: default = "
        "one after the other in this process; dask = on a Dask cluster (dask_address).")
    dask_address: str | None = Field(
        None, description="Scheduler of an existing Dask cluster, e.g. tcp://scheduler:8786; "
        "unset with task_runner: dask starts a temporary local cluster.")

    @model_validator(mode="after")
    def _streaming_settings(self) -> EvaluationStoreSpec:
        if self.dask_address and self.task_runner != "dask":
            raise ValueError("`dask_address` needs `task_runner: dask`")
        if self.streaming and self.deployment is not None:
            raise ValueError("a store fed by `deployment` cannot be `streaming`: streaming "
                             "evaluates Parquet datasets")
        return self

    @model_validator(mode="after")
    def _one_source(self) -> EvaluationStoreSpec:
        datasets = {"model": self.model, "reference": self.reference, "input": self.input}
        if self.deployment is not None:
            given = [k for k, v in datasets.items() if v is not None]
            if given:
                raise ValueError(f"a store fed by `deployment` takes no {', '.join(given)}")
            if self.secondary_datasets:
                raise ValueError("a store fed by `deployment` takes no `secondary_datasets`: "
                                 "join them at ingest with the deployment's "
                                 "update_secondary_dataset_config")
        elif missing := [k for k, v in datasets.items() if v is None]:
            raise ValueError(f"missing {', '.join(missing)}: a store needs `model`, `reference` "
                             "and `input` (datasets), or `deployment`")
        return self


# Check specs (numeric_range, value_in_set, relative_change, python) live in
# scenarist/checks/specs.py; `CheckSpec` is their union, discriminated on `type`.


class TriggerSpec(BaseModel):
    """When a scenario runs: a schedule (`cron`, `interval_seconds`), a change polled every
    `every` (`dataset_changed`, `sql_changed`, `labels_ready`, `python`) or a Prefect `event`
    (`scenarist.triggers.specs` describes each)."""

    model_config = _STRICT

    name: str | None = Field(None, description="Trigger name (the triggerName variable).")
    cron: str | None = Field(None, description='Cron expression, e.g. "0 6 1 */3 *".')
    interval_seconds: int | None = Field(None, gt=0, description="Run every N seconds.")
    timezone: str | None = Field(None, description="IANA time zone of the cron expression.")
    dataset_changed: DatasetChanged | None = Field(
        None, description="Run when a dataset's source changes (a new file of a templated path "
        "starts a run with the variables read from its name).")
    sql_changed: SqlChanged | None = Field(None, description="Run when a query's result changes.")
    labels_ready: LabelsReady | None = Field(
        None, description="Run when a deployment's window has its labels (alert delay rule).")
    python: PythonTrigger | None = Field(
        None, description="Run when a project function returns variables (not None).")
    event: EventTrigger | None = Field(None, description="Run when a Prefect event matches.")

    @model_validator(mode="after")
    def _one_schedule(self) -> TriggerSpec:
        given = [kind for kind in TRIGGER_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            others = ", ".join(f"`{k}`" for k in TRIGGER_KINDS[2:])
            got = f"got {', '.join(given)}" if given else "got none"
            raise ValueError(f"a trigger needs exactly one of `cron` and `interval_seconds` "
                             f"(schedules) or of {others}; {got}")
        if self.cron is not None:
            _check_cron(self.cron)
        if self.timezone is not None and self.kind not in ("cron", "interval_seconds"):
            raise ValueError("`timezone` applies to `cron` and `interval_seconds` triggers only")
        return self

    @property
    def kind(self) -> str:
        """"cron", "interval_seconds", "dataset_changed", …, "event": the trigger's type."""
        return next(kind for kind in TRIGGER_KINDS if getattr(self, kind) is not None)

    @property
    def polling(self) -> DatasetChanged | SqlChanged | LabelsReady | PythonTrigger | None:
        """The spec of a polling trigger (looked at every `every`), else None."""
        return getattr(self, self.kind) if self.kind in POLLING_KINDS else None


class ScenarioSpec(BaseModel):
    """An ordered list of steps with triggers, reporters and variables: one Prefect flow."""

    model_config = _STRICT

    variables: dict[str, Any] = Field(default_factory=dict, description="Scenario variables.")
    triggers: list[TriggerSpec] = Field(default_factory=list, description="Schedules.")
    auto_triggers: bool = Field(True, description="false pauses every trigger (a manual run "
                                "still works); `scenarist scenarios pause|resume` switches it.")
    steps: list[StepSpec] = Field(default_factory=list, description="Steps, run in order.")
    reporters: list[ReporterSpec] = Field(default_factory=list, description="Sent at the end.")


class Project(BaseModel):
    """A monitoring project: the contents of `scenarist.yaml`."""

    model_config = _STRICT

    project: str = Field(min_length=1, description="Project name.")
    variables: dict[str, Any] = Field(default_factory=dict, description="Project variables.")
    connections: dict[str, Connection] = Field(default_factory=dict, description="By name.")
    datasets: dict[str, DatasetSpec] = Field(default_factory=dict, description="By name.")
    models: dict[str, ModelSpec] = Field(default_factory=dict, description="By name.")
    evaluation_stores: dict[str, EvaluationStoreSpec] = Field(
        default_factory=dict, description="By name."
    )
    checks: dict[str, CheckSpec] = Field(default_factory=dict, description="By name.")
    scenarios: dict[str, ScenarioSpec] = Field(default_factory=dict, description="By name.")
    root: Path = Field(
        default_factory=Path.cwd, exclude=True,
        description="Folder of the project file (not in YAML); relative paths resolve here.",
    )
    file: Path | None = Field(None, exclude=True, description="The project file (not in YAML).")

    @model_validator(mode="after")
    def _bind_connections(self) -> Project:
        for name, connection in self.connections.items():
            connection._name, connection._root = name, self.root
            connection._file = str(self.file or "")
        return self

    def resolve_path(self, path: str | Path) -> Path:
        """`path` made absolute against the project root."""
        return self.root / path


def render(
    template: str, variables: Mapping[str, Any], *, location: str = "", file: str | Path = ""
) -> str:
    """Render "{{ var }}" in a Jinja2 sandbox; an undefined variable is a ConfigError naming
    the variable and the template. `location` (a key path) and `file` go on the problem."""
    try:
        return _ENV.from_string(template).render(dict(variables))
    except jinja2.UndefinedError as exc:
        missing = sorted(template_variables(template) - set(variables)) or [str(exc)]
        known = ", ".join(sorted(variables)) or "none"
        message = (f"undefined variable {', '.join(missing)} in template {template!r}; "
                   f"defined variables: {known}")
    except jinja2.TemplateError as exc:
        message = f"cannot render template {template!r}: {exc}"
    raise ConfigError([ConfigProblem(file=str(file), location=location, message=message)])


def template_variables(template: str) -> set[str]:
    """Names a template reads from its variables (raises jinja2.TemplateSyntaxError)."""
    return set(meta.find_undeclared_variables(_ENV.parse(template)))


def scenario_spec(project: Project, scenario: str):
    """The scenario's spec; ConfigError listing the defined scenarios when unknown."""
    spec = project.scenarios.get(scenario)
    if spec is None:
        known = ", ".join(project.scenarios) or "none"
        raise ConfigError(
            [ConfigProblem(str(project.file or ""), "scenarios",
                           f"unknown scenario {scenario!r}; defined scenarios: {known}")]
        )
    return spec


def load_project(path: str | Path = ".") -> Project:
    """Load a project: `path` is its folder or its `scenarist.yaml`.

    Raises ConfigError carrying every problem of the file itself (YAML syntax, schema, unknown
    references, missing files), each with the file and the dotted key path. The problems of
    its scenarios and reporters (conditions, templates) are checked on top by
    `scenarist.validation.load_project` / `validate_project`, which runs use."""
    loaded = read_project(Path(path))
    problems = checks.with_lines(loaded.problems, loaded.lines)
    if problems or loaded.project is None:
        raise ConfigError(problems)
    return loaded.project


@dataclass(frozen=True)
class LoadedFile:
    """A project file read and validated against the schema: `raw` is its YAML mapping (None
    when it could not be read), `project` the model (None when the schema rejects it),
    `problems` without line numbers (`config_checks.with_lines(problems, lines)` adds them)."""

    file: Path
    root: Path
    raw: dict[str, Any] | None
    lines: dict[checks.Loc, int]
    project: Project | None
    problems: list[ConfigProblem]


def read_project(path: Path) -> LoadedFile:
    """The project file at `path` (folder or file) read, validated and cross-referenced."""
    file = path / PROJECT_FILE if path.is_dir() else path
    root = file.resolve().parent
    if not file.is_file():
        hint = (f"no {PROJECT_FILE} in {path}; create one or pass the file path"
                if path.is_dir() else f"{path} does not exist; create it or pass its folder")
        return LoadedFile(file, root, None, {}, None, [ConfigProblem(str(file), "", hint)])
    raw, lines, problems = checks.read_yaml(file)
    if raw is None:
        return LoadedFile(file, root, None, lines, None, problems)
    project: Project | None = None
    for internal in ("root", "file"):  # set by the loader, never read from YAML
        if internal in raw:
            message = checks.unknown_key_message(internal, Project)
            problems.append(ConfigProblem(str(file), internal, message))
    raw = {k: v for k, v in raw.items() if k not in ("root", "file")}
    try:
        project = Project.model_validate({**raw, "root": root, "file": file})
    except ValidationError as exc:
        problems += checks.pydantic_problems(exc, file, Project, raw)
    problems += checks.cross_reference_problems(raw, file, root)
    return LoadedFile(file, root, raw, lines, project, problems)


def _check_cron(expression: str) -> None:
    try:
        from cronsim import CronSim, CronSimError
    except ImportError:  # pragma: no cover - cronsim comes with Prefect
        if len(expression.split()) not in (5, 6):
            raise ValueError(f"cron {expression!r} needs 5 fields") from None
        return
    from datetime import datetime

    try:
        CronSim(expression, datetime(2000, 1, 1))
    except CronSimError as exc:
        raise ValueError(f"invalid cron expression {expression!r}: {exc}") from None


_ENV = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True)
