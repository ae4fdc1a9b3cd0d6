"""What a polling trigger sees now: one `Observation` (subject, fingerprint, variables) per
thing it watches. Comparing them with what was recorded is `scenarist.triggers.poll`'s job.

    observe(project, trigger) -> list[Observation]

- `dataset_changed`, file: "<size>:<sha256>" of the bytes (re-saving the same bytes is no
  change); an fsspec URL: its ETag / version id / mtime as `info()` gives them. A templated
  path (`data/transactions_{{ quarter }}.parquet`) is one subject per matching file, named by
  the variables read from the file name ({"quarter": "2017Q4"}).
- `dataset_changed`, SQL dataset: the result of the trigger's `query` (else the dataset's rows).
- `sql_changed`: the query's result.
- `labels_ready`: nothing until the deployment's window is ready (the deployments' alert delay
  rule, `get_label_readiness`, or `labels_ratio` reached); then "<predictions>@<latest sample>",
  so one window fires once and new predictions make a new one.
- `python`: the function's dict of variables (None: nothing).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scenarist.errors import ConfigError, ConfigProblem, InputDataError
from scenarist.project.config import Project, TriggerSpec, render
from scenarist.triggers.specs import DatasetChanged, LabelsReady, PythonTrigger, SqlChanged

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]\w*)\s*\}\}")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Observation:
    """One watched thing as it is now."""

    subject: str  # "" for the whole source; "quarter=2017Q4" for one file of a templated path
    fingerprint: str
    variables: dict[str, Any] = field(default_factory=dict)  # the run's variables


def observe(project: Project, trigger: TriggerSpec) -> list[Observation]:
    """What `trigger` (a polling trigger) sees now."""
    spec = trigger.polling
    if isinstance(spec, DatasetChanged):
        return _dataset(project, spec)
    if isinstance(spec, SqlChanged):
        return [Observation("", _digest(_query(project, spec.connection, spec.query)))]
    if isinstance(spec, LabelsReady):
        return _labels(project, spec)
    if isinstance(spec, PythonTrigger):
        return _python(project, spec)
    raise ValueError(f"a {trigger.kind} trigger is not polled")


def path_template(path: str) -> tuple[str, re.Pattern[str], list[str]] | None:
    """(glob pattern, regex with a group per variable, variable names) of a templated path;
    None when the path has no "{{ var }}"."""
    names = _PLACEHOLDER.findall(path)
    if not names:
        return None
    parts = _PLACEHOLDER.split(path)  # text, name, text, name, …, text
    glob = "".join(part if i % 2 == 0 else "*" for i, part in enumerate(parts))
    regex, seen = "", set()
    for i, part in enumerate(parts):
        if i % 2 == 0:
            regex += re.escape(part)
        elif part in seen:
            regex += f"(?P={part})"
        else:
            regex += f"(?P<{part}>[^/]+?)"
            seen.add(part)
    return glob, re.compile(f"^{regex}$"), list(dict.fromkeys(names))


def _dataset(project: Project, spec: DatasetChanged) -> list[Observation]:
    dataset = project.datasets[spec.dataset]
    if dataset.sql is not None:
        assert dataset.connection is not None
        query = spec.query or render(dataset.sql, project.variables,
                                     location=f"datasets.{spec.dataset}.sql")
        return [Observation("", _digest(_query(project, dataset.connection, query)))]
    assert dataset.path is not None
    template = path_template(dataset.path)
    if template is None:
        location = _location(project, dataset.path)
        found = _file_fingerprint(location)
        return [Observation("", found)] if found else []
    glob, regex, _names = template
    observations = []
    for relative in _glob(project, glob):
        match = regex.match(relative)
        if match is None:
            continue
        variables = match.groupdict()
        found = _file_fingerprint(_location(project, relative))
        if found:
            subject = "&".join(f"{k}={v}" for k, v in sorted(variables.items()))
            observations.append(Observation(subject, found, variables))
    return observations


def _location(project: Project, path: str) -> str:
    return path if "://" in path else str(project.resolve_path(path))


def _glob(project: Project, pattern: str) -> list[str]:
    """Paths matching `pattern`, written as the pattern is (relative, or a URL)."""
    if "://" in pattern:
        import fsspec

        fs, _, _ = fsspec.get_fs_token_paths(pattern)
        protocol = pattern.split("://", 1)[0]
        return sorted(f"{protocol}://{p.split('://', 1)[-1]}" for p in fs.glob(pattern))
    return sorted(p.relative_to(project.root).as_posix() for p in project.root.glob(pattern))


def _file_fingerprint(location: str) -> str | None:
    """"<size>:<sha256>" of a local file, the ETag/version/mtime of a URL; None if absent."""
    if "://" not in location:
        path = Path(location)
        if not path.is_file():
            return None
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        return f"{path.stat().st_size}:{digest.hexdigest()}"
    import fsspec

    fs, _, (target,) = fsspec.get_fs_token_paths(location)
    try:
        info = fs.info(target)
    except FileNotFoundError:
        return None
    keys = ("ETag", "etag", "VersionId", "version_id", "generation", "md5Hash", "LastModified",
            "mtime", "last_modified", "created", "size")
    return _digest({k: str(info[k]) for k in keys if info.get(k) is not None})


def _query(project: Project, connection: str, query: str) -> list[list[Any]]:
    """The rows of `query` on a database connection of the project."""
    import sqlalchemy as sa
    from sqlalchemy import exc as sa_exc

    spec = project.connections[connection]
    engine = sa.create_engine(spec.resolved_url())
    try:
        with engine.connect() as conn:
            return [list(row) for row in conn.execute(sa.text(query))]
    except sa_exc.DBAPIError as exc:
        raise InputDataError(f"the trigger's query failed on connection {connection!r}: "
                             f"{str(exc.orig).strip() or type(exc.orig).__name__}") from exc
    finally:
        engine.dispose()


def _labels(project: Project, spec: LabelsReady) -> list[Observation]:
    deployment = labels_deployment(project, spec.deployment)
    start = end = None  # the deployments' default window: the last 7 days
    if spec.window:
        from datetime import datetime, timedelta, timezone

        from scenarist.deployments.durations import parse_duration

        now = datetime.now(timezone.utc)
        end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        start = end - parse_duration(spec.window)
    readiness = deployment.get_label_readiness(start, end)
    ready = readiness.ready or (
        spec.labels_ratio is not None and readiness.predictions > 0
        and readiness.labelled_ratio >= spec.labels_ratio)
    if not ready:
        return []
    latest = readiness.latest_sample_time.isoformat() if readiness.latest_sample_time else "-"
    return [Observation("", f"{readiness.predictions}@{latest}",
                        {"labelled_ratio": round(readiness.labelled_ratio, 6)})]


def labels_deployment(project: Project, reference: str) -> Any:
    """The Deployment a `labels_ready` trigger names: a store fed by a deployment, or the id
    of the deployment such a store monitors (on that store's connection)."""
    from scenarist.deployments.deployment import Deployment

    for name, store in project.evaluation_stores.items():
        if store.deployment is not None and reference in (name, store.deployment):
            connection = project.connections.get(store.connection)
            url = connection.resolved_url() if connection else None
            return Deployment.get(store.deployment, url=url)
    raise ConfigError([ConfigProblem(str(project.file or ""), "triggers", (
        f"labels_ready deployment {reference!r} is neither an evaluation store fed by a "
        "deployment nor the id of one"))])


def _python(project: Project, spec: PythonTrigger) -> list[Observation]:
    from scenarist.project.imports import import_function

    function = import_function(spec.function, project.root)
    returned = function(**({"params": spec.params} if spec.params else {}))
    if returned is None:
        return []
    if not isinstance(returned, dict):
        raise InputDataError(f"trigger function {spec.function} returned {returned!r}; return "
                             "None (no run) or a dict of variables (a run)")
    return [Observation("", _digest(returned), dict(returned))]


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
