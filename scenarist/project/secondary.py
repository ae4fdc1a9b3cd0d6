"""Secondary datasets (DataRobot's secondary dataset config): columns joined to incoming rows by
a key before any metric is computed.

    evaluation_stores:
      fraud_MES:
        secondary_datasets:
          - {dataset: merchants, key: [merchant_id], columns: [merchant_risk], on_missing: report}

    joined, report = join_secondary(rows, merchants, spec)

The join is a left join that keeps every row and its order. A key absent from the secondary
dataset is never dropped silently: `on_missing: report` (the default) keeps the row with the
joined columns missing and reports the count and up to five example keys (in the evaluation's
details, `secondary_datasets.<dataset>`); `on_missing: error` stops with that report as an
InputDataError. A secondary dataset whose key is not unique is an error (the join would
multiply rows); so is a joined column the rows already have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from scenarist.errors import InputDataError

if TYPE_CHECKING:  # the spec is read by `validate`, which needs no pandas
    import pandas as pd

EXAMPLES = 5


class SecondaryDatasetSpec(BaseModel):
    """A project dataset joined to incoming rows by `key` before metrics are computed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: str = Field(description="Name of the project dataset holding the extra columns.")
    key: list[str] = Field(min_length=1, description="Key column(s) in both the rows and the "
                           "secondary dataset, e.g. [merchant_id].")
    columns: list[str] | None = Field(
        None, description="Columns to add (default: every column but the key).")
    on_missing: Literal["report", "error"] = Field(
        "report", description="A row whose key the secondary dataset lacks: report = keep it "
        "with the columns missing and report the count and examples; error = stop.")

    @field_validator("key", mode="before")
    @classmethod
    def _one_key(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


def secondary_table(secondary: pd.DataFrame, spec: SecondaryDatasetSpec) -> pd.DataFrame:
    """The key and joined columns of `secondary`; InputDataError when a key or column is absent
    or a key repeats (the join would multiply rows)."""
    name = spec.dataset
    _require_keys(secondary, spec, f"secondary dataset {name!r}")
    columns = spec.columns or [c for c in secondary.columns if c not in spec.key]
    unknown = [c for c in columns if c not in secondary.columns]
    if unknown:
        raise InputDataError(f"secondary dataset {name!r} has no column(s) "
                             f"{', '.join(map(repr, unknown))}; its columns are "
                             f"{', '.join(map(str, secondary.columns))}")
    table = secondary[[*spec.key, *columns]]
    duplicated = table.duplicated(spec.key, keep=False)
    if duplicated.any():
        examples = _examples(table.loc[duplicated, spec.key])
        raise InputDataError(f"secondary dataset {name!r} has {int(duplicated.sum())} rows with "
                             f"a repeated key {spec.key} (e.g. {examples}); a key must identify "
                             "one row, or the join would multiply rows")
    return table


def join_secondary(rows: pd.DataFrame, secondary: pd.DataFrame, spec: SecondaryDatasetSpec,
                   *, side: str = "rows") -> tuple[pd.DataFrame, dict[str, Any]]:
    """`rows` with the spec's columns of `secondary` joined on its key, and what happened
    ({rows, matched, missing_keys, examples, columns}). `side` names `rows` in errors."""
    import pandas as pd

    name = spec.dataset
    _require_keys(rows, spec, side)
    table = secondary_table(secondary, spec)
    columns = [c for c in table.columns if c not in spec.key]
    clashing = [c for c in columns if c in rows.columns]
    if clashing:
        raise InputDataError(f"the {side} already has column(s) {', '.join(map(repr, clashing))}"
                             f" of secondary dataset {name!r}; list the columns to add with "
                             "`columns:`")
    left, right = _comparable(rows[spec.key]), _comparable(table[spec.key])
    index = pd.MultiIndex.from_frame(right) if len(spec.key) > 1 else pd.Index(right.iloc[:, 0])
    wanted = pd.MultiIndex.from_frame(left) if len(spec.key) > 1 else pd.Index(left.iloc[:, 0])
    position = index.get_indexer(wanted)
    missing = position < 0
    joined = rows.copy(deep=False)
    for column in columns:
        values = table[column].reset_index(drop=True)
        taken = values.reindex(position).reset_index(drop=True)  # -1 → missing
        taken.index = rows.index
        joined[column] = taken
    report = {"rows": len(rows), "matched": int((~missing).sum()),
              "missing_keys": int(missing.sum()), "examples": _examples(rows.loc[missing,
                                                                                  spec.key]),
              "columns": list(columns), "key": list(spec.key)}
    if missing.any() and spec.on_missing == "error":
        raise InputDataError(
            f"{report['missing_keys']} of {len(rows)} row(s) of the {side} have a key "
            f"{spec.key} that secondary dataset {name!r} does not have (e.g. "
            f"{report['examples']}); add those keys to {name!r}, or set `on_missing: report` to "
            "keep the rows with its columns missing")
    return joined, report


def _require_keys(frame: pd.DataFrame, spec: SecondaryDatasetSpec, where: str) -> None:
    absent = [k for k in spec.key if k not in frame.columns]
    if absent:
        raise InputDataError(f"key column(s) {', '.join(map(repr, absent))} of secondary "
                             f"dataset {spec.dataset!r} are not in the {where}; its columns are "
                             f"{', '.join(map(str, frame.columns))}")


def _comparable(keys: pd.DataFrame) -> pd.DataFrame:
    """Key values as text, so 17 (from Parquet) matches "17" (from a CSV)."""
    return keys.apply(lambda column: column.map(
        lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)))


def _examples(keys: pd.DataFrame) -> list[Any]:
    distinct = keys.drop_duplicates().head(EXAMPLES)
    if keys.shape[1] == 1:
        return [_plain(v) for v in distinct.iloc[:, 0]]
    return [[_plain(v) for v in row] for row in distinct.itertuples(index=False)]


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def join_project_datasets(project: Any, specs: list[SecondaryDatasetSpec],
                          current: pd.DataFrame, reference: pd.DataFrame,
                          variables: dict[str, Any]
                          ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Join a store's secondary datasets (read from `project` with `variables`) to the input
    batch, and to the reference when it lacks their columns; returns both frames and the
    reports by dataset ({"input": ..., "reference": ...})."""
    from scenarist.project.datasets import read_dataset

    reports: dict[str, Any] = {}
    for spec in specs:
        secondary = read_dataset(project, spec.dataset, variables)
        current, on_input = join_secondary(current, secondary, spec, side="input batch")
        report = {"input": on_input}
        added = spec.columns or [c for c in secondary.columns if c not in spec.key]
        if any(c not in reference.columns for c in added):
            reference, report["reference"] = join_secondary(reference, secondary, spec,
                                                            side="reference")
        reports[spec.dataset] = report
    return current, reference, reports
