"""labels_ready fires once when a deployment's logged labels cross the ratio; bad trigger specs
are refused by `scenarist validate` with the scenario, trigger and field named."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from triggers_helpers import add_scenarios, runs_of

import scenarist.triggers as triggers
from scenarist.deployments import Deployment
from scenarist.project.config import load_project
from scenarist.project.models import load_model
from scenarist.validation import validate_project


def test_labels_ready_fires_once_when_the_labels_cross_the_ratio(prefect_api, project_copy):
    project = load_project(project_copy)
    model = load_model(project, "fraud_model")
    rows = pd.read_parquet(project_copy / "data" / "transactions_2017Q2.parquet").head(20)
    store = f"sqlite:///{project_copy / '.scenarist' / 'store.db'}"
    dep = Deployment.create(model, "Fraud prod", reference=rows, url=store,
                            data_dir=project_copy / "deployment-data")
    file = project_copy / "scenarist.yaml"
    file.write_text(file.read_text().replace(
        "checks:\n", f"  prod_MES: {{deployment: {dep.id}}}\nchecks:\n", 1))
    add_scenarios(project_copy, """
  Labels arrived:
    triggers: [{name: labels, labels_ready: {deployment: prod_MES, labels_ratio: 0.9, every: 1m}}]
    steps: [{name: note, type: set_variables, values: {seen: true}}]
""")
    ids = [f"s{i}" for i in range(20)]
    now = pd.Timestamp.now(tz="UTC").timestamp() - 3600
    pred, proba = model.predict(rows)
    dep.log_batch(ids, now + np.arange(20), rows[list(model.features)], pred, proba)
    labels = rows["authorized_flag"].to_numpy()

    assert [r.action for r in triggers.poll(project_copy, "Labels arrived")] == []
    dep.log_labels(ids[:17], labels[:17])  # 85 %
    assert [r.action for r in triggers.poll(project_copy, "Labels arrived")] == []
    dep.log_labels(ids[17:18], labels[17:18])  # 90 %
    (fired,) = triggers.poll(project_copy, "Labels arrived")
    assert fired.action == "started" and fired.variables == {"labelled_ratio": 0.9}
    dep.log_labels(ids[18:], labels[18:])  # more labels: the same window, no second run
    assert [r.action for r in triggers.poll(project_copy, "Labels arrived")] == ["unchanged"]
    (run,) = runs_of(project_copy, "Labels arrived").itertuples()
    assert run.id == fired.run_id and run.trigger == "labels"


BAD = {
    "unknown type": ("{name: soon, when_ready: {every: 5m}}",
                     r'triggers\[0\]\.when_ready.*unknown key'),
    "no every": ("{dataset_changed: {dataset: transactions_batch}}",
                 r"triggers\[0\]\.dataset_changed\.every.*(required|missing)"),
    "bad every": ("{dataset_changed: {dataset: transactions_batch, every: soon}}",
                  r"every 'soon' is not a duration; write e\.g\. 30s, 5m"),
    "unknown dataset": ("{name: batch, dataset_changed: {dataset: transactions, every: 5m}}",
                        r"triggers\[0\]\.dataset_changed\.dataset.*trigger 'batch' of scenario "
                        r"'Watch': unknown dataset 'transactions'; defined datasets: "
                        r"transactions_train, transactions_batch"),
    "mail connection": ("{sql_changed: {connection: mail, query: select 1, every: 1h}}",
                        r"trigger 1 of scenario 'Watch': unknown database connection 'mail'; "
                        r"database connections: store"),
    "unknown deployment": ("{labels_ready: {deployment: prod, every: 1h}}",
                           r"labels_ready\.deployment.*unknown deployment 'prod'; name an "
                           r"evaluation store fed by a deployment"),
    "bad function path": ("{python: {function: mytriggers.fire, every: 1m}}",
                          r'function \'mytriggers\.fire\' is not "module:function"'),
    "missing function": ("{python: {function: 'mytriggers:fire', every: 1m}}",
                         r"triggers\[0\]\.python\.function.*mytriggers"),
    "two kinds": ("{cron: '0 * * * *', dataset_changed: {dataset: transactions_batch, "
                  "every: 5m}}", r"a trigger needs exactly one of .*; got cron, dataset_changed"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_trigger_specs_are_named_clearly(project_copy: Path, case: str):
    trigger, message = BAD[case]
    add_scenarios(project_copy, f"""
  Watch:
    triggers: [{trigger}]
    steps: [{{name: note, type: set_variables, values: {{seen: true}}}}]
""")
    problems = "\n".join(str(p) for p in validate_project(project_copy))
    assert re.search(message, problems), problems


def test_python_trigger_runs_with_the_dict_it_returns(prefect_api, project_copy):
    (project_copy / "mytriggers.py").write_text(
        "import json, pathlib\n"
        "def fire():\n"
        "    flag = pathlib.Path(__file__).with_name('flag.json')\n"
        "    return json.loads(flag.read_text()) if flag.exists() else None\n")
    add_scenarios(project_copy, """
  Python fired:
    triggers: [{python: {function: "mytriggers:fire", every: 1m}}]
    steps: [{name: note, type: set_variables, values: {seen: true}}]
""")
    assert validate_project(project_copy) == []
    assert triggers.poll(project_copy, "Python fired") == []
    (project_copy / "flag.json").write_text('{"quarter": "2017Q3"}')
    (fired,) = triggers.poll(project_copy, "Python fired")
    assert fired.action == "started" and fired.variables == {"quarter": "2017Q3"}
    assert [r.action for r in triggers.poll(project_copy, "Python fired")] == ["unchanged"]
