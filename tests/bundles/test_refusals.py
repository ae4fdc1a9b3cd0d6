"""Every refusal of create, publish and deploy says what is wrong and what to do, and a refused
deploy leaves the previous release (v1) active, its folder and Prefect deployments untouched."""

from __future__ import annotations

import io
import shutil
import tarfile
import uuid
from pathlib import Path

import pytest

from scenarist.bundles import (
    BundleError,
    Registry,
    Workspace,
    create_bundle,
    deploy_bundle,
    load_workspace,
)
from scenarist.errors import ConfigError, StoreError
from scenarist.project.config import load_project
from tests.bundles.conftest import deployments_of, free_port, use_version, write_workspace

DATA = ["transactions_train"]  # the reference data: validation needs its file


@pytest.fixture(scope="module")
def v1_active(example_project, tmp_path_factory, work_pool):
    """v1 created, published and deployed; v3 created and published (not deployed). Shared by
    the module: every test here must leave it as it found it — which is what they check."""
    base = tmp_path_factory.mktemp("refusals")
    design = base / "project"
    shutil.copytree(example_project, design, ignore=shutil.ignore_patterns(".scenarist"))
    use_version(design, "v1")
    file = write_workspace(design, base / "automation", work_pool=work_pool,
                           name=f"automation-{uuid.uuid4().hex[:6]}")
    registry = Registry.open(project_root=design)
    registry.publish(create_bundle(design, "v1", notes="first", include_data=DATA))
    use_version(design, "v3")
    registry.publish(create_bundle(design, "v3", notes="adds drift scenario", include_data=DATA))
    config = load_workspace(file.stem, design)
    deploy_bundle("fraud-monitoring", "v1", config, registry=registry)
    return config, registry, design


def assert_v1_untouched(config) -> None:
    space = Workspace(config)
    assert space.active_version() == "v1"
    assert space.installed() == ["v1"]
    assert not [p.name for p in space.releases.iterdir() if p.name.startswith(".")]
    assert [e.version for e in space.history()] == ["v1"]
    assert load_project(space.project_path("v1")).scenarios.keys() == {"Evaluate quarter"}
    (deployment,) = deployments_of(config.name).values()
    assert "bundle:v1" in deployment.tags


def bundle_path(design: Path, version: str) -> Path:
    return design / ".scenarist" / "bundles" / f"{version}.tar.gz"


def rewrite(source: Path, target: Path, change) -> Path:
    """Copy archive `source` to `target`, letting `change(name, data)` return new bytes, or
    adding the extra (TarInfo, bytes) members it returns for name None."""
    with tarfile.open(source) as old, tarfile.open(target, "w:gz") as new:
        for member in old.getmembers():
            data = old.extractfile(member).read()
            data = change(member.name, data)
            member.size = len(data)
            new.addfile(member, io.BytesIO(data))
        for info, data in change(None, None) or []:
            new.addfile(info, io.BytesIO(data) if data is not None else None)
    return target


def test_tampered_file_is_refused(v1_active, tmp_path):
    config, _, design = v1_active
    tampered = rewrite(bundle_path(design, "v3"), tmp_path / "v3.tar.gz",
                       lambda name, data: data.replace(b"0.45", b"0.99")
                       if name == "project/scenarist.yaml" else data)
    with pytest.raises(BundleError, match=r"checksum mismatch for scenarist\.yaml .*modified "
                       r"after it was created(.|\n)*release v1 remains active"):
        deploy_bundle("fraud-monitoring", "v3", config, archive=tampered)
    assert_v1_untouched(config)


def test_tampered_registry_copy_is_refused(v1_active, tmp_path):
    config, registry, design = v1_active
    published = Path(registry.url) / "fraud-monitoring" / "v3.tar.gz"
    rewrite(bundle_path(design, "v3"), published,
            lambda name, data: data + b"# evil\n" if name == "project/scenarist.yaml" else data)
    try:
        with pytest.raises(BundleError, match="modified after it was published"):
            deploy_bundle("fraud-monitoring", "v3", config, registry=registry)
    finally:
        shutil.copyfile(bundle_path(design, "v3"), published)  # the module's other tests
    assert_v1_untouched(config)


def _extra_member(info: tarfile.TarInfo, data: bytes | None = None):
    def change(name, content):
        return [(info, data)] if name is None else content
    return change


def test_path_traversal_member_is_refused(v1_active, tmp_path):
    config, _, design = v1_active
    evil = tarfile.TarInfo("project/../../evil.txt")
    evil.size = 5
    bad = rewrite(bundle_path(design, "v3"), tmp_path / "v3.tar.gz", _extra_member(evil, b"evil!"))
    with pytest.raises(BundleError, match=r"member 'project/\.\./\.\./evil\.txt' climbs out of "
                       r"the release folder with '\.\.'(.|\n)*Nothing was extracted"):
        deploy_bundle("fraud-monitoring", "v3", config, archive=bad)
    assert not list(Path(config.root).parent.rglob("evil.txt"))
    assert_v1_untouched(config)


def test_absolute_member_is_refused(v1_active, tmp_path):
    config, _, design = v1_active
    evil = tarfile.TarInfo(str(tmp_path / "abs-evil.txt"))
    evil.size = 5
    bad = rewrite(bundle_path(design, "v3"), tmp_path / "v3.tar.gz", _extra_member(evil, b"evil!"))
    with pytest.raises(BundleError, match="has an absolute path"):
        deploy_bundle("fraud-monitoring", "v3", config, archive=bad)
    assert not (tmp_path / "abs-evil.txt").exists()
    assert_v1_untouched(config)


def test_symlink_member_is_refused(v1_active, tmp_path):
    config, _, design = v1_active
    link = tarfile.TarInfo("project/templates/secrets.txt")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    bad = rewrite(bundle_path(design, "v3"), tmp_path / "v3.tar.gz", _extra_member(link))
    with pytest.raises(BundleError, match=r"member 'project/templates/secrets\.txt' is a "
                       r"symbolic link \(to '/etc/passwd'\)"):
        deploy_bundle("fraud-monitoring", "v3", config, archive=bad)
    assert_v1_untouched(config)


def test_member_missing_from_manifest_is_refused(v1_active, tmp_path):
    config, _, design = v1_active
    extra = tarfile.TarInfo("project/extra.py")
    extra.size = 4
    bad = rewrite(bundle_path(design, "v3"), tmp_path / "v3.tar.gz", _extra_member(extra, b"x=1\n"))
    with pytest.raises(BundleError, match=r"files not in its manifest: project/extra\.py"):
        deploy_bundle("fraud-monitoring", "v3", config, archive=bad)
    assert_v1_untouched(config)


def test_duplicate_version_with_different_content_is_refused(v1_active, tmp_path):
    config, registry, design = v1_active
    with pytest.raises(BundleError, match="v1 of 'fraud-monitoring' already exists .*immutable"):
        create_bundle(design, "v1")
    other = create_bundle(design, "v1", notes="same version, other content", include_data=DATA,
                          output=tmp_path / "elsewhere")
    with pytest.raises(BundleError, match=r"v1 of 'fraud-monitoring' is already published with "
                       r"different content .*versions are immutable — create a new version"):
        registry.publish(other)
    with pytest.raises(BundleError, match=r"already has a release v1 from a different bundle"):
        deploy_bundle("fraud-monitoring", "v1", config, archive=other)  # v1 is active: refused
    assert registry.publish(bundle_path(design, "v1")).version == "v1"  # same bytes: a no-op
    assert_v1_untouched(config)


def test_unreachable_store_is_refused(v1_active):
    config, registry, design = v1_active
    saved = config.file.read_text()
    write_workspace(design, config.root, name=config.name, work_pool=config.work_pool,
                    store_url=f"postgresql://scenarist@127.0.0.1:{free_port()}/prod")
    unreachable = load_workspace(config.name, design)
    config.file.write_text(saved)
    with pytest.raises(StoreError, match=r"deploy of v3 to '.*' refused: cannot reach the store "
                       r"at postgresql\+psycopg://scenarist@127\.0\.0\.1:\d+/prod(.|\n)*"
                       r"release v1 remains active"):
        deploy_bundle("fraud-monitoring", "v3", unreachable, registry=registry)
    assert_v1_untouched(config)


def test_workspace_missing_a_connection_is_refused(v1_active):
    config, registry, design = v1_active
    without_mail = config.model_copy(update={"connections": {"store": config.connections["store"]}})
    with pytest.raises(ConfigError, match=r"does not define connection\(s\) mail that project "
                       r"'fraud-monitoring' uses; add them under `connections:`"):
        deploy_bundle("fraud-monitoring", "v3", without_mail, registry=registry)
    assert_v1_untouched(config)


def test_unknown_work_pool_is_refused(v1_active):
    config, registry, _ = v1_active
    with pytest.raises(BundleError, match=r"no work pool 'nope'; create it with `prefect "
                       r"work-pool create nope --type process`"):
        deploy_bundle("fraud-monitoring", "v3", config.model_copy(update={"work_pool": "nope"}),
                      registry=registry)
    assert_v1_untouched(config)


def test_unpublished_version_is_refused(v1_active):
    config, registry, _ = v1_active
    with pytest.raises(BundleError, match=r"bundle v9 of 'fraud-monitoring' is not in the "
                       r"registry .*published versions: v1, v3"):
        deploy_bundle("fraud-monitoring", "v9", config, registry=registry)
    assert_v1_untouched(config)
