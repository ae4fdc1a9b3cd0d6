"""What segments and custom metrics cost an evaluation, and what the secondary-config lookup
costs each `log_batch` call.

    python benchmarks/segments.py [--rows 20000] [--repeat 3]

One evaluation of `rows` current rows against `rows` reference rows (2 numeric features, a
logistic model): all rows only; with one custom metric; with `segment_by: [device]` (3 values,
55/40/5%). Then the deployment ingest path's lookup of the active secondary dataset config
(one indexed SELECT on SQLite) timed alone over 1000 calls. Best of `repeat`, wall clock.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from scenarist.deployments import Deployment
from scenarist.deployments.secondary import get_secondary_dataset_config
from scenarist.metrics.segments import SegmentOptions, compute_with_segments
from scenarist.project.models import model_from_estimator


def frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    device = rng.choice(["mobile", "desktop", "tablet"], size=n, p=[0.55, 0.40, 0.05])
    x1 = rng.normal(0, 1, n) + np.where(device == "tablet", shift, 0.0)
    x2 = rng.normal(0, 1, n)
    y = (x1 + x2 + rng.normal(0, 1, n) > 0).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "device": device, "y": y})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    reference, current = frame(args.rows, 1), frame(args.rows, 2, shift=2.5)
    model = model_from_estimator(
        LogisticRegression().fit(reference[["x1", "x2"]], reference.y),
        target="y", type="binary", name="m", features=["x1", "x2"])
    custom = {"approval_rate": lambda c, r, p, labels: float(np.mean(p == 0))}

    def best(**extra) -> float:
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            compute_with_segments(model, current, reference, **extra)
            times.append(time.perf_counter() - started)
        return min(times)

    print(f"evaluation of {args.rows} rows, best of {args.repeat}:")
    print(f"  all rows only                    {best():6.2f} s")
    print(f"  + one custom metric              {best(custom_metrics=custom):6.2f} s")
    print(f"  + segment_by [device] (3 values) "
          f"{best(segments=SegmentOptions(by=('device',))):6.2f} s")

    with tempfile.TemporaryDirectory() as folder:
        dep = Deployment.create(model, "bench", reference=reference.head(1000),
                                url=f"sqlite:///{folder}/s.db", data_dir=f"{folder}/data")
        started = time.perf_counter()
        for _ in range(1000):
            get_secondary_dataset_config(dep)
        per_call = (time.perf_counter() - started)  # seconds per 1000 calls = ms per call
        print(f"secondary config lookup per log_batch call: {per_call:.3f} ms")


if __name__ == "__main__":
    main()
