"""Bulk writes of the prediction log: id hashing, prediction rows, additive rollup upserts.

    sample_hashes(ids)                          -> int64 array (stable 64-bit SipHash of the text)
    insert_predictions(conn, columns)           one bulk statement per chunk, in the caller's
                                                transaction: binary COPY on PostgreSQL (one
                                                multi-row INSERT up to 100 rows: one round
                                                trip), executemany of a multi-row INSERT on SQLite
    upsert_add(conn, table, rows, key, add=…)   INSERT … ON CONFLICT DO UPDATE SET c = c + new

Ids are compared as text: the sample id 123 and "123" are the same id. A sample id is stored as
`pandas.util.hash_array` of its text (SipHash-2-4 with pandas' fixed key, stable across
processes); 0 is reserved for "no association id". Two different ids hash alike with
probability about n²/2⁶⁵ (≈3·10⁻⁶ for ten million ids of one deployment); such a pair would be
reported as a duplicate id, never silently merged.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import Connection, Table, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from scenarist.stores.deployment_tables import predictions

DEFAULT_CHUNK_SIZE = 10_000
ROWS_PER_STATEMENT = 100  # SQLite: rows per multi-row INSERT …
MAX_BOUND = 900  # … and at most this many bound values (SQLite before 3.32 allows 999)
SMALL_INSERT = 100  # PostgreSQL: rows written with one multi-row INSERT rather than COPY
_PG_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_PG_TYPES = {"i2": ">i2", "i4": ">i4", "i8": ">i8", "f8": ">f8"}
# prediction-row columns in insert order, with their binary COPY type
PREDICTION_COLUMNS: dict[str, str] = {
    "deployment_key": "i4",
    "sample_hash": "i8",
    "ts": "f8",
    "hour": "i4",
    "batch_key": "i4",
    "model_version": "i4",
    "prediction": "f8",
    "proba": "f8",
    "warning": "i2",
    "association_hash": "i8",
}


def id_texts(values: Any) -> np.ndarray:
    """Ids as an object array of str; None/NaN stay None."""
    array = values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else values
    if isinstance(array, np.ndarray) and array.dtype == object and \
            pd.api.types.infer_dtype(array, skipna=True) == "string":
        return array  # already str (and None/NaN): nothing to convert
    try:
        texts = pa.array(array, from_pandas=True).cast(pa.string())
        return texts.to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        return np.array([None if _missing(v) else str(v) for v in array], dtype=object)


def hash_texts(texts: np.ndarray) -> np.ndarray:
    """64-bit hashes (int64, never 0) of an object array of str without None."""
    texts = np.asarray(texts, dtype=object)
    if len(texts) == 0:
        return np.empty(0, dtype=np.int64)
    hashed = pd.util.hash_array(texts, categorize=False).view(np.int64)
    hashed[hashed == 0] = 1
    return hashed


def sample_hashes(ids: Any) -> np.ndarray:
    return hash_texts(id_texts(ids))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def insert_predictions(
    conn: Connection, columns: Mapping[str, np.ndarray], *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> None:
    """Insert prediction rows (arrays of PREDICTION_COLUMNS; `proba` may be absent = NULL)."""
    names = [c for c in PREDICTION_COLUMNS if c in columns]
    n = len(columns["sample_hash"])
    if n == 0:
        return
    # rows in primary-key order: the index grows by appends within the call, not random inserts
    hashes = np.asarray(columns["sample_hash"])
    if n > 1 and not (hashes[1:] > hashes[:-1]).all():
        order = np.argsort(hashes)
        columns = {name: _reordered(np.asarray(columns[name]), order) for name in names}
    if conn.dialect.name != "postgresql":
        _executemany(conn, names, columns, n, chunk_size, "?")
    elif n <= SMALL_INSERT:  # one INSERT: one round trip (COPY takes two)
        _executemany(conn, names, columns, n, chunk_size, "%s")
    else:
        _copy_binary(conn, names, columns, n, chunk_size)


def _reordered(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    if values[0] == values[-1] and (values == values[0]).all():
        return values  # a constant column (deployment, batch, version …) needs no gather
    return values[order]


def _copy_binary(conn: Connection, names: Sequence[str], columns: Mapping[str, np.ndarray],
                 n: int, chunk_size: int) -> None:
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for name in names:
        fields += [(f"{name}__len", ">i4"), (name, _PG_TYPES[PREDICTION_COLUMNS[name]])]
    record = np.dtype(fields)
    sql = f"COPY {predictions.name} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(sql) as copy:
            copy.write(_PG_SIGNATURE)
            for begin in range(0, n, chunk_size):
                end = min(begin + chunk_size, n)
                rows = np.empty(end - begin, dtype=record)
                rows["count"] = len(names)
                for name in names:
                    rows[f"{name}__len"] = np.dtype(_PG_TYPES[PREDICTION_COLUMNS[name]]).itemsize
                    rows[name] = columns[name][begin:end]
                copy.write(rows.tobytes())
    finally:
        cursor.close()


def _executemany(conn: Connection, names: Sequence[str], columns: Mapping[str, np.ndarray],
                 n: int, chunk_size: int, placeholder: str) -> None:
    # A column with one value in the whole call (deployment, batch, model version, often the
    # warning flag and association id) is written as a literal: fewer values to bind per row.
    # Rows go ROWS_PER_STATEMENT at a time in one multi-row VALUES: half the time of one
    # statement per row (fewer statement resets, fewer Python tuples).
    constant = {name for name in names if n > 1 and PREDICTION_COLUMNS[name][0] == "i"
                and columns[name][0] == columns[name][-1]
                and (columns[name] == columns[name][0]).all()}
    bound = [name for name in names if name not in constant]
    row = "(" + ", ".join(str(int(columns[name][0])) if name in constant else placeholder
                          for name in names) + ")"
    head = f"INSERT INTO {predictions.name} ({', '.join(names)}) VALUES "
    per = max(1, min(ROWS_PER_STATEMENT, MAX_BOUND // max(1, len(bound))))
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for begin in range(0, n, chunk_size):
            end = min(begin + chunk_size, n)
            block = np.empty((end - begin, len(bound)), dtype=object)
            for j, name in enumerate(bound):
                block[:, j] = columns[name][begin:end].tolist()  # Python ints and floats
            full = (end - begin) // per * per
            if full:
                cursor.executemany(head + ", ".join([row] * per),
                                   block[:full].reshape(-1, per * len(bound)).tolist())
            if full < end - begin:
                rest = block[full:]
                cursor.execute(head + ", ".join([row] * len(rest)), rest.ravel().tolist())
    finally:
        cursor.close()


def upsert_add(
    conn: Connection,
    table: Table,
    rows: pd.DataFrame | list[dict[str, Any]],
    key: Sequence[str],
    *,
    add: Sequence[str],
    greatest: Sequence[str] = (),
) -> None:
    """Insert `rows`; on a key conflict add `add` columns and keep the max of `greatest` ones."""
    if len(rows) == 0:
        return
    records = (rows if isinstance(rows, list)  # records as they are (small rollups)
               else rows.astype(object).where(rows.notna(), None).to_dict("records"))
    columns = tuple(records[0])
    sql, names = _upsert_sql(conn.dialect, table, columns, tuple(key), tuple(add),
                             tuple(greatest))
    if names is None:
        conn.exec_driver_sql(sql, [{c: r[c] for c in columns} for r in records])
    else:
        conn.exec_driver_sql(sql, [tuple(r[c] for c in names) for r in records])


_UPSERTS: dict[tuple[Any, ...], tuple[str, tuple[str, ...] | None]] = {}


def _upsert_sql(dialect: Any, table: Table, columns: tuple[str, ...], key: tuple[str, ...],
                add: tuple[str, ...], greatest: tuple[str, ...]
                ) -> tuple[str, tuple[str, ...] | None]:
    """The upsert's SQL, compiled once per shape (compiling it cost more than running it), and
    its positional parameter names (None: named parameters)."""
    cache_key = (dialect.name, table.name, columns, key, add, greatest)
    found = _UPSERTS.get(cache_key)
    if found is None:
        postgres = dialect.name == "postgresql"
        statement = pg_insert(table) if postgres else sqlite_insert(table)
        excluded = statement.excluded
        updates: dict[str, Any] = {c: table.c[c] + excluded[c] for c in add}
        biggest = func.greatest if postgres else func.max  # SQLite's 2-argument max is scalar
        for c in greatest:
            updates[c] = biggest(func.coalesce(table.c[c], excluded[c]), excluded[c])
        statement = statement.on_conflict_do_update(index_elements=list(key), set_=updates)
        compiled = statement.compile(dialect=dialect, column_keys=list(columns))
        names = tuple(compiled.positiontup) if compiled.positional else None
        found = _UPSERTS[cache_key] = (str(compiled), names)
    return found
