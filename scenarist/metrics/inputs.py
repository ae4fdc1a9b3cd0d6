"""Checking a reference and a current batch before any metric is computed.

Every problem names the column (and, for a bad value, the first offending row) and says what to
do, so a user mistake is an `InputDataError` with a useful message, never a numpy traceback from
deep inside a statistic.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from scenarist.errors import InputDataError

MIN_REFERENCE_ROWS = 2


def check_batch(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    features: Sequence[str],
    current_name: str = "current batch",
    reference_name: str = "reference",
) -> pd.DataFrame:
    """Validate both frames for `features`; return `current` with numeric columns made numeric.

    A current column holding numbers as text (e.g. from a CSV) is converted; one holding values
    that are not numbers where the reference is numeric is an error naming the first bad row.
    """
    if len(current) == 0:
        raise InputDataError(
            f"the {current_name} is empty (0 rows): nothing to evaluate. Check the input "
            "dataset and the variables that select it."
        )
    if len(reference) < MIN_REFERENCE_ROWS:
        raise InputDataError(
            f"the {reference_name} has {len(reference)} row(s); drift needs at least "
            f"{MIN_REFERENCE_ROWS} (a few hundred for meaningful results)."
        )
    for frame, name in ((reference, reference_name), (current, current_name)):
        missing = [f for f in features if f not in frame.columns]
        if missing:
            raise InputDataError(
                f"the {name} lacks model feature(s) {', '.join(map(repr, missing))}; "
                f"its columns are {', '.join(map(str, frame.columns))}. Add them or fix the "
                "model's `features:`."
            )
    current = current.copy(deep=False)
    for feature in features:
        ref_col = reference[feature]
        cur_col = current[feature]
        if is_numeric_dtype(ref_col) and not is_bool_dtype(ref_col):
            current[feature] = _as_numeric(cur_col, feature, current_name)
        for col, name in ((ref_col, reference_name), (current[feature], current_name)):
            if col.isna().all():
                raise InputDataError(
                    f"column {feature!r} of the {name} holds no values (all {len(col)} are "
                    "missing); drift cannot be measured on it. Fix the data or drop the feature "
                    "from the model's `features:`."
                )
    return current


def _as_numeric(column: pd.Series, feature: str, name: str) -> pd.Series:
    if is_numeric_dtype(column) and not is_bool_dtype(column):
        return column
    converted = pd.to_numeric(column, errors="coerce")
    bad = converted.isna() & column.notna()
    if bad.any():
        position = int(bad.to_numpy().argmax())
        raise InputDataError(
            f"column {feature!r} is numeric in the reference but row {position} of the {name} "
            f"holds {column.iloc[position]!r} ({int(bad.sum())} such value(s)); fix the data or "
            "cast the column."
        )
    return converted
