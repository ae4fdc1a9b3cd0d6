"""Late labels (actuals): `log_labels(ids, labels)` stores them and keeps the rollups exact.

An id is matched against sample ids first, then against association ids (a label given by
association id applies to every prediction carrying it). Unknown ids are reported in the result,
known ones stored; a label logged again replaces the earlier one (a correction). Everything one
call writes — the labels and the rollup changes — is one transaction, and a rejected call
(a missing or repeated id, a label that is not a class of the model) writes nothing.

Rollups change by difference: a corrected row's old contribution is subtracted and its new one
added, per (hour, batch, model version): the labelled count and regression error sums in the
hourly table, and (predicted, actual, probability bin) counts with log-loss sums in the outcomes
table for classifiers. Binned probabilities are what AUC over rollups is computed from.

Probability bins are on the logit scale, LOGIT_BINS_PER_UNIT per unit over [-LOGIT_LIMIT,
LOGIT_LIMIT] (600 bins at most, narrowest where scores crowd near 0 and 1), so AUC over bins
is within about 10⁻³ of the row-level AUC; a row without probability has bin NO_PROBA.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, select, update

from scenarist.deployments.rollups import HOURLY_SUMS, lock_deployment, write_rollups
from scenarist.deployments.rows import hash_checked_ids, name_rows
from scenarist.errors import InputDataError
from scenarist.stores.database import database_errors
from scenarist.stores.deployment_tables import ROLLUP_KEY, outcomes, predictions
from scenarist.stores.prediction_log import upsert_add

if TYPE_CHECKING:
    from scenarist.deployments.deployment import Deployment

LOGIT_BINS_PER_UNIT = 20
LOGIT_LIMIT = 15.0
NO_PROBA = -1_000_000
EPSILON = np.finfo(np.float64).eps  # scikit-learn's mean_absolute_percentage_error floor
_CHUNK = 5_000
_ROW = ("sample_hash", "hour", "batch_key", "model_version", "prediction", "proba", "actual")


@dataclass(frozen=True)
class LabelResult:
    """What one `log_labels` call stored and which ids it did not know."""

    stored: int
    corrected: int
    unknown: list[str] = field(default_factory=list)


def log_labels(self: Deployment, sample_ids: Sequence[Any], labels: Sequence[Any]) -> LabelResult:
    """Store the actual outcome of each id (sample or association id); see the module doc."""
    self._require_active()
    texts, hashes = hash_checked_ids(sample_ids, "sample_ids")
    values = _label_values(self, labels, texts)
    with database_errors(self._engine, f"log labels of deployment {self.id}"), \
            self._engine.begin() as conn:
        lock_deployment(conn, self)
        rows = _rows(conn, self.key, predictions.c.sample_hash, hashes)
        rows["new"] = pd.Series(values, index=hashes).reindex(rows["sample_hash"]).to_numpy()
        known = np.isin(hashes, rows["sample_hash"].to_numpy())
        if (~known).any():
            by_association = _rows(conn, self.key, predictions.c.association_hash, hashes[~known])
            if len(by_association):
                lookup = pd.Series(values, index=hashes)
                by_association["new"] = lookup.reindex(by_association["association_hash"]
                                                       ).to_numpy()
                known |= np.isin(hashes, by_association["association_hash"].to_numpy())
                rows = _stack([rows, by_association.drop(columns="association_hash")])
        if len(rows):
            conn.execute(
                update(predictions).where(
                    predictions.c.deployment_key == self.key,
                    predictions.c.sample_hash == bindparam("h"),
                ).values(actual=bindparam("a")),
                [{"h": int(h), "a": float(a)} for h, a in zip(rows["sample_hash"], rows["new"],
                                                               strict=True)],
            )
            _update_rollups(conn, self, rows)
    return LabelResult(stored=int(len(rows)), corrected=int(rows["actual"].notna().sum()),
                       unknown=[str(t) for t in texts[~known]])


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate, leaving out empty frames (pandas warns on them)."""
    kept = [f for f in frames if len(f)]
    return pd.concat(kept, ignore_index=True) if kept else frames[0]


def _label_values(self: Deployment, labels: Sequence[Any], texts: np.ndarray) -> np.ndarray:
    array = np.asarray(labels.to_numpy() if hasattr(labels, "to_numpy") else labels)
    if array.ndim != 1 or len(array) != len(texts):
        raise InputDataError(f"{len(texts)} ids but labels of shape {array.shape}; pass one "
                             "label per id")
    if self.model.is_classifier:
        classes = list(self.model.classes or ())
        codes = pd.Categorical(array, categories=classes).codes
        if (codes < 0).any():
            raise InputDataError(f"{name_rows(texts, codes < 0, 'ids')} have a label that is not "
                                 f"a class of model {self.model.name!r} (classes {classes})")
        return codes.astype(np.float64)
    try:
        numbers = array.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InputDataError(f"regression labels must be numbers: {exc}") from exc
    if not np.isfinite(numbers).all():
        raise InputDataError(f"{name_rows(texts, ~np.isfinite(numbers), 'ids')} have a missing "
                             "or infinite label")
    return numbers


def _rows(conn: Any, key: int, column: Any, hashes: np.ndarray) -> pd.DataFrame:
    names = [*_ROW, "association_hash"] if column.name == "association_hash" else list(_ROW)
    found = []
    for begin in range(0, len(hashes), _CHUNK):
        chunk = [int(h) for h in hashes[begin:begin + _CHUNK]]
        found += conn.execute(select(*(predictions.c[c] for c in names)).where(
            predictions.c.deployment_key == key, column.in_(chunk))).all()
    return pd.DataFrame(found, columns=names).astype({"proba": float, "actual": float})


def _update_rollups(conn: Any, self: Deployment, rows: pd.DataFrame) -> None:
    old = rows[rows["actual"].notna()].assign(label=lambda f: f["actual"], sign=-1)
    new = rows.assign(label=rows["new"], sign=1)
    both = _stack([old, new])
    both["deployment_key"] = self.key
    sign = both["sign"].to_numpy()
    main = both[list(ROLLUP_KEY)].copy()
    main["labelled"] = sign
    if not self.model.is_classifier:
        y, p = both["label"].to_numpy(), both["prediction"].to_numpy()
        error = np.abs(y - p)
        main["abs_error_sum"] = sign * error
        main["sq_error_sum"] = sign * error ** 2
        main["ape_sum"] = sign * error / np.maximum(np.abs(y), EPSILON)
        main["actual_sum"] = sign * y
        main["actual_sq_sum"] = sign * y ** 2
    main = main.groupby(list(ROLLUP_KEY), as_index=False).sum()
    main = main.assign(**{c: 0 for c in HOURLY_SUMS if c not in main.columns}, max_ts=None)
    write_rollups(conn, (main, pd.DataFrame()))
    if self.model.is_classifier:
        _update_outcomes(conn, self, both, sign)


def proba_bins(proba: np.ndarray) -> np.ndarray:
    """Logit-scale bin of each probability (monotone in the probability)."""
    p = np.clip(proba, 1e-300, 1.0)
    logit = np.log(p) - np.log1p(-np.minimum(p, 1 - 1e-16))
    limited = np.clip(logit, -LOGIT_LIMIT, LOGIT_LIMIT)
    return np.floor(limited * LOGIT_BINS_PER_UNIT).astype(np.int64)


def _update_outcomes(conn: Any, self: Deployment, both: pd.DataFrame, sign: np.ndarray) -> None:
    frame = both[list(ROLLUP_KEY)].copy()
    frame["predicted"] = both["prediction"].astype(np.int64)
    frame["actual"] = both["label"].astype(np.int64)
    proba = both["proba"].to_numpy(dtype=float)
    has_proba = ~np.isnan(proba)
    frame["proba_bin"] = np.where(has_proba, proba_bins(np.nan_to_num(proba)), NO_PROBA)
    frame["count"] = sign
    loss = np.zeros(len(frame))
    if self.model.type == "binary" and has_proba.any():
        positive = list(self.model.classes or ()).index(self.model.positive_label)
        p = np.clip(proba, 1e-15, 1 - 1e-15)
        is_positive = frame["actual"].to_numpy() == positive
        loss = np.where(has_proba, -np.log(np.where(is_positive, p, 1 - p)), 0.0)
    frame["logloss_sum"] = sign * loss
    key = [*ROLLUP_KEY, "predicted", "actual", "proba_bin"]
    frame = frame.groupby(key, as_index=False).sum()
    upsert_add(conn, outcomes, frame, key, add=("count", "logloss_sum"))
