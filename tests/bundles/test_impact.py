"""`bundle diff v2 v3 --impact`: what changed (a check's bound, a trigger) and, for the changed
check, the backtest of both versions over the target workspace's stored history — its counts,
outcomes per evaluation and alerts per month equal the backtest API's on that same store."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone

import numpy as np
import yaml
from typer.testing import CliRunner

from scenarist import EvaluationStore, backtest
from scenarist.cli import app
from scenarist.metrics.evaluation import ComputedEvaluation
from scenarist.metrics.values import MetricValue
from tests.bundles.conftest import use_version, write_workspace

runner = CliRunner()
CHECK = "data drift < 0.45"
START = datetime(2026, 1, 5, tzinfo=timezone.utc)


def test_impact_counts_equal_the_backtest_api(design, tmp_path, wide_console):
    use_version(design, "v3")
    assert runner.invoke(app, ["bundle", "create", "v2", "-p", str(design)]).exit_code == 0
    file = design / "scenarist.yaml"
    file.write_text(file.read_text().replace("soft_max: 0.45", "soft_max: 0.2")
                    .replace('cron: "0 6 1 */3 *"', 'cron: "0 6 * * 1"'))
    assert runner.invoke(app, ["bundle", "create", "v3", "-p", str(design)]).exit_code == 0
    write_workspace(design, tmp_path / "automation", work_pool="unused")
    url = f"sqlite:///{tmp_path / 'automation' / 'store' / 'prod.db'}"
    store = EvaluationStore.open("the_MES", url)
    drift = np.clip(np.random.default_rng(5).normal(0.3, 0.12, 30), 0.0, 1.0)
    for week, value in enumerate(drift):  # the workspace's history; the design store is empty
        start = START + timedelta(weeks=week)
        store.record(f"2026-W{week + 2:02d}", ComputedEvaluation(
            [MetricValue("data_drift", float(value))], 100, 100), model="fraud_model",
            time_range=(start, start + timedelta(days=7)))

    args = ["bundle", "diff", "v2", "v3", "--impact", "--to", "automation", "-p", str(design)]
    shown = runner.invoke(app, args)
    assert shown.exit_code == 0, shown.output
    assert f"changed check '{CHECK}'" in shown.output and "soft_max: 0.45 → 0.2" in shown.output
    assert "changed trigger 'Data drift monitor'" in shown.output
    assert f"impact of changed check '{CHECK}' on the_MES in workspace 'automation'" in \
        shown.output
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert {"section": "checks", "name": CHECK, "change": "changed",
            "details": ["soft_max: 0.45 → 0.2"]} in document["definitions"]
    (impact,) = document["impact"]
    assert (impact["check"], impact["change"]) == (CHECK, "changed")

    # the backtest API on the same store: the project as the workspace runs it
    deployed = tmp_path / "as-deployed"
    shutil.copytree(design, deployed)
    data = yaml.safe_load((deployed / "scenarist.yaml").read_text())
    data["connections"]["store"] = {"url": url}
    (deployed / "scenarist.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    before, after = (backtest(deployed, "the_MES", bundle=v) for v in ("v2", "v3"))
    for outcome in ("OK", "WARNING", "ERROR", "EMPTY"):
        assert impact["counts"][f"{outcome}_old"] == before.counts.loc[CHECK, outcome]
        assert impact["counts"][f"{outcome}_new"] == after.counts.loc[CHECK, outcome]
    assert impact["counts"]["WARNING_new"] == int((drift > 0.2).sum()) > int((drift > 0.45).sum())
    mine = impact["evaluations"]
    assert [r["evaluation"] for r in mine] == list(before.outcomes.loc[
        before.outcomes["check"] == CHECK, "evaluation"])
    assert [r["outcome_old"] for r in mine] == list(before.outcomes.loc[
        before.outcomes["check"] == CHECK, "outcome"])
    assert [r["outcome_new"] for r in mine] == list(after.outcomes.loc[
        after.outcomes["check"] == CHECK, "outcome"])
    assert impact["alerts_per_month"] == {
        month: {"before": int(before.alerts_per_month.sum(axis=1)[month]),
                "after": int(after.alerts_per_month.sum(axis=1)[month])}
        for month in before.alerts_per_month.index}
    assert sum(m["after"] for m in impact["alerts_per_month"].values()) == len(after.alerts) > 0
