"""Layers: a lower layer never imports a higher one, and the light entry points stay light.

Imports are read from the source (module level and inside functions alike), so a late import
that only hides a cycle still counts."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "scenarist"


def _loaded_after(code: str) -> set[str]:
    """Top-level names of the modules a fresh interpreter holds after running `code`."""
    probe = f"{code}; import sys; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    return set(result.stdout.split())


def _imports(path: Path) -> set[str]:
    """Every scenarist module `path` imports, anywhere in the file."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                base = ".".join(module.split(".")[: -node.level] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("scenarist")}


def _modules(package: str) -> list[Path]:
    target = PACKAGE.parent.joinpath(*package.split("."))
    return sorted(target.rglob("*.py")) if target.is_dir() else [target.with_suffix(".py")]


def test_checks_and_metrics_import_neither_prefect_nor_fastapi():
    loaded = _loaded_after("import scenarist.checks, scenarist.metrics")
    assert {"prefect", "fastapi"} & loaded == set()


def test_the_command_line_loads_no_heavy_library_before_a_command_runs():
    loaded = _loaded_after("import scenarist.cli")
    heavy = {"pandas", "numpy", "scipy", "sklearn", "prefect", "plotly", "sqlalchemy",
             "alembic", "pyarrow", "fastapi"}
    assert heavy & loaded == set()


def test_validate_reads_a_project_without_the_statistics_or_pandas():
    """`scenarist validate` checks files; scipy and pandas (~2 s to load) are not needed."""
    loaded = _loaded_after("import scenarist.validation, scenarist.checks")
    assert {"scipy", "pandas", "sklearn"} & loaded == set()


@pytest.mark.parametrize(("lower", "higher"), [
    ("scenarist.bundles", "scenarist.flows"),  # the bundle step (flows) deploys releases
    ("scenarist.operations.streamed", "scenarist.operations.build"),  # build streams
    ("scenarist.operations.stores", "scenarist.operations.build"),
    ("scenarist.checks", "scenarist.flows"),
    ("scenarist.metrics", "scenarist.flows"),
    ("scenarist.metrics", "scenarist.checks"),
    ("scenarist.profiles", "scenarist.operations"),
])
def test_a_lower_layer_never_imports_a_higher_one(lower, higher):
    offending = {str(path.relative_to(PACKAGE.parent)): sorted(
                     name for name in _imports(path)
                     if name == higher or name.startswith(higher + "."))
                 for path in _modules(lower)}
    assert {path: names for path, names in offending.items() if names} == {}


def test_bundles_register_the_flow_with_the_schema_of_its_signature():
    """bundles read the scenario flow's parameter schema from its source (not importing flows):
    it is the schema Prefect derives from the flow itself."""
    from prefect.utilities.callables import parameter_schema, parameter_schema_from_entrypoint

    from scenarist.bundles.prefect_deployments import ENTRYPOINT
    from scenarist.flows.scenario import scenario_flow

    assert (parameter_schema_from_entrypoint(ENTRYPOINT).model_dump_for_openapi()
            == parameter_schema(scenario_flow).model_dump_for_openapi())
