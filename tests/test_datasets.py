"""Reading datasets for real: Parquet and CSV files, and SQL against a SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from scenarist.errors import ConfigError, InputDataError
from scenarist.project.config import Project, load_project
from scenarist.project.datasets import read_dataset

FIXTURE = Path(__file__).parent / "fixtures" / "scenarist.yaml"


def transactions(quarter: str, rows: int = 20) -> pd.DataFrame:
    rng = np.random.default_rng(len(quarter) + rows)
    return pd.DataFrame({
        "quarter": [quarter] * rows,
        "card_age": rng.integers(1, 120, rows),
        "card_fico_score": rng.normal(700, 40, rows).round(1),
        "authorized_flag": rng.integers(0, 2, rows),
    })


def build(root: Path, extra_datasets: dict[str, Any], extra_connections: dict[str, Any],
          variables: dict[str, Any] | None = None) -> Project:
    data = yaml.safe_load(FIXTURE.read_text())
    data["datasets"].update(extra_datasets)
    data["connections"].update(extra_connections)
    data["variables"] = variables or {}
    (root / "scenarist.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    train = root / "data" / "transactions_2017Q1.parquet"
    if not train.exists():
        train.parent.mkdir(exist_ok=True)
        transactions("2017Q1").to_parquet(train)
    (root / "models").mkdir(exist_ok=True)
    (root / "models" / "fraud.joblib").write_bytes(b"")
    return load_project(root)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    data = tmp_path / "data"
    data.mkdir()
    for quarter in ("2017Q1", "2017Q4"):
        transactions(quarter).to_parquet(data / f"transactions_{quarter}.parquet")
        transactions(quarter).to_csv(data / f"batch_{quarter}.csv", index=False)
    engine = sa.create_engine(f"sqlite:///{data / 'warehouse.db'}")
    with engine.begin() as conn:
        pd.concat([transactions("2017Q1"), transactions("2017Q4")]).to_sql(
            "transactions", conn, index=False)
    engine.dispose()
    return build(
        tmp_path,
        {
            "batch_csv": {"path": "data/batch_{{ quarter }}.csv"},
            "slim": {"path": "data/transactions_2017Q1.parquet",
                     "columns": ["card_fico_score", "card_age"]},
            "from_db": {"sql": "SELECT * FROM transactions WHERE quarter = '{{ quarter }}'",
                        "connection": "warehouse"},
            "bad_sql": {"sql": "SELECT * FROM transaction_log", "connection": "warehouse"},
        },
        {"warehouse": {"url": "sqlite:///data/warehouse.db"}},  # relative to the project
        variables={"quarter": "2017Q1"},
    )


def test_parquet_with_variables(project: Project) -> None:
    frame = read_dataset(project, "transactions_batch", {"quarter": "2017Q4"})
    pd.testing.assert_frame_equal(frame, transactions("2017Q4"))
    train = read_dataset(project, "transactions_train")
    pd.testing.assert_frame_equal(train, transactions("2017Q1"))


def test_project_variables_are_the_defaults(project: Project) -> None:
    frame = read_dataset(project, "batch_csv")  # quarter=2017Q1 from project variables
    pd.testing.assert_frame_equal(frame, transactions("2017Q1"))
    assert set(read_dataset(project, "batch_csv", {"quarter": "2017Q4"}).quarter) == {"2017Q4"}


def test_columns_are_selected_in_order(project: Project) -> None:
    assert list(read_dataset(project, "slim").columns) == ["card_fico_score", "card_age"]


def test_missing_column_is_named(project: Project) -> None:
    project.datasets["slim"].columns = ["card_age", "zip_code"]
    with pytest.raises(InputDataError, match="has no column 'zip_code' listed in `columns`; "
                       "it has: quarter, card_age"):
        read_dataset(project, "slim")


def test_sql_with_variables(project: Project) -> None:
    frame = read_dataset(project, "from_db", {"quarter": "2017Q4"})
    pd.testing.assert_frame_equal(frame, transactions("2017Q4"))


def test_missing_file_shows_rendered_path_and_variables(project: Project) -> None:
    with pytest.raises(InputDataError, match=r"dataset 'transactions_batch': "
                       r"data/transactions_2017Q5.parquet does not exist \(quarter=2017Q5\)"):
        read_dataset(project, "transactions_batch", {"quarter": "2017Q5"})


def test_undefined_variable_is_a_config_error(project: Project) -> None:
    project.variables.clear()
    with pytest.raises(ConfigError, match="undefined variable quarter in template") as info:
        read_dataset(project, "transactions_batch")
    assert info.value.problems[0].location == "datasets.transactions_batch.path"


def test_unknown_dataset_lists_the_defined_ones(project: Project) -> None:
    with pytest.raises(ConfigError, match="unknown dataset 'batch'; defined datasets: "
                       "transactions_train, transactions_batch, batch_csv"):
        read_dataset(project, "batch")


@pytest.mark.parametrize(("dataset", "content", "reason"), [
    ("transactions_train", b"PAR1 not really parquet", "as parquet: ArrowInvalid"),
    ("batch_csv", b'a,b\n"1,2\n', "as csv: ParserError"),
    ("batch_csv", b"\xff\xfe\x00\x81\xff", "as csv: UnicodeDecodeError"),
])
def test_corrupt_file(project: Project, dataset: str, content: bytes, reason: str) -> None:
    path = "transactions_2017Q1.parquet" if dataset == "transactions_train" else "batch_2017Q1.csv"
    (project.root / "data" / path).write_bytes(content)
    with pytest.raises(InputDataError, match=f"dataset '{dataset}': cannot read .*{reason}"):
        read_dataset(project, dataset)


def test_bad_read_option_is_a_config_error(project: Project) -> None:
    project.datasets["batch_csv"].read_options = {"sepp": ";"}
    with pytest.raises(ConfigError, match="invalid read option for csv") as info:
        read_dataset(project, "batch_csv")
    assert info.value.problems[0].location == "datasets.batch_csv.read_options"


def test_sql_error_names_connection_and_database_message(project: Project) -> None:
    with pytest.raises(InputDataError, match="dataset 'bad_sql': the query failed on connection "
                       "'warehouse': no such table: transaction_log"):
        read_dataset(project, "bad_sql")


def test_missing_sqlite_database(project: Project) -> None:
    (project.root / "data" / "warehouse.db").unlink()
    with pytest.raises(InputDataError, match="SQLite database of connection 'warehouse' does "
                       "not exist"):
        read_dataset(project, "from_db")
    assert not (project.root / "data" / "warehouse.db").exists()  # not created by reading


def test_unreachable_database(tmp_path: Path) -> None:
    project = build(tmp_path, {"remote": {"sql": "SELECT 1", "connection": "pg"}},
                    {"pg": {"url": "postgresql+psycopg://u:secret@127.0.0.1:1/db"}})
    with pytest.raises(InputDataError, match=r"cannot reach the database of connection 'pg' "
                       r"\(postgresql\+psycopg://u:\*\*\*@127.0.0.1:1/db\)") as info:
        read_dataset(project, "remote")
    assert "secret" not in str(info.value)


def test_unset_environment_variable_in_url(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCENARIST_TEST_WAREHOUSE", raising=False)
    project = build(tmp_path, {"remote": {"sql": "SELECT 1", "connection": "dw"}},
                    {"dw": {"url": "${SCENARIST_TEST_WAREHOUSE}"}})
    with pytest.raises(ConfigError, match="environment variable SCENARIST_TEST_WAREHOUSE is "
                       "not set"):
        read_dataset(project, "remote")
    monkeypatch.setenv("SCENARIST_TEST_WAREHOUSE", "sqlite://")  # in-memory database
    assert read_dataset(project, "remote").iloc[0, 0] == 1
