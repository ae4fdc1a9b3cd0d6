"""`scenarist store window-drift` and the progress of `scenarist store evaluate --stream`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from scenarist.commands.common import (
    ProjectOption,
    err,
    fmt,
    friendly_errors,
    out,
    print_table,
    project_store,
)

if TYPE_CHECKING:
    from scenarist.project.config import Project
    from scenarist.stores.evaluation import Evaluation

SHOWN_FEATURES = 20


@contextmanager
def group_progress() -> Iterator[Callable[[int, int, Sequence[str]], None]]:
    """A progress bar over a streaming evaluation's column groups (on stderr)."""
    from rich.progress import (  # not at `scenarist --help`
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(TextColumn("column groups"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                        transient=True, disable=not err.is_terminal)
    task = progress.add_task("", total=None)

    def advance(done: int, total: int, columns: Sequence[str]) -> None:
        label = f"{columns[0]} … {columns[-1]}" if len(columns) > 1 else columns[0]
        progress.update(task, completed=done, total=total, description=escape(label))

    with progress:
        yield advance


def stream_store(project: Project, store: str, variables: dict[str, str]) -> Evaluation:
    """`store evaluate --stream`: stream the store's batch with a progress bar per group."""
    from scenarist.operations.streamed import stream_evaluation

    with group_progress() as on_group:
        return stream_evaluation(project, store, variables, on_group=on_group)


@friendly_errors
def store_window_drift(
    store: Annotated[str, typer.Argument(help="Evaluation store name.")],
    last: Annotated[
        int | None, typer.Option("--last", "-n", help="Merge the last N evaluations.")
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option("--label", "-l", help="Merge these evaluations instead (repeatable)."),
    ] = None,
    method: Annotated[
        str, typer.Option("--method", help="Drift method: auto, ks, wasserstein, psi, "
                          "jensenshannon, chi2, z.")
    ] = "auto",
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Per-feature threshold.")
    ] = None,
    sketches: Annotated[
        bool, typer.Option("--sketches", help="Also KS from the merged KLL sketches (slower).")
    ] = False,
    all_features: Annotated[
        bool, typer.Option("--all", help=f"Every feature, not only the top {SHOWN_FEATURES}.")
    ] = False,
    project: ProjectOption = Path("."),
) -> None:
    """Drift of a window of evaluations (merged) against the reference, from stored profiles."""
    loaded, evaluation_store = project_store(project, store)
    drift = evaluation_store.window_drift(
        last, labels=label or None, method=method, threshold=threshold, sketches=sketches,
        correction=loaded.evaluation_stores[store].correction)
    first, final = drift.labels[0], drift.labels[-1]
    span = first if first == final else f"{first} … {final}"
    table = Table(title=f"drift of {len(drift.labels)} evaluation(s) ({escape(span)}, "
                        f"{drift.row_count:,} rows) in {escape(store)}")
    table.add_column("feature", no_wrap=True)
    table.add_column("method", no_wrap=True)
    for name in ("score", "drifted", "psi", "ks ± bound"):
        table.add_column(name, justify="right")
    ranked = sorted(drift.features, key=lambda d: (not d.drifted, d.feature))
    for d in ranked if all_features else ranked[:SHOWN_FEATURES]:
        ks = d.stats.get("ks_statistic")
        table.add_row(escape(d.feature), d.method, fmt(d.score), "yes" if d.drifted else "",
                      fmt(d.stats.get("psi")),
                      "-" if ks is None else f"{fmt(ks)} ± {fmt(d.stats['ks_statistic_error'])}")
    print_table(table)
    hidden = len(ranked) - SHOWN_FEATURES
    if hidden > 0 and not all_features:
        out.print(f"… {hidden} more feature(s); --all shows them")
    drifted = sum(d.drifted for d in drift.features)
    out.print(f"drift_share={fmt(drift.drift_share)} ({drifted} of {len(drift.features)} "
              "features drifted)")
