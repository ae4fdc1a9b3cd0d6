"""What the prediction and monitoring endpoints answer: rows of predictions, JSON-ready values.

    sample_ids(n)                      fresh ids for the rows of one request
    warnings(served, values, proba)    the prediction-warning flag of each row
    answer_rows(served, ids, …)        per row: prediction, class probabilities, warning, id
    clean(value)                       NaN/inf → None, numpy scalars → Python, datetimes → ISO
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime
from typing import Any

import numpy as np

from scenarist.server.serving import Served


def sample_ids(n: int) -> list[str]:
    prefix = secrets.token_hex(10)
    return [f"{prefix}-{i}" for i in range(n)]


def warnings(served: Served, values: np.ndarray, probabilities: np.ndarray | None
              ) -> np.ndarray:
    if served.warning_bounds is None:
        return np.zeros(len(values), dtype=bool)
    lower, upper = served.warning_bounds
    output = values if served.model.type == "regression" else probabilities
    if output is None:
        return np.zeros(len(values), dtype=bool)
    output = np.asarray(output, dtype=float)
    return (output < lower) | (output > upper)


def answer_rows(served: Served, sample_ids: list[str], values: np.ndarray,
          probabilities: np.ndarray | None, warnings: np.ndarray) -> list[dict[str, Any]]:
    model = served.model
    predictions = values.tolist()
    flags = warnings.tolist()
    rows: list[dict[str, Any]] = []
    if probabilities is not None and model.type == "binary":
        classes = list(model.classes or ())
        other = next(c for c in classes if c != model.positive_label)
        for i, p in enumerate(np.asarray(probabilities, dtype=float).tolist()):
            rows.append({"row_id": i, "sample_id": sample_ids[i], "prediction": predictions[i],
                         "prediction_values": [{"label": model.positive_label, "value": p},
                                               {"label": other, "value": 1 - p}],
                         "prediction_warning": flags[i]})
        return rows
    table = np.asarray(probabilities).tolist() if probabilities is not None else None
    for i in range(len(predictions)):
        row: dict[str, Any] = {"row_id": i, "sample_id": sample_ids[i],
                               "prediction": predictions[i], "prediction_warning": flags[i]}
        if table is not None:
            row["prediction_values"] = [{"label": c, "value": v}
                                        for c, v in zip(model.classes or (), table[i],
                                                        strict=True)]
        rows.append(row)
    return rows


def clean(value: Any) -> Any:
    """JSON-ready: NaN/inf → None, numpy scalars → Python, datetimes → ISO 8601."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return value
