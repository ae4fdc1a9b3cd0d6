"""Wall time of one whole evaluation (every metric of DESIGN.md), stage by stage.

    .venv/bin/python benchmarks/evaluation.py [--rows 100000 1000000]

Data: the fraud example (9 features: 6 numeric, 3 categorical) with Q1 as reference and the
drifted Q4 as the current batch, both of `rows` rows; the model is trained on 20,000 Q1 rows.
Prints per-stage seconds and the total, plus the same per-feature drift computed by plain
per-column scipy (ks_2samp + wasserstein_distance) as a reference point.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

from scenarist.demo.data import FEATURES, NUMERIC_FEATURES, TARGET, generate_quarter, train_model
from scenarist.metrics.evaluation import compute_evaluation
from scenarist.project.models import model_from_estimator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    model = model_from_estimator(
        train_model(generate_quarter("2017Q1", 20_000)), target=TARGET, type="binary"
    )
    print(f"{'rows':>10} {'stage':<36} {'seconds':>8}")
    for rows in args.rows:
        reference, current = generate_quarter("2017Q1", rows), generate_quarter("2017Q4", rows)
        marks: list[tuple[str, float]] = []

        def mark(stage: str, marks: list[tuple[str, float]] = marks) -> None:
            marks.append((stage, time.perf_counter()))

        started = time.perf_counter()
        computed = compute_evaluation(model, current, reference, on_stage=mark)
        total = time.perf_counter() - started
        marks.append(("end", time.perf_counter()))
        for (stage, t0), (_next, t1) in zip(marks, marks[1:], strict=False):
            print(f"{rows:>10} {stage:<36} {t1 - t0:>8.2f}")
        print(f"{rows:>10} {'total (' + str(len(computed.values)) + ' metric values)':<36} "
              f"{total:>8.2f}")
        t0 = time.perf_counter()
        for name in NUMERIC_FEATURES:
            ref, cur = reference[name].to_numpy(float), current[name].to_numpy(float)
            stats.ks_2samp(ref, cur)
            stats.wasserstein_distance(ref, cur) / np.std(ref)
        print(f"{rows:>10} {'plain scipy KS+Wasserstein, numeric only':<36} "
              f"{time.perf_counter() - t0:>8.2f}")
    print(f"features: {len(FEATURES)}")


if __name__ == "__main__":
    main()
