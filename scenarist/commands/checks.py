"""`scenarist checks …`: run a store's checks on its latest evaluation, read the check history,
backtest checks over the stored history (`checks backtest`, see `scenarist.operations.backtesting`),
compare shadow checks with their live counterparts (`checks shadow-report`).

Exit codes of `checks run` (so a shell or CI job can branch on the outcome; the table of every
command is in commands/common.py):

    0  every check OK
    1  worst outcome WARNING or EMPTY (EMPTY — a metric with no value — needs a look but is not
       a failure, as in a run_checks step; DESIGN.md §5)
    2  at least one check ERROR
    3  usage: unknown store or check, missing argument; nothing was checked
    4  project mistake: a bad project file, an unreachable store; nothing was checked
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from scenarist.commands.common import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_WARNING,
    ProjectOption,
    command_line_names,
    fmt,
    friendly_errors,
    load,
    out,
    print_table,
)

if TYPE_CHECKING:
    from scenarist.checks.result import CheckResult

# by Outcome value (scenarist.checks.outcome, not imported here: it loads the check types)
OUTCOMES = ("OK", "EMPTY", "WARNING", "ERROR")
EXIT_CODES = {"OK": EXIT_OK, "EMPTY": EXIT_WARNING, "WARNING": EXIT_WARNING, "ERROR": EXIT_ERROR}
COLOURS = {"OK": "green", "EMPTY": "cyan", "WARNING": "yellow", "ERROR": "bold red"}

app = typer.Typer(help="Run checks on an evaluation store and read their history.",
                  no_args_is_help=True)


@app.command("run")
@friendly_errors
def checks_run(
    store: Annotated[str, typer.Argument(help="Evaluation store name from scenarist.yaml.")],
    checks: Annotated[
        list[str] | None,
        typer.Argument(help="Checks to run (default: every check of the store).",
                       show_default=False),
    ] = None,
    project: ProjectOption = Path("."),
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Store the results in the history.")
    ] = True,
) -> None:
    """Run checks on the store's latest evaluation and print their outcomes.

    Exits 0 when every check is OK, 1 when the worst outcome is WARNING or EMPTY (a metric
    without a value), 2 when any check is ERROR, 3 for an unknown store or check, 4 for a
    project mistake.
    """
    from scenarist.checks.outcome import Outcome
    from scenarist.operations.checking import resolve_checks, run_checks

    loaded = load(project)
    with command_line_names():
        resolve_checks(loaded, checks or None, store=store)
    results = run_checks(loaded, checks or None, store=store, record=record)
    if not results:
        out.print(f"store {store!r} has no checks; add some under `checks:` in scenarist.yaml")
        return
    print_table(results_table(results, title=f"checks of {store}"))
    live = [r for r in results if not r.shadow]  # a shadow check never sets the exit code
    worst = Outcome.worst((r.outcome for r in live), default=Outcome.OK)
    counts = ", ".join(f"{sum(r.outcome is o for r in live)} {o.value}" for o in Outcome
                       if any(r.outcome is o for r in live))
    shadows = f"; {len(results) - len(live)} shadow check(s) not counted" if \
        len(live) < len(results) else ""
    out.print(f"worst outcome: [{COLOURS[worst]}]{worst.value}[/] ({counts or 'none'}{shadows})")
    raise typer.Exit(EXIT_CODES[worst.value])


@app.command("history")
@friendly_errors
def checks_history(
    check: Annotated[
        str | None, typer.Argument(help="Check name (default: every check).", show_default=False)
    ] = None,
    store: Annotated[
        str | None, typer.Option("--store", "-s", help="Only results of this store.")
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(help="Only results checked at or after this UTC date/time.",
                     formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]),
    ] = None,
    project: ProjectOption = Path("."),
) -> None:
    """Stored check results, oldest first, with how often each outcome occurred."""
    import pandas as pd

    from scenarist.operations.checking import (
        check_history,
        project_history_engines,
        resolve_checks,
    )

    loaded = load(project)
    if store is not None:
        with command_line_names():  # an unknown store: exit 3, listing the stores
            resolve_checks(loaded, [], store=store)
    frames = [check_history(engine, check, store, since)
              for engine in project_history_engines(loaded, store)]
    history = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if history.empty:
        what = f"check {check!r}" if check else "any check"
        out.print(f"no stored results for {what}; run `scenarist checks run STORE` first")
        return
    history = history.sort_values("checked_at", kind="stable")
    table = Table(title="check history")
    table.add_column("checked at (UTC)", no_wrap=True)
    for name in ("check", "store", "evaluation"):
        table.add_column(name, no_wrap=True)
    table.add_column("outcome", no_wrap=True)
    table.add_column("value", justify="right")
    table.add_column("message", overflow="fold")
    for row in history.itertuples(index=False):
        table.add_row(
            row.checked_at.strftime("%Y-%m-%d %H:%M:%S"), escape(row.check),
            escape(str(row.store or "-")), escape(str(row.evaluation_label or "-")),
            _coloured(row.outcome), fmt(row.value), escape(row.message),
        )
    print_table(table)
    counts = history["outcome"].value_counts()
    out.print(", ".join(f"{int(counts[o])} {o}" for o in OUTCOMES if counts.get(o, 0)))


@app.command("backtest")
@friendly_errors
def checks_backtest(
    store: Annotated[str, typer.Argument(help="Evaluation store whose history is replayed.")],
    checks: Annotated[
        list[str] | None,
        typer.Argument(help="Checks to replay (default: every check of the store).",
                       show_default=False),
    ] = None,
    bundle: Annotated[
        str | None, typer.Option("--bundle", "-b", help="Replay the checks and scenarios of "
                                 "this bundle version instead of the project's.")
    ] = None,
    vs: Annotated[
        str | None, typer.Option("--vs", help="Compare with this bundle version's checks.")
    ] = None,
    registry: Annotated[
        str | None, typer.Option("--registry", "-r", help="Bundle registry (default "
                                 "$SCENARIST_BUNDLE_REGISTRY, else .scenarist/registry).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print the outcome of every check × evaluation as CSV.")
    ] = False,
    project: ProjectOption = Path("."),
) -> None:
    """Replay checks over the store's stored evaluations; nothing is written.

    Prints outcome counts per check, which evaluations got which outcome, and the alerts per
    month the scenarios' reporters would have sent."""
    from scenarist.operations.backtesting import backtest, compare
    from scenarist.operations.checking import resolve_checks

    loaded = load(project)
    with command_line_names():  # a bundle's checks are looked up in the bundle
        resolve_checks(loaded, None if bundle or vs else checks or None, store=store)
    result = backtest(loaded, store, checks or None, bundle=bundle, registry=registry)
    other = (backtest(loaded, store, checks or None, bundle=vs, registry=registry)
             if vs is not None else None)
    if as_json or as_csv:
        _backtest_export(result, other, as_json)
        return
    if result.outcomes.empty:
        out.print(f"store {store!r} has no evaluations to replay (or no checks); build some "
                  "with `scenarist store evaluate` or a scenario first")
        return
    if other is None:
        _print_backtest(result)
        return
    _print_backtest(other)
    _print_backtest(result)
    rows, deltas = compare(other, result)
    table = Table(title=f"{_source(result)} vs {_source(other)}: outcome counts, difference")
    table.add_column("check", no_wrap=True)
    for outcome in OUTCOMES:
        table.add_column(f"Δ {outcome}", justify="right")
    for name, row in deltas.iterrows():
        table.add_row(escape(str(name)), *(f"{int(row[f'delta_{o}']):+d}" for o in OUTCOMES))
    print_table(table)
    changed = rows[rows["changed"]]
    if changed.empty:
        out.print("every evaluation gets the same outcome from both")
        return
    table = Table(title=f"evaluations whose outcome changes ({len(changed)})")
    for column in ("check", "evaluation", _source(other), _source(result)):
        table.add_column(escape(column), no_wrap=True)
    for row in changed.itertuples(index=False):
        table.add_row(escape(row.check), escape(_where(row.evaluation, row.segment)),
                      _coloured(row.outcome_old), _coloured(row.outcome_new))
    print_table(table)


@app.command("shadow-report")
@friendly_errors
def checks_shadow_report(
    since: Annotated[
        str, typer.Option("--since", help="Runs of the last 30d, 12h, 4w, or since a date "
                          "(2026-01-31).")
    ] = "30d",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    project: ProjectOption = Path("."),
) -> None:
    """Each shadow check against its live counterpart: the runs where they disagree, the
    messages per month each would send, and the evaluations behind the difference."""
    import json

    from scenarist.operations.shadow import shadow_report

    report = shadow_report(load(project), since)
    if as_json:
        out.file.write(json.dumps(report.as_dict(), indent=2) + "\n")
        return
    if not report.pairs and not report.unpaired:
        out.print("no shadow checks; add `shadow: true` to a check to try it beside the live "
                  "one")
    for name in report.unpaired:
        out.print(f"shadow check {name!r} has no live counterpart (a check of the same store, "
                  "metric, feature and segment without shadow); nothing to compare")
    for pair in report.pairs:
        runs, differ = pair.runs, pair.disagreements
        out.print(f"[bold]{escape(pair.shadow)}[/] (shadow) vs [bold]{escape(pair.live)}[/]: "
                  f"{runs['run_id'].nunique()} run(s), they disagree in "
                  f"{differ['run_id'].nunique()}")
        table = Table(title="messages per month the reporters would send")
        for column in ("month", "live", "shadow"):
            table.add_column(column, justify="left" if column == "month" else "right")
        for month, row in pair.messages_per_month.iterrows():
            table.add_row(str(month), str(row["live"]), str(row["shadow"]))
        print_table(table)
        if differ.empty:
            continue
        table = Table(title=f"evaluations behind the difference ({len(differ)})")
        for column in ("run", "checked at (UTC)", "evaluation", "value", pair.live,
                       pair.shadow):
            table.add_column(escape(column), no_wrap=True)
        for row in differ.itertuples(index=False):
            table.add_row(escape(row.run_id), row.checked_at.strftime("%Y-%m-%d %H:%M"),
                          escape(_where(row.evaluation, row.segment)), fmt(row.value),
                          _coloured(row.outcome_live), _coloured(row.outcome_shadow))
        print_table(table)


def _where(evaluation: str, segment: str) -> str:
    return f"{evaluation} [{segment}]" if segment else evaluation


def _source(result: Any) -> str:
    return "project" if result.source == "project" else f"bundle {result.source}"


def _coloured(outcome: str) -> str:
    return f"[{COLOURS[outcome]}]{outcome}[/]" if outcome in COLOURS else outcome


def _print_backtest(result: Any) -> None:
    outcomes, counts = result.outcomes, result.counts
    evaluations = outcomes["evaluation"].nunique()
    table = Table(title=f"backtest of {escape(result.store)} ({_source(result)}'s checks, "
                  f"{evaluations} evaluations)")
    table.add_column("check", no_wrap=True)
    for outcome in OUTCOMES:
        table.add_column(f"[{COLOURS[outcome]}]{outcome}[/]", justify="right")
    table.add_column("evaluations not OK", overflow="fold")
    for name, row in counts.iterrows():
        mine = outcomes[(outcomes["check"] == name) & (outcomes["outcome"] != "OK")]
        which = "; ".join(
            f"{o}: " + ", ".join(_where(r.evaluation, r.segment)
                                 for r in mine[mine["outcome"] == o].itertuples())
            for o in ("ERROR", "WARNING", "EMPTY") if (mine["outcome"] == o).any())
        table.add_row(escape(str(name)), *(str(row[o]) for o in OUTCOMES),
                      escape(which) or "-")
    print_table(table)
    per_month = result.alerts_per_month
    if per_month.empty:
        out.print("alerts: none would have been sent (no scenario with reporters runs these "
                  "checks)")
        return
    table = Table(title="messages the reporters would have sent, per month")
    table.add_column("month")
    for column in per_month.columns:
        table.add_column(escape(str(column)), justify="right")
    for month, row in per_month.iterrows():
        table.add_row(str(month), *(str(int(v)) for v in row))
    table.add_row("total", *(str(int(v)) for v in per_month.sum()), style="bold")
    print_table(table)
    kinds = result.alerts["kind"].value_counts()
    escalated = int(result.alerts["escalated"].sum())
    out.print(f"{int(kinds.get('alert', 0))} alert(s) ({escalated} escalated to ERROR), "
              f"{int(kinds.get('recovery', 0))} back-to-OK message(s)")


def _backtest_export(result: Any, other: Any, as_json: bool) -> None:
    import json

    import pandas as pd

    if not as_json:
        frame = result.outcomes.assign(source=result.source)
        if other is not None:
            frame = pd.concat([other.outcomes.assign(source=other.source), frame])
        out.file.write(frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S%z"))
        return

    def document(backtest: Any) -> dict[str, Any]:
        return {"store": backtest.store, "source": backtest.source,
                "counts": json.loads(backtest.counts.to_json(orient="index")),
                "outcomes": json.loads(backtest.outcomes.to_json(orient="records",
                                                                 date_format="iso")),
                "alerts": json.loads(backtest.alerts.to_json(orient="records",
                                                             date_format="iso"))}

    payload = document(result)
    if other is not None:
        payload = {"new": payload, "old": document(other)}
    out.file.write(json.dumps(payload, indent=2) + "\n")


def results_table(results: list[CheckResult], *, title: str) -> Table:
    """A rich table of check results (also used by scenario runs)."""
    table = Table(title=escape(title))
    table.add_column("check", no_wrap=True)
    table.add_column("outcome", no_wrap=True)
    table.add_column("metric", no_wrap=True)
    table.add_column("value", justify="right")
    table.add_column("bounds", overflow="fold")
    table.add_column("message", overflow="fold")
    table.add_column("evaluation", no_wrap=True)
    for r in results:
        table.add_row(
            escape(r.name) + (" (shadow)" if r.shadow else ""),
            f"[{COLOURS[r.outcome]}]{r.outcome.value}[/]",
            escape(r.metric_key or "-"), fmt(r.value), escape(_bounds(r.bounds)),
            escape(r.message), escape(r.evaluation_label or "-"),
        )
    return table


def _bounds(bounds: Any) -> str:
    shown = []
    for key, value in dict(bounds).items():
        if key in ("previous", "previous_label", "change"):
            continue  # said in the message
        shown.append(f"{key}={fmt(value) if isinstance(value, float) else value}")
    return ", ".join(shown) or "-"
