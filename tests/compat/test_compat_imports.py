"""compat/ is a face of the product: it uses the public API and httpx, never another face
(server, console, commands, agent) or a store module (DESIGN.md §2)."""

from __future__ import annotations

import ast
from pathlib import Path

import scenarist.compat

ALLOWED = ("scenarist", "scenarist.compat", "scenarist.deployments", "scenarist.errors")


def test_compat_imports_only_the_public_api():
    imported = {}
    for path in Path(scenarist.compat.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] == "scenarist":
                    imported.setdefault(name, set()).add(path.name)
    wrong = {name: files for name, files in imported.items()
             if not any(name == a or (a == "scenarist.compat" and name.startswith(a + "."))
                        for a in ALLOWED)}
    assert wrong == {}
    assert "scenarist.deployments" in imported
