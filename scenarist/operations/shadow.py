"""Shadow checks: a change to monitoring tried on every run before it can page anyone.

    checks:
      data drift < 0.45:          {store: the_MES, metric: data_drift, soft_max: 0.45}
      data drift < 0.3 (trial):   {store: the_MES, metric: data_drift, soft_max: 0.3,
                                   shadow: true}

    report = shadow_report(project, since="30d")
    for pair in report.pairs:
        pair.shadow, pair.live       the shadow check and its live counterpart
        pair.runs                    one row per run × evaluation (× segment) where both ran:
                                     value, outcome_live, outcome_shadow, disagree
        pair.disagreements           the rows where they differ: the evaluations behind it
        pair.messages_per_month      month × (live, shadow): the messages the scenarios'
                                     reporters would send with each of them

A check with `shadow: true` has one live counterpart: the first check of the project, not a
shadow, that reads the same store, metric, feature and segment. A run_checks step runs the
shadow checks of the live checks it lists (`step_checks`), or every check of its store; the
shadow results are recorded (`shadow` true in the check history) and logged, but they never
reach the step outcome, the run's `checks` variable, a reporter's gate or alert hygiene.

The report reads the check history: the runs are scenario runs (results recorded with a run
id) in the window; messages per month replay the scenarios' reporters over those runs'
evaluations (`scenarist.operations.backtesting`), once with the live checks of the store and
once with the shadow check in its counterpart's place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd

from scenarist.checks.specs import AnyCheckSpec
from scenarist.errors import ConfigError
from scenarist.project.config import Project, load_project

RUN_COLUMNS = ["run_id", "checked_at", "evaluation", "segment", "value", "outcome_live",
               "outcome_shadow", "message_shadow", "disagree"]
_SINCE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def check_key(spec: AnyCheckSpec) -> tuple[str, str | None, str | None, str | None]:
    """What a shadow check and its live counterpart share: store, metric, feature, segment."""
    return (spec.store, spec.metric, spec.feature, spec.segment)


def counterparts(project: Project) -> dict[str, str | None]:
    """Each shadow check → its live counterpart (None: the project has none)."""
    live: dict[tuple, str] = {}
    for name, spec in project.checks.items():
        if not spec.shadow:
            live.setdefault(check_key(spec), name)
    return {name: live.get(check_key(spec))
            for name, spec in project.checks.items() if spec.shadow}


def step_checks(project: Project, names: Sequence[str] | None) -> list[str] | None:
    """The checks a run_checks step runs: `names` and the shadow checks of any of them (None
    stays None: every check of the step's store, shadow checks included)."""
    if names is None:
        return None
    extra = [shadow for shadow, live in counterparts(project).items()
             if live in names and shadow not in names]
    return [*names, *extra]


@dataclass(frozen=True)
class ShadowComparison:
    """One shadow check against its live counterpart over the report's window."""

    shadow: str
    live: str
    store: str
    metric: str
    runs: pd.DataFrame  # RUN_COLUMNS, oldest first
    messages_per_month: pd.DataFrame  # index month, columns live, shadow

    @property
    def disagreements(self) -> pd.DataFrame:
        """The runs × evaluations where the shadow check's outcome differs from the live one's."""
        return self.runs[self.runs["disagree"]].reset_index(drop=True)

    def as_dict(self) -> dict:
        """Plain values for JSON (`scenarist checks shadow-report --json`, the console)."""
        runs = self.runs.assign(checked_at=self.runs["checked_at"].map(
            lambda t: t.isoformat()))
        runs = runs.astype(object).where(runs.notna(), None)
        return {"shadow": self.shadow, "live": self.live, "store": self.store,
                "metric": self.metric, "runs": int(self.runs["run_id"].nunique()),
                "disagreeing_runs": sorted(set(self.disagreements["run_id"])),
                "messages_per_month": {m: {k: int(v) for k, v in row.items()}
                                       for m, row in self.messages_per_month.iterrows()},
                "evaluations": runs.to_dict(orient="records")}


@dataclass(frozen=True)
class ShadowReport:
    """Every shadow check of a project compared with its live counterpart since `since`."""

    since: datetime | None
    pairs: list[ShadowComparison]
    unpaired: list[str]  # shadow checks without a live counterpart

    def as_dict(self) -> dict:
        return {"since": self.since.isoformat() if self.since else None,
                "pairs": [pair.as_dict() for pair in self.pairs], "unpaired": self.unpaired}


def parse_since(since: str | timedelta | datetime | date | None,
                now: datetime | None = None) -> datetime | None:
    """`30d`, `12h`, `4w` (back from now), a timedelta, a date or datetime (UTC), or None."""
    now = now or datetime.now(timezone.utc)
    if since is None or isinstance(since, datetime):
        return since
    if isinstance(since, timedelta):
        return now - since
    if isinstance(since, date):
        return datetime(since.year, since.month, since.day, tzinfo=timezone.utc)
    match = _SINCE.match(since)
    if match:
        return now - timedelta(**{_UNITS[match[2]]: int(match[1])})
    try:
        return datetime.fromisoformat(since)
    except ValueError:
        raise ConfigError(f"--since {since!r} is neither an age such as 30d, 12h, 4w nor a date "
                          "such as 2026-01-31") from None


def shadow_report(project: Project | str | Path,
                  since: str | timedelta | datetime | date | None = "30d") -> ShadowReport:
    """Compare each shadow check of `project` with its live counterpart over the runs recorded
    since `since` (see the module docstring). Nothing is written."""
    current = project if isinstance(project, Project) else load_project(project)
    start = parse_since(since)
    pairs, unpaired = [], []
    for shadow, live in counterparts(current).items():
        if live is None:
            unpaired.append(shadow)
        else:
            pairs.append(_compare(current, shadow, live, start))
    return ShadowReport(start, pairs, unpaired)


def _compare(project: Project, shadow: str, live: str,
             since: datetime | None) -> ShadowComparison:
    from scenarist.operations.checking import check_history, store_engine

    spec = project.checks[shadow]
    history = check_history(store_engine(project, spec.store), store=spec.store, since=since)
    history = history[history["scenario_run_id"].notna()]
    history = history.assign(segment=history["segment"].fillna(""),
                             outcome=history["outcome"].astype(str))
    keys = ["scenario_run_id", "evaluation_label", "segment"]
    mine = history[(history["check"] == shadow) & history["shadow"]]
    theirs = history[(history["check"] == live) & ~history["shadow"]]
    both = theirs[[*keys, "checked_at", "value", "outcome"]].merge(
        mine[[*keys, "outcome", "message"]], on=keys, suffixes=("_live", "_shadow"))
    both = both.drop_duplicates(keys, keep="last").rename(columns={
        "scenario_run_id": "run_id", "evaluation_label": "evaluation",
        "message": "message_shadow"})
    both["disagree"] = both["outcome_live"] != both["outcome_shadow"]
    runs = both[RUN_COLUMNS].sort_values("checked_at", kind="stable").reset_index(drop=True)
    return ShadowComparison(shadow, live, spec.store, spec.metric, runs,
                            _messages_per_month(project, shadow, live, runs))


def _messages_per_month(project: Project, shadow: str, live: str,
                        runs: pd.DataFrame) -> pd.DataFrame:
    """Messages per month the reporters would send over the runs' evaluations: with the
    store's live checks, and with the shadow check in place of `live`."""
    from scenarist.operations.backtesting import backtest

    spec = project.checks[shadow]
    names = [n for n, s in project.checks.items() if s.store == spec.store and not s.shadow]
    tried = project.model_copy(update={"checks": {
        **project.checks, live: spec.model_copy(update={"shadow": False})}})
    labels = set(runs["evaluation"])
    columns = {}
    for column, source in (("live", project), ("shadow", tried)):
        result = backtest(source, spec.store, names)
        alerts = result.alerts[result.alerts["evaluation"].isin(labels)]
        months = sorted(result.outcomes.loc[result.outcomes["evaluation"].isin(labels),
                                            "month"].unique())
        columns[column] = alerts.groupby("month").size().reindex(months, fill_value=0)
    table = pd.DataFrame(columns).fillna(0).astype(int)
    table.index.name = "month"
    return table
