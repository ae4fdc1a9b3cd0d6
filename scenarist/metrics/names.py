"""The names of the metrics scenarist stores, without computing any: what `scenarist validate`
checks `evaluation.metrics.X` in a template against.

A metric key is `name` for a dataset-level metric (`data_drift`, `auc`), `name[feature]` for a
per-feature one (`feature_drift[card_age]`) and `name.lower` / `name.upper` for the bounds of a
95% interval (`auc.lower`). The lists below are what `metrics/` produces (tests/metrics/
test_validate_metric_names.py computes evaluations of every model type and drift method and
fails when a name is missing here); a store's custom metrics (`metrics:` in its spec) are added
by the caller. Pure constants: importing this module costs nothing.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection

#: per-column drift statistics (drift_stats.py), also stored per feature
DRIFT_STATISTICS = ("ks_statistic", "ks_pvalue", "wasserstein", "psi", "js_distance",
                    "chi2_pvalue", "chi2_homogeneity_pvalue", "z_pvalue")
#: realized performance (performance.py), by model type
PERFORMANCE = ("accuracy", "precision", "recall", "f1", "auc", "logloss", "f1_macro", "rmse",
               "mae", "r2", "mape")
#: performance estimated without labels (cbpe.py: `estimated_<name>`, `..._error`)
ESTIMATED = ("accuracy", "precision", "recall", "f1", "auc")

DATASET_METRICS = frozenset({
    "row_count", "missing_share", "drift_share", "n_drifted_features", "labeled_rows",
    "data_drift", "drift_model_accuracy", "drift_model_pvalue",
    *PERFORMANCE,
    *(f"estimated_{name}" for name in ESTIMATED),
    *(f"estimated_{name}_error" for name in ESTIMATED),
    *(f"{output}_{suffix}" for output in ("prediction", "target")
      for suffix in ("drift", "drifted", *DRIFT_STATISTICS)),
    # stored by evaluations made before the intervals were renamed to <metric>.lower/.upper
    "data_drift_ci_low", "data_drift_ci_high",
    "drift_model_accuracy_ci_low", "drift_model_accuracy_ci_high",
})
FEATURE_METRICS = frozenset({
    "feature_drift", "drifted", "adjusted_pvalue", "drift_model_importance", "missing_share",
    "unseen_category_share", "out_of_range_share", *DRIFT_STATISTICS,
})
INTERVAL_SUFFIXES = (".lower", ".upper")

_KEY = re.compile(r"^(?P<name>[^\[\]]+?)(?P<bound>\.lower|\.upper)?(?:\[(?P<feature>.*)\])?$")


def is_known_metric(key: str, custom: Collection[str] = ()) -> bool:
    """Whether scenarist (or one of the `custom` metrics) can store a metric under `key`."""
    match = _KEY.match(key)
    if match is None:
        return False
    name = match["name"]
    if name in custom:
        return True
    if match["feature"] is not None:
        return name in FEATURE_METRICS and match["bound"] is None
    return name in DATASET_METRICS


def closest_metric(key: str, custom: Collection[str] = ()) -> str | None:
    """The known metric name nearest to a misspelt `key` (difflib), or None."""
    match = _KEY.match(key)
    name = match["name"] if match else key
    pool = (FEATURE_METRICS if match and match["feature"] is not None else DATASET_METRICS)
    close = difflib.get_close_matches(name, sorted({*pool, *custom}), n=1, cutoff=0.6)
    return close[0] if close else None
