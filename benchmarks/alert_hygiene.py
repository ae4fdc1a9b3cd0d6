"""How many messages a year of weekly monitoring sends, with and without alert hygiene.

    python benchmarks/alert_hygiene.py [--seeds 50] [--weeks 52] [--features 20] [--noise 0.02]

Each seed generates a year of weekly evaluations of a store with `features` per-feature PSI
values: noise around 0.10 most weeks, and three drift episodes (3–6 weeks, a third of the
features each) in which each hit feature's PSI sits at its own level between 0.15 and 0.35 —
around the check bounds (soft_max 0.2, hard_max 0.3) — moving `noise` from week to week, so
a feature near a bound flickers between outcomes as it does in production. One scenario runs the
`features` checks every week; `scenarist.operations.backtesting` replays it (the same pure
functions as `scenarist checks backtest`) for three reporters of the same scenario:

    every_run                 scenarist's default: a message on every run that is not SUCCESS
    once_per_state            a message when a check enters a new WARNING/ERROR level
    once_per_state + escalate_after 3 + notify_recovery   … and "back to OK" messages

Prints, for the first seed, the messages per month, and over all seeds the mean messages per
year of each reporter, and how many of the episodes each one reported (an episode is reported
when at least one message was sent during it: hygiene must not turn a drift into a silent miss).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from scenarist.operations.backtesting import Backtest, replay, replay_alerts
from scenarist.operations.checking import resolve_checks
from scenarist.project.config import Project
from scenarist.stores.evaluation import Evaluation

START = datetime(2026, 1, 5, tzinfo=timezone.utc)
REPORTERS = {
    "every_run": {},
    "once_per_state": {"repeat": "once_per_state"},
    "hygiene": {"repeat": "once_per_state", "escalate_after": 3, "notify_recovery": True},
}


def project(features: int, root: Path) -> Project:
    checks = {f"psi f{i}": {"store": "s", "metric": "psi", "feature": f"f{i}", "soft_max": 0.2,
                            "hard_max": 0.3} for i in range(features)}
    reporters = [{"name": name, "type": "webhook", "url": "http://127.0.0.1:9/hook", **options}
                 for name, options in REPORTERS.items()]
    return Project.model_validate({
        "project": "bench", "root": root, "file": root / "scenarist.yaml",
        "connections": {"store": {"url": "sqlite://"}},
        "evaluation_stores": {"s": {"deployment": "bench"}},
        "checks": checks,
        "scenarios": {"weekly": {"steps": [{"name": "checks", "type": "run_checks",
                                            "store": "s"}], "reporters": reporters}},
    })


def history(rng: np.random.Generator, weeks: int, features: int, noise: float):
    """Weekly evaluations and the (start, end) week of each drift episode."""
    psi = np.abs(rng.normal(0.10, 0.03, size=(weeks, features)))
    episodes = []
    for start in sorted(rng.choice(np.arange(2, weeks - 7, 8), size=3, replace=False)):
        length = int(rng.integers(3, 7))
        hit = rng.choice(features, size=max(1, features // 3), replace=False)
        level = rng.uniform(0.15, 0.35, size=hit.size)  # each feature's level, near the bounds
        psi[start:start + length, hit] = np.abs(level + rng.normal(0, noise, (length, hit.size)))
        episodes.append((int(start), int(start) + length))
    evaluations = []
    for week in range(weeks):
        when = START + timedelta(weeks=week)
        metrics = {f"psi[f{i}]": float(psi[week, i]) for i in range(features)}
        evaluations.append(Evaluation(
            store="s", label=f"w{week:02d}", created_at=when, evaluated_at=when,
            time_start=when, time_end=when + timedelta(days=7), model="m", row_count=1000,
            reference_row_count=1000, metrics=metrics, details={}))
    return evaluations, episodes


def run_seed(loaded: Project, seed: int, weeks: int, features: int, noise: float):
    rng = np.random.default_rng(seed)
    evaluations, episodes = history(rng, weeks, features, noise)
    checks = resolve_checks(loaded, None, store="s")
    outcomes = replay(checks, evaluations)
    alerts, reporters = replay_alerts(loaded, checks, outcomes, evaluations)
    return Backtest("s", "project", outcomes, alerts, reporters), episodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--noise", type=float, default=0.02,
                        help="week-to-week sd of PSI within an episode")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as temp:
        loaded = project(args.features, Path(temp))
        totals = {name: [] for name in REPORTERS}
        recoveries, reported, episodes_seen = [], {name: 0 for name in REPORTERS}, 0
        non_ok_runs = []
        for seed in range(args.seeds):
            result, episodes = run_seed(loaded, seed, args.weeks, args.features, args.noise)
            if seed == 0:
                print(f"seed 0: {args.weeks} weekly runs × {args.features} checks; outcomes "
                      f"{result.outcomes['outcome'].value_counts().to_dict()}")
                print(result.alerts_per_month.rename(columns=lambda c: c.split(" / ")[1])
                      .to_string())
            weeks_not_ok = result.outcomes.groupby("evaluation")["outcome"].apply(
                lambda s: s.isin(["WARNING", "ERROR"]).any())
            non_ok_runs.append(int(weeks_not_ok.sum()))
            week_of = {f"w{w:02d}": w for w in range(args.weeks)}
            for name in REPORTERS:
                mine = result.alerts[result.alerts["reporter"] == name]
                totals[name].append(len(mine))
                sent = {week_of[label] for label in mine.loc[mine["kind"] == "alert",
                                                             "evaluation"]}
                reported[name] += sum(any(a <= w < b for w in sent) for a, b in episodes)
            hygienic = result.alerts[result.alerts["reporter"] == "hygiene"]
            recoveries.append(int((hygienic["kind"] == "recovery").sum()))
            episodes_seen += len(episodes)
    print(f"\nover {args.seeds} seeds (mean per year; {np.mean(non_ok_runs):.1f} of "
          f"{args.weeks} runs not SUCCESS):")
    table = pd.DataFrame({
        "messages": {n: np.mean(v) for n, v in totals.items()},
        "episodes reported": {n: f"{reported[n]}/{episodes_seen}" for n in REPORTERS},
    })
    print(table.to_string(float_format=lambda v: f"{v:.1f}"))
    print(f"(hygiene: {np.mean(recoveries):.1f} of its messages are 'back to OK')")
    print(f"{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
