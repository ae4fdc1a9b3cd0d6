"""CBPE: how close performance estimated without labels comes to the realized value.

    python benchmarks/cbpe.py [--seeds 200] [--rows 5000]

Each seed draws a reference and a current batch of `rows` rows where P(y = 1 | x) is one fixed
logistic function of three features and only the features shift (covariate shift: the current
means move by (0.8, −0.5, 0.3), which moves the positive rate by ~0.2). A logistic regression
fitted on the reference is calibrated; an "overconfident" copy (the same ranking, logits × 3) is
not. For both, `scenarist.metrics.cbpe` estimates accuracy and AUC on the current batch from the
probabilities (calibration fitted on the labelled reference, as evaluations do) and the error
against the realized value from the labels is summarised: mean |error|, 95th percentile, max.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score

from scenarist.metrics.cbpe import estimate_performance, fit_calibration

SHIFT = np.array([0.8, -0.5, 0.3])


def population(n: int, shift, rng) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(size=(n, 3)) + shift
    logit = 1.5 * x[:, 0] - x[:, 1] + 0.5 * x[:, 2] - 0.3
    return x, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)


def one_seed(seed: int, rows: int) -> dict[str, tuple[float, float]]:
    rng = np.random.default_rng(seed)
    x_ref, y_ref = population(rows, 0.0, rng)
    x_cur, y_cur = population(rows, SHIFT, rng)
    model = LogisticRegression().fit(x_ref, y_ref)
    scores = {
        "calibrated": (model.predict_proba(x_ref)[:, 1], model.predict_proba(x_cur)[:, 1]),
        "overconfident": tuple(1 / (1 + np.exp(-3 * model.decision_function(x)))
                               for x in (x_ref, x_cur)),
    }
    errors = {}
    for name, (reference, current) in scores.items():
        predicted = current >= 0.5
        realized = (accuracy_score(y_cur, predicted), roc_auc_score(y_cur, current))
        for mode, calibration in (("raw", None), ("cbpe", fit_calibration(reference, y_ref == 1,
                                                                           random_state=seed))):
            estimate = estimate_performance(current, predicted, calibration)
            errors[f"{name}/{mode}"] = (estimate["accuracy"] - realized[0],
                                        estimate["auc"] - realized[1])
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--rows", type=int, default=5_000)
    args = parser.parse_args()
    started = time.perf_counter()
    runs = [one_seed(seed, args.rows) for seed in range(args.seeds)]
    print(f"{args.seeds} seeds x {args.rows} rows a side, covariate shift {SHIFT.tolist()}")
    print(f"{'model / probabilities':<28}{'metric':<10}{'mean |err|':>11}{'p95 |err|':>11}"
          f"{'max |err|':>11}")
    for key in runs[0]:
        for i, metric in enumerate(("accuracy", "auc")):
            error = np.abs([run[key][i] for run in runs])
            print(f"{key:<28}{metric:<10}{error.mean():>11.4f}{np.quantile(error, 0.95):>11.4f}"
                  f"{error.max():>11.4f}")
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
