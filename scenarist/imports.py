"""Importing a user's `module:function` reference, with the project folder on the path.

One process may serve several projects (a Prefect worker, the test suite) whose folders hold
modules of the same name: the project's own folder comes first on `sys.path`, and a module
already imported from another folder is imported again from this project's.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scenarist.errors import ConfigError


def import_function(reference: str, root: Path | None = None) -> Callable[..., Any]:
    """The callable named by "package.module:function"; modules in `root` are importable.

    Raises ConfigError saying what failed: the form, the module import (with its error) or the
    missing attribute."""
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise ConfigError(f"{reference!r} is not 'module:function' (e.g. 'monitoring:my_step')")
    if root is not None:
        _prefer_project_modules(Path(root), module_name)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure is the user's to fix
        raise ConfigError(
            f"cannot import module {module_name!r} for {reference!r}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    target: Any = module
    for part in attribute.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise ConfigError(f"module {module_name!r} has no attribute {attribute!r}")
    if not callable(target):
        raise ConfigError(f"{reference!r} is not callable")
    return target


def _prefer_project_modules(root: Path, module_name: str) -> None:
    folder = str(root.resolve())
    if folder in sys.path:
        sys.path.remove(folder)
    sys.path.insert(0, folder)
    top = module_name.split(".")[0]
    cached = sys.modules.get(top)
    origin = getattr(cached, "__file__", None)
    local = (root / f"{top}.py").exists() or (root / top / "__init__.py").exists()
    if cached is not None and local and not (origin and str(origin).startswith(folder)):
        for name in [n for n in sys.modules if n == top or n.startswith(f"{top}.")]:
            del sys.modules[name]
