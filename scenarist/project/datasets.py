"""Reading a project's datasets — CSV, Parquet or SQL — with variables.

    read_dataset(project, "transactions_batch", {"quarter": "2017Q4"}) -> pandas.DataFrame

Paths and queries are Jinja2 templates rendered in the sandbox with StrictUndefined
(`scenarist.project.config.render`); the variables are the project's `variables` overridden by
the ones given. SQL parameters are rendered *into the query text*: the values come from the trusted
project file and from run parameters set by whoever runs the scenario, never from the data or
from end users. Quote string values in the template (`WHERE quarter = '{{ quarter }}'`).

Errors: an unknown dataset or connection, a template with an undefined variable, an unset
`${ENV_VAR}` or an invalid URL is a ConfigError; a missing, unreadable or corrupt file, a failed
query and an unreachable database are InputDataErrors whose message names the dataset, the
rendered path or connection, and the variables used.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from scenarist.errors import ConfigError, ConfigProblem, InputDataError
from scenarist.project.config import DatasetSpec, Project, render, template_variables


def read_dataset(
    project: Project, name: str, variables: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """The rows of dataset `name`, rendered with project variables overridden by `variables`."""
    spec = dataset_spec(project, name)
    values = {**project.variables, **(variables or {})}
    if spec.sql is not None:
        frame = _read_sql(project, name, spec, values)
    else:
        frame = _read_file(project, name, spec, values)
    return _select(frame, spec.columns, name)


def dataset_spec(project: Project, name: str) -> DatasetSpec:
    """The spec of dataset `name`; ConfigError listing the defined datasets when unknown."""
    spec = project.datasets.get(name)
    if spec is None:
        defined = ", ".join(project.datasets) or "none"
        raise ConfigError([ConfigProblem(_file(project), "datasets",
                                         f"unknown dataset {name!r}; defined datasets: {defined}")])
    return spec


def _read_file(project: Project, name: str, spec: DatasetSpec, values: dict[str, Any]
               ) -> pd.DataFrame:
    assert spec.path is not None
    rendered = render(spec.path, values, location=f"datasets.{name}.path", file=_file(project))
    path = project.resolve_path(rendered)
    used = _used(spec.path, values)
    if not path.exists():
        raise InputDataError(f"dataset {name!r}: {rendered} does not exist{used}; "
                             f"looked in {project.root}")
    fmt = spec.file_format
    try:
        if fmt == "parquet":
            return _read_parquet(path, spec)
        return pd.read_csv(path, **spec.read_options)
    except TypeError as exc:  # an option the reader does not take
        raise ConfigError([ConfigProblem(_file(project), f"datasets.{name}.read_options",
                                         f"invalid read option for {fmt}: {exc}")]) from exc
    except (OSError, ValueError, UnicodeDecodeError, pa.ArrowException) as exc:
        # pandas' ParserError/EmptyDataError and pyarrow's ArrowInvalid are ValueErrors
        raise InputDataError(f"dataset {name!r}: cannot read {rendered}{used} as {fmt}: "
                             f"{type(exc).__name__}: {exc}") from exc


def _read_parquet(path: Path, spec: DatasetSpec) -> pd.DataFrame:
    if spec.columns:
        try:  # read only the wanted columns; on a miss, read all and let _select say which
            return pq.read_table(path, columns=spec.columns, **spec.read_options).to_pandas()
        except (pa.ArrowInvalid, KeyError):
            pass
    return pq.read_table(path, **spec.read_options).to_pandas()


def _read_sql(project: Project, name: str, spec: DatasetSpec, values: dict[str, Any]
              ) -> pd.DataFrame:
    assert spec.sql is not None and spec.connection is not None
    where = _file(project)
    connection = project.connections.get(spec.connection)
    if connection is None or connection.kind != "sql":
        sql_names = ", ".join(n for n, c in project.connections.items() if c.kind == "sql")
        raise ConfigError([ConfigProblem(where, f"datasets.{name}.connection",
                                         f"unknown database connection {spec.connection!r}; "
                                         f"defined database connections: {sql_names or 'none'}")])
    query = render(spec.sql, values, location=f"datasets.{name}.sql", file=where)
    url = connection.resolved_url()
    try:
        engine = sa.create_engine(url)
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError) as exc:
        raise ConfigError([ConfigProblem(where, f"connections.{spec.connection}.url",
                                         f"invalid database url: {exc}")]) from exc
    shown = engine.url.render_as_string(hide_password=True)
    _check_sqlite_file(engine.url, spec.connection)
    try:
        try:
            conn = engine.connect()
        except sa_exc.DBAPIError as exc:
            raise InputDataError(f"cannot reach the database of connection {spec.connection!r} "
                                 f"({shown}): {_db_message(exc)}") from exc
        with conn:
            try:
                return pd.read_sql_query(query, conn, **spec.read_options)
            except TypeError as exc:
                raise ConfigError([ConfigProblem(where, f"datasets.{name}.read_options",
                                                 f"invalid read option for sql: {exc}")]) from exc
            except sa_exc.DBAPIError as exc:
                raise InputDataError(
                    f"dataset {name!r}: the query failed on connection {spec.connection!r}"
                    f"{_used(spec.sql, values)}: {_db_message(exc)}"
                ) from exc
    finally:
        engine.dispose()


def _check_sqlite_file(url: sa.URL, connection: str) -> None:
    """Reading must not create an empty SQLite file where the user expected their data."""
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if not database.startswith("file:") and not Path(database).exists():
        raise InputDataError(f"the SQLite database of connection {connection!r} does not exist: "
                             f"{database}")


def _select(frame: pd.DataFrame, columns: list[str] | None, name: str) -> pd.DataFrame:
    if columns is None:
        return frame
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputDataError(f"dataset {name!r} has no column {', '.join(map(repr, missing))} "
                             f"listed in `columns`; it has: {', '.join(map(str, frame.columns))}")
    return frame.loc[:, columns]


def _used(template: str, values: Mapping[str, Any]) -> str:
    """" (quarter=2017Q4)": the variables a template read, for error messages."""
    names = sorted(template_variables(template) & set(values))
    return f" ({', '.join(f'{n}={values[n]}' for n in names)})" if names else ""


def _db_message(exc: sa_exc.DBAPIError) -> str:
    return str(exc.orig).strip() or type(exc.orig).__name__


def _file(project: Project) -> str:
    return str(project.file or project.root)
