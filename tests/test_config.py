"""scenarist.yaml loading: the reference example, every problem kind, rendering, env URLs."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from scenarist.errors import ConfigError, ConfigProblem
from scenarist.project.config import (
    Connection,
    NumericRangeCheckSpec,
    Project,
    load_project,
    render,
)
from scenarist.validation import validate_project

FIXTURE = Path(__file__).parent / "fixtures" / "scenarist.yaml"
EXAMPLE: dict[str, Any] = yaml.safe_load(FIXTURE.read_text())


def _touch_artifacts(root: Path) -> None:
    """Existence is all the loader checks; data and models are tested in their own modules."""
    for relative in ("data/transactions_2017Q1.parquet", "models/fraud.joblib"):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(b"")


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """The DESIGN.md §4 project, verbatim, with its files present."""
    shutil.copy(FIXTURE, tmp_path / "scenarist.yaml")
    _touch_artifacts(tmp_path)
    return tmp_path


def write(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """The example with `change` applied to its mapping; returns the project file."""
    data = copy.deepcopy(EXAMPLE)
    change(data)
    _touch_artifacts(tmp_path)
    file = tmp_path / "scenarist.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False))
    return file


def problems_of(path: Path) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as info:
        load_project(path)
    assert info.value.problems == validate_project(path)
    return info.value.problems


def only(problems: list[ConfigProblem], location: str) -> ConfigProblem:
    found = [p for p in problems if p.location == location]
    assert len(found) == 1, problems
    return found[0]


def test_reference_example_loads_as_is(example: Path) -> None:
    project = load_project(example)
    assert project.project == "fraud-monitoring"
    assert project.root == example.resolve()
    assert project.file == example / "scenarist.yaml"
    assert project.connections["store"].kind == "sql"
    mail = project.connections["mail"]
    assert (mail.kind, mail.host, mail.port, mail.sender) == ("mail", "localhost", 1025,
                                                              "mlops@example.com")
    assert project.datasets["transactions_batch"].file_format == "parquet"
    assert project.models["fraud_model"].type == "binary"
    assert project.models["fraud_model"].positive_label == 1
    store = project.evaluation_stores["the_MES"]
    assert (store.model, store.label, store.connection) == ("fraud_model", "{{ quarter }}", "store")
    assert store.max_rows_per_side == 50_000 and store.drift_method == "auto"
    assert store.performance == "auto" and store.features is None
    auc = project.checks["auc above 0.7"]
    assert isinstance(auc, NumericRangeCheckSpec)
    assert (auc.type, auc.soft_min, auc.hard_min) == ("numeric_range", 0.75, 0.7)
    scenario = project.scenarios["Data drift monitor"]
    assert scenario.variables == {"quarter": "2017Q4"}
    assert scenario.triggers[0].cron == "0 6 1 */3 *"
    assert scenario.steps[1].name == "MES_Warn"
    assert scenario.steps[1].checks == ["data drift < 0.45"]
    assert scenario.reporters[0].to == ["me@example.com"]
    assert validate_project(example) == []
    assert load_project(example / "scenarist.yaml") == project
    assert "root" not in project.model_dump() and "file" not in project.model_dump()


def test_missing_project_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no scenarist.yaml in .*; create one or pass the file"):
        load_project(tmp_path)
    [problem] = validate_project(tmp_path / "other.yaml")
    assert "other.yaml does not exist" in problem.message


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "scenarist.yaml").write_text("project: p\ndatasets:\n  a: {path: [x.csv\n")
    [problem] = problems_of(tmp_path)
    assert problem.file == str(tmp_path / "scenarist.yaml")
    assert problem.message.startswith("invalid YAML: line 4, column 1")


@pytest.mark.parametrize("text", ["", "- a list\n"])
def test_document_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    (tmp_path / "scenarist.yaml").write_text(text)
    with pytest.raises(ConfigError, match="it needs at least `project: <name>`"):
        load_project(tmp_path)


def test_unknown_top_level_key_lists_valid_keys(tmp_path: Path) -> None:
    file = write(tmp_path, lambda d: d.update(dataset={}, root="/elsewhere"))
    problems = problems_of(file)
    assert only(problems, "dataset").message.startswith(
        "unknown key 'dataset'; valid keys: project, variables, connections, datasets, models, "
        "evaluation_stores, checks, scenarios (line ")
    assert only(problems, "root").message.startswith("unknown key 'root'")


def test_unknown_nested_key_lists_that_models_keys(tmp_path: Path) -> None:
    file = write(tmp_path, lambda d: d["models"]["fraud_model"].update(traget="x"))
    problem = only(problems_of(file), "models.fraud_model.traget")
    assert problem.message.startswith("unknown key 'traget'; valid keys: path, target, type,")


def test_unknown_model_reference(tmp_path: Path) -> None:
    file = write(tmp_path, lambda d: d["evaluation_stores"]["the_MES"].update(model="fraud"))
    with pytest.raises(ConfigError, match="unknown model 'fraud'; defined models: fraud_model"):
        load_project(file)
    problem = only(problems_of(file), "evaluation_stores.the_MES.model")
    assert problem.file == str(file)


def test_unknown_dataset_and_connection_references(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["evaluation_stores"]["the_MES"].update(input="batch", connection="warehouse")
        d["datasets"]["q"] = {"sql": "select 1", "connection": "mail"}

    problems = problems_of(write(tmp_path, change))
    assert only(problems, "evaluation_stores.the_MES.input").message.startswith(
        "unknown dataset 'batch'; defined datasets: transactions_train, transactions_batch, q")
    assert only(problems, "evaluation_stores.the_MES.connection").message.startswith(
        "unknown connection 'warehouse'; defined connections: store, mail")
    assert "is a mail connection" in only(problems, "datasets.q.connection").message


def test_default_store_connection_must_exist(tmp_path: Path) -> None:
    file = write(tmp_path, lambda d: d["connections"].pop("store"))
    message = only(problems_of(file), "evaluation_stores.the_MES.connection").message
    assert message.startswith("unknown connection 'store'; defined connections: mail")


def test_check_and_step_references(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["checks"]["auc above 0.7"]["store"] = "MES"
        steps = d["scenarios"]["Data drift monitor"]["steps"]
        steps[0]["store"] = "MES"
        steps[1]["checks"] = ["data drift < 0.45", "auc > 0.7"]
        steps.append({"name": "MES_Warn", "type": "run_checks", "checks": "auc above 0.7"})

    problems = problems_of(write(tmp_path, change))
    assert only(problems, 'checks["auc above 0.7"].store').message.startswith(
        "unknown evaluation store 'MES'; defined evaluation stores: the_MES")
    scenario = "scenarios.Data drift monitor"
    assert "unknown evaluation store 'MES'" in only(problems, f"{scenario}.steps[0].store").message
    assert only(problems, f"{scenario}.steps[1].checks[1]").message.startswith(
        "unknown check 'auc > 0.7'; defined checks: data drift < 0.45, auc above 0.7")
    assert "duplicate step name" in only(problems, f"{scenario}.steps[2].name").message


def test_missing_files_reported_unless_templated(tmp_path: Path) -> None:
    file = write(tmp_path, lambda d: d["models"]["fraud_model"].update(path="models/gone.joblib"))
    (tmp_path / "data" / "transactions_2017Q1.parquet").unlink()
    problems = problems_of(file)
    assert [p.location for p in problems] == ["datasets.transactions_train.path",
                                             "models.fraud_model.path"]
    assert problems[1].message.startswith(f"models/gone.joblib does not exist (relative to "
                                          f"{tmp_path.resolve()})")


def test_schema_errors_carry_their_key_path(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["connections"]["mail"]["port"] = "smtp"
        del d["models"]["fraud_model"]["target"]
        d["models"]["fraud_model"]["type"] = "binery"
        d["datasets"]["transactions_train"]["sql"] = "select 1"
        d["datasets"]["odd"] = {"path": "data/x.txt"}
        d["checks"]["auc above 0.7"]["hard_min"] = 0.8
        d["checks"]["empty"] = {"store": "the_MES", "metric": "auc"}
        d["checks"]["typed"] = {"type": "regex", "store": "the_MES", "metric": "auc",
                                "soft_min": 1}
        d["scenarios"]["Data drift monitor"]["triggers"] = [{"cron": "0 6 1"},
                                                            {"cron": "* * * * *",
                                                             "interval_seconds": 5}]
        d["scenarios"]["Data drift monitor"]["steps"][0].pop("name")

    problems = {p.location: p.message for p in problems_of(write(tmp_path, change))}
    assert problems["connections.mail.port"].startswith("port is a number (1-65535)")
    assert problems["models.fraud_model.target"].startswith("required key is missing")
    assert problems["models.fraud_model.type"].startswith(
        "Input should be 'binary', 'multiclass' or 'regression' (got 'binery')")
    assert problems["datasets.transactions_train"].startswith("a dataset needs exactly one of")
    assert "add `format: csv` or `format: parquet`" in problems["datasets.odd"]
    assert problems['checks["auc above 0.7"]'].startswith(
        "hard_min (0.8) must not exceed soft_min (0.75)")
    assert problems["checks.empty"].startswith("a numeric range needs at least one of")
    assert problems["checks.typed.type"].startswith(
        "unknown check type 'regex'; valid types: numeric_range, value_in_set, ")
    scenario = "scenarios.Data drift monitor"
    assert "invalid cron expression '0 6 1'" in problems[f"{scenario}.triggers[0]"]
    assert "exactly one of `cron` and `interval_seconds`" in problems[f"{scenario}.triggers[1]"]
    assert problems[f"{scenario}.steps[0].name"].startswith("required key is missing")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["colour"] = "blue"
        d["models"]["fraud_model"]["type"] = "binery"
        d["evaluation_stores"]["the_MES"]["reference"] = "train"
        d["checks"]["data drift < 0.45"]["store"] = "nope"

    problems = problems_of(write(tmp_path, change))
    assert [p.location for p in problems] == [  # in file order; `colour` is dumped last
        "models.fraud_model.type", "evaluation_stores.the_MES.reference",
        'checks["data drift < 0.45"].store', "colour"]
    assert all(p.file == str(tmp_path / "scenarist.yaml") for p in problems)
    assert all("(line " in p.message for p in problems)


def test_duplicate_names_are_problems(tmp_path: Path) -> None:
    text = FIXTURE.read_text().replace(
        "models:\n", "models:\n  fraud_model: {path: models/fraud.joblib, target: y, "
        "type: regression}\n")
    (tmp_path / "scenarist.yaml").write_text(text)
    _touch_artifacts(tmp_path)
    [problem] = problems_of(tmp_path)
    assert problem.location == "models.fraud_model"
    assert "duplicate key 'fraud_model' (line 10)" in problem.message


def test_template_syntax_error_is_a_problem(tmp_path: Path) -> None:
    file = write(tmp_path, lambda d: d["evaluation_stores"]["the_MES"].update(label="{{ q "))
    assert "invalid template" in only(problems_of(file), "evaluation_stores.the_MES.label").message


def test_render_uses_strict_undefined() -> None:
    assert render("data/{{ quarter }}.csv", {"quarter": "2017Q4"}) == "data/2017Q4.csv"
    with pytest.raises(ConfigError, match=r"undefined variable quartr in template "
                       r"'data/\{\{ quartr \}\}.csv'; defined variables: quarter") as info:
        render("data/{{ quartr }}.csv", {"quarter": "2017Q4"}, location="datasets.b.path")
    assert info.value.problems[0].location == "datasets.b.path"


def test_render_is_sandboxed() -> None:
    with pytest.raises(ConfigError, match="cannot render template"):
        render("{{ x.__class__.__mro__[1].__subclasses__() }}", {"x": 1})


def test_connection_url_resolves_env_at_use_time(example: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCENARIST_TEST_PG_PASSWORD", raising=False)
    file = write(example, lambda d: d["connections"].update(
        pg={"url": "postgresql+psycopg://me:${SCENARIST_TEST_PG_PASSWORD}@db/monitoring"}))
    project = load_project(file)  # loads without the secret
    with pytest.raises(ConfigError, match="SCENARIST_TEST_PG_PASSWORD is not set") as info:
        project.connections["pg"].resolved_url()
    assert info.value.problems[0].location == "connections.pg.url"
    monkeypatch.setenv("SCENARIST_TEST_PG_PASSWORD", "s3cret")
    resolved = project.connections["pg"].resolved_url()
    assert resolved == "postgresql+psycopg://me:s3cret@db/monitoring"
    store_url = project.connections["store"].resolved_url()
    assert store_url == f"sqlite:///{(example.resolve() / '.scenarist/store.db').as_posix()}"


def test_connection_is_a_url_or_a_mail_server() -> None:
    with pytest.raises(ValueError, match="`url` cannot be combined with mail keys: host"):
        Connection(url="sqlite://", host="smtp")
    with pytest.raises(ValueError, match="needs `url`"):
        Connection()
    assert Connection(url="sqlite://").resolved_url() == "sqlite://"


def test_project_built_in_python() -> None:
    project = Project(project="p", models={"m": {"path": "m.joblib", "target": "y",
                                                  "type": "regression"}})
    assert project.models["m"].features is None
    assert project.resolve_path("m.joblib") == project.root / "m.joblib"
