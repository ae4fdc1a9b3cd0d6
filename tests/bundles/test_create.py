"""Creating bundles: what goes in, what never does (secrets, runtime state), the manifest, the
registry on any fsspec URL, diffs — no Prefect needed."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
import yaml

from scenarist.bundles import (
    BundleError,
    Registry,
    create_bundle,
    diff_bundles,
    read_manifest,
    verify_archive,
)
from scenarist.errors import ConfigError
from tests.bundles.conftest import use_version


def names(archive: Path) -> list[str]:
    with tarfile.open(archive) as tar:
        return tar.getnames()


def bundled_project_file(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        return yaml.safe_load(tar.extractfile("project/scenarist.yaml").read())


def test_bundle_holds_the_project_and_named_data_but_never_secrets_or_state(design, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "s3cret-from-env")
    (design / ".scenarist").mkdir(exist_ok=True)
    (design / ".scenarist" / "store.db").write_text("runtime state")
    (design / ".env").write_text("PGPASSWORD=s3cret\n")
    (design / ".env.production").write_text("TOKEN=abc\n")
    (design / "workspaces").mkdir()
    (design / "workspaces" / "automation.yaml").write_text("root: /srv\n")
    (design / "my_checks.py").write_text("def ok(context):\n    return None\n")
    file = design / "scenarist.yaml"
    file.write_text(file.read_text().replace(
        'store: {url: "sqlite:///.scenarist/store.db"}',
        'store: {url: "postgresql://monitor:${PGPASSWORD}@db.internal/monitoring"}'))

    archive = create_bundle(design, "v1", notes="first release",
                            include_data=["transactions_train"])

    members = names(archive)
    assert members[0] == "manifest.json"
    assert sorted(members[1:]) == [
        "project/data/transactions_2017Q1.parquet", "project/models/fraud.joblib",
        "project/my_checks.py", "project/scenarist.yaml",
        "project/templates/drift_warning.txt.j2",
    ]  # the batch files (not named), .scenarist/, .env*, workspaces/ stay out
    raw = bundled_project_file(archive)
    assert raw["connections"] == {"store": {}, "mail": {}}  # kept by name only
    assert raw["scenarios"].keys() == {"Evaluate quarter"}
    with tarfile.open(archive) as tar:
        everything = b"".join(tar.extractfile(m).read() for m in tar.getmembers() if m.isfile())
    assert b"db.internal" not in everything and b"PGPASSWORD" not in everything

    manifest = verify_archive(archive)
    assert (manifest.project, manifest.version, manifest.notes) == (
        "fraud-monitoring", "v1", "first release")
    assert manifest.connections == {"store": "sql", "mail": "mail"}
    assert manifest.included_data == ["transactions_train"]
    assert manifest.created_by and manifest.scenarist_version
    entry = manifest.file("models/fraud.joblib")
    assert entry.size == (design / "models" / "fraud.joblib").stat().st_size
    assert len(entry.sha256) == 64


def test_literal_password_is_refused(design):
    file = design / "scenarist.yaml"
    file.write_text(file.read_text().replace(
        'store: {url: "sqlite:///.scenarist/store.db"}',
        'store: {url: "postgresql://monitor:hunter2@db.internal/monitoring"}').replace(
        "sender: mlops@example.com}", "sender: mlops@example.com, password: hunter2}"))
    with pytest.raises(ConfigError) as refused:
        create_bundle(design, "v1")
    message = str(refused.value)
    assert "connections.store.url: holds a literal password" in message
    assert "connections.mail.password: holds a literal password" in message
    assert "write it as ${ENV_VAR}" in message
    assert not (design / ".scenarist" / "bundles" / "v1.tar.gz").exists()


def test_bad_versions_and_unknown_datasets_are_refused(design):
    with pytest.raises(ConfigError, match=r"bundle version '\.\./v1' is not valid: use letters"):
        create_bundle(design, "../v1")
    with pytest.raises(ConfigError, match=r"unknown dataset\(s\) nope; datasets of "
                       r"'fraud-monitoring': transactions_train, transactions_batch"):
        create_bundle(design, "v1", include_data=["nope"])


def test_registry_on_an_fsspec_url_and_diff(design, tmp_path):
    registry = Registry(f"memory://registry-{tmp_path.name}")
    v1 = create_bundle(design, "v1", notes="first")
    use_version(design, "v3")
    (design / "templates" / "extra.txt.j2").write_text("hello {{ scenarioName }}\n")
    v3 = create_bundle(design, "v3", notes="adds scenario for monitoring data drift")
    for archive in (v1, v3):
        registry.publish(archive)
    assert registry.publish(v1).sha256 == registry.get("fraud-monitoring", "v1").sha256
    assert [b.manifest.notes for b in registry.versions("fraud-monitoring")] == [
        "first", "adds scenario for monitoring data drift"]
    fetched, published = registry.fetch("fraud-monitoring", "v3", to=tmp_path / "fetched")
    assert read_manifest(fetched) == published.manifest

    diff = diff_bundles(v1, fetched)
    assert diff.added_files == ["templates/extra.txt.j2"]
    assert diff.removed_files == []
    assert diff.changed_files == ["scenarist.yaml"]
    assert [(c.section, c.name, c.change) for c in diff.definitions] == [
        ("scenarios", "Data drift monitor", "added"),
        ("reporters", "Data drift monitor/Data drift warning", "added"),
    ]
    assert diff_bundles(v1, v1).empty


def test_same_manifest_and_files_give_the_same_bytes(design, tmp_path):
    from scenarist.bundles.archive import write_archive
    from scenarist.bundles.create import project_files, sanitized_project_file
    from scenarist.project.config import load_project

    archive = create_bundle(design, "v1")
    manifest = verify_archive(archive)
    project = load_project(design)
    files = {**project_files(project), "scenarist.yaml": sanitized_project_file(project)}
    again = write_archive(tmp_path / "again.tar.gz", manifest, files)
    assert again.read_bytes() == archive.read_bytes()


def test_publish_without_create_says_what_to_do(design):
    from typer.testing import CliRunner

    from scenarist.cli import app

    result = CliRunner().invoke(app, ["bundle", "publish", "v7", "--project", str(design)])
    assert result.exit_code == 4
    assert "no bundle v7" in result.output and "scenarist bundle create v7" in result.output
    with pytest.raises(BundleError, match="does not exist"):
        verify_archive(design / "missing.tar.gz")
