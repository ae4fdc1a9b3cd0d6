"""Promotion gates: what a bundle version must prove before `bundle deploy` activates it.

A workspace config may declare them (`workspaces/automation.yaml`):

    gates:
      backtest_max_alerts_per_month: 4   # the new version's checks and reporters, replayed over
                                         # THIS workspace's stored history: no month above 4
                                         # messages (every reporter together; shadow ones
                                         # send nothing)
      design_runs_ok: 3                  # each of its scenarios completed without FAILED (or
                                         # ABORTED) at least 3 times in the design workspace
      no_new_errors: true                # no check OK under the active release is ERROR under
                                         # the new one on the latest evaluation of its store

`evaluate_gates` is pure but for reading the stores: the new release (already remapped to the
workspace's connections), the active one, and the design project. Each gate gives one
`GateResult` whose `detail` carries the numbers and the evaluations behind them. A deploy with
a failed gate is refused (`GateRefusal`, a BundleError: exit code 4) unless it is overridden
with a reason, which the release history keeps with who overrode it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from scenarist.errors import BundleError
from scenarist.project.config import Project

COMPLETED_OK = ("SUCCESS", "WARNING")  # a run that completed without FAILED or ABORTED
SHOWN = 6  # evaluations named in one gate's detail


class Gates(BaseModel):
    """The `gates:` of a workspace config."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backtest_max_alerts_per_month: int | None = Field(
        None, ge=0, description="Most messages in any month of the new version's checks and "
        "reporters replayed over this workspace's stored history.")
    design_runs_ok: int | None = Field(
        None, ge=1, description="Runs each scenario of the new version must have completed "
        "without FAILED/ABORTED in the design workspace.")
    no_new_errors: bool = Field(
        False, description="Refuse a version under which a check OK under the active release "
        "is ERROR on the latest evaluation.")


@dataclass(frozen=True)
class GateResult:
    """What one gate found: passed or not, with its numbers and evaluations."""

    gate: str
    passed: bool
    detail: str

    @property
    def line(self) -> str:
        return f"{self.gate}: {'passed' if self.passed else 'FAILED'} — {self.detail}"


class GateRefusal(BundleError):
    """A deploy refused by the workspace's promotion gates (one line per gate)."""

    def __init__(self, results: list[GateResult]):
        self.results = results
        lines = "\n".join(f"  {r.line}" for r in results)
        super().__init__(f"promotion gates failed:\n{lines}\nto deploy anyway: "
                         '--override-gates --reason "why"')


def evaluate_gates(gates: Gates, new: Project, active: Project | None,
                   design: Project | None) -> list[GateResult]:
    """Every gate `gates` declares, for release `new` (connections: the workspace's) against
    the `active` release (None: the first deploy) and the `design` project's runs."""
    cache: dict[tuple[int, str], object] = {}

    def replay(project: Project, store: str):
        from scenarist.operations.backtesting import backtest

        key = (id(project), store)
        if key not in cache:
            cache[key] = backtest(project, store, _live_checks(project, store))
        return cache[key]

    results = []
    if gates.backtest_max_alerts_per_month is not None:
        results.append(_alert_budget(gates.backtest_max_alerts_per_month, new, replay))
    if gates.design_runs_ok is not None:
        results.append(_design_runs(gates.design_runs_ok, new, design))
    if gates.no_new_errors:
        results.append(_new_errors(new, active, replay))
    return results


def _live_checks(project: Project, store: str) -> list[str]:
    return [n for n, s in project.checks.items() if s.store == store and not s.shadow]


def _checked_stores(project: Project) -> list[str]:
    return [s for s in project.evaluation_stores if _live_checks(project, s)]


def _alert_budget(limit: int, new: Project, replay) -> GateResult:
    import pandas as pd

    gate = "backtest_max_alerts_per_month"
    stores = _checked_stores(new)
    results = [replay(new, store) for store in stores]
    evaluations = sum(r.outcomes["evaluation"].nunique() for r in results)
    alerts = pd.concat([r.alerts for r in results], ignore_index=True) if results else None
    where = f"{evaluations} evaluation(s) of {', '.join(stores) or 'no store'} replayed"
    if alerts is None or alerts.empty:
        return GateResult(gate, True, f"0 messages in any month ≤ {limit} ({where})")
    per_month = alerts.groupby("month").size()
    month, worst = str(per_month.idxmax()), int(per_month.max())
    months = ", ".join(f"{m} {int(n)}" for m, n in per_month.items())
    detail = f"{worst} messages in {month} {'>' if worst > limit else '≤'} {limit} allowed " \
        f"({where}; per month: {months})"
    if worst > limit:
        behind = alerts[alerts["month"] == month].drop_duplicates("evaluation")
        shown = ", ".join(f"{r.evaluation} ({r.checks or r.kind})"
                          for r in behind.head(SHOWN).itertuples())
        more = f", … {len(behind) - SHOWN} more" if len(behind) > SHOWN else ""
        detail += f"; alerting evaluations in {month}: {shown}{more}"
    return GateResult(gate, worst <= limit, detail)


def _design_runs(needed: int, new: Project, design: Project | None) -> GateResult:
    gate = "design_runs_ok"
    if design is None:
        return GateResult(gate, False, "no design project to read runs from; deploy from the "
                          "design project (-p)")
    from scenarist.stores.database import connect
    from scenarist.stores.runs import scenario_runs

    connection = design.connections.get("store")
    engine = connect(connection.resolved_url() if connection else None, design.root)
    counts = {}
    for scenario in new.scenarios:
        runs = scenario_runs(engine, scenario, limit=1_000_000)
        counts[scenario] = int(runs["outcome"].isin(COMPLETED_OK).sum())
    short = {s: n for s, n in counts.items() if n < needed}
    listed = ", ".join(f"{s!r} {n}" for s, n in (short or counts).items()) or "no scenarios"
    if short:
        return GateResult(gate, False, f"scenarios with fewer than {needed} runs completed "
                          f"without FAILED in the design workspace: {listed}")
    return GateResult(gate, True, f"every scenario has ≥ {needed} runs completed without "
                      f"FAILED in the design workspace ({listed})")


def _new_errors(new: Project, active: Project | None, replay) -> GateResult:
    gate = "no_new_errors"
    if active is None:
        return GateResult(gate, True, "no active release to compare with")
    found, compared = [], 0
    for store in _checked_stores(new):
        after = replay(new, store).outcomes
        if after.empty:
            continue
        latest = after["evaluation"].iloc[-1]  # history order
        now = after[after["evaluation"] == latest]
        before = replay(active, store).outcomes if store in active.evaluation_stores else None
        if before is None or before.empty:
            continue
        was = before[before["evaluation"] == latest].set_index(["check", "segment"])["outcome"]
        for row in now.itertuples():
            old = was.get((row.check, row.segment))
            if old is None:
                continue
            compared += 1
            if old == "OK" and row.outcome == "ERROR":
                segment = f" [{row.segment}]" if row.segment else ""
                found.append(f"{row.check!r}{segment} on {store}/{latest}: OK → ERROR "
                             f"({row.message})")
    if found:
        return GateResult(gate, False, f"{len(found)} check(s) OK under the active release are "
                          f"ERROR under the new one: {'; '.join(found)}")
    return GateResult(gate, True, f"no check OK under the active release is ERROR under the new "
                      f"one ({compared} compared on the latest evaluation)")
