"""Console pages: `/checks` (every check with its latest outcome) and `/checks/{check}` (its
stored history and the WHAT-IF form: other bounds replayed over the store's history by the
backtest engine, `scenarist.operations.backtesting.what_if` — outcomes per evaluation and the
messages per month the reporters would have sent, before anyone edits the YAML).

The what-if form is a GET: it changes nothing, so it needs no CSRF token and its answer has a URL.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request

from scenarist.console import access, charts
from scenarist.console.pages.stores import parse_key
from scenarist.console.state import render
from scenarist.errors import NotFoundError, ScenaristError

router = APIRouter()

BOUNDS = ("hard_min", "soft_min", "soft_max", "hard_max")
HISTORY_SHOWN = 200
WHATIF_SHOWN = 200  # above this many replayed outcomes the table lists the changed ones only


@router.get("/checks")
def check_list(request: Request):
    project = access.project_of(request)
    results = access.check_results(project)
    rows = []
    for name, spec in project.checks.items():
        mine = results[results["check"] == name]
        last = mine.iloc[-1] if len(mine) else None
        rows.append({"name": name, "store": spec.store, "type": spec.type,
                     "metric": _metric_key(spec), "bounds": spec.bounds(),
                     "outcome": str(last["outcome"]) if last is not None else "",
                     "label": last["evaluation_label"] if last is not None else None,
                     "results": len(mine)})
    return render(request, "checks.html", checks=rows)


@router.get("/checks/{check}")
def check_page(request: Request, check: str, all_rows: bool = False):
    from scenarist.operations.backtesting import compare, now_and_what_if

    project = access.project_of(request)
    spec = project.checks.get(check)
    if spec is None:
        raise NotFoundError(f"no check {check!r}; checks: {', '.join(project.checks) or 'none'}")
    results = access.check_results(project, spec.store, check)
    editable = [b for b in BOUNDS if b in type(spec).model_fields]
    query = request.query_params
    asked = {b: query.get(b, "") for b in editable} if "whatif" in query else None
    answer, problem = None, None
    if asked is not None:
        try:
            bounds = {b: _number(b, text) for b, text in asked.items()}
            now, then = now_and_what_if(project, check, bounds)  # one read of the history
            rows, _ = compare(now, then)
            changed = rows[rows["changed"]]
            shown = rows if all_rows or len(rows) <= WHATIF_SHOWN else changed.head(WHATIF_SHOWN)
            answer = {"rows": shown.to_dict("records"), "total": len(rows),
                      "changed": len(changed), "counts_now": _counts(now),
                      "counts": _counts(then), "months": _months(then),
                      "months_now": _months(now)}
        except (ValueError, ScenaristError) as exc:
            problem = str(exc)
    history = access.open_named(project, spec.store)
    figure = _metric_figure(history, spec)
    return render(
        request, "check.html", check=check, spec=spec, metric=_metric_key(spec),
        results=results.iloc[::-1].head(HISTORY_SHOWN).to_dict("records"), total=len(results),
        editable=editable, asked=asked or {b: _shown(spec, b) for b in editable},
        answer=answer, problem=problem, figure=figure)


def _metric_key(spec: Any) -> str:
    from scenarist.stores.revisions import metric_key

    segment = spec.segment if spec.segment not in (None, "all") else None
    return metric_key(spec.metric, spec.feature, segment)


def _number(name: str, text: str) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a number; leave it empty for no bound") \
            from None
    if math.isnan(value):
        raise ValueError(f"{name} must be a number, not NaN")
    return value


def _shown(spec: Any, bound: str) -> str:
    value = getattr(spec, bound, None)
    return "" if value is None else f"{value:g}"


def _counts(result: Any) -> dict[str, int]:
    counts = result.counts
    return {str(k): int(v) for k, v in counts.iloc[0].items()} if len(counts) else {}


def _months(result: Any) -> dict[str, Any]:
    table = result.alerts_per_month
    return {"columns": list(table.columns),
            "rows": [(month, [int(v) for v in row]) for month, row in
                     zip(table.index, table.itertuples(index=False), strict=True)],
            "total": int(table.to_numpy().sum()) if table.size else 0}


def _metric_figure(history: Any, spec: Any) -> dict[str, Any] | None:
    """The checked metric over the store's evaluations with this check's bands."""
    metric, feature, segment = parse_key(_metric_key(spec))
    try:
        series = history.history(metric, feature, segment)
    except NotFoundError:
        return None
    if series.empty:
        return None
    bands = [spec.bounds()] if spec.type == "numeric_range" else []
    return charts.metric_history(_metric_key(spec), list(series.index), list(series), bands,
                                 None)
