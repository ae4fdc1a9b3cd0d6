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

from scenarist.errors import ConfigError


def import_function(reference: str, root: Path | str | None = None) -> Callable[..., object]:
    """The callable named by "package.module:function"; modules in `root` are importable.

    Raises ConfigError saying what failed: the form, the module import (with its error), the
    missing function (listing the module's functions) or a non-callable."""
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise ConfigError(f"{reference!r} is not 'module:function' (e.g. 'monitoring:my_step')")
    if root is not None:
        _prefer_project_modules(Path(root), module_name)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure is the user's to fix
        raise ConfigError(
            f"cannot import module {module_name!r} ({type(exc).__name__}: {exc}); modules "
            "import from the project folder"
        ) from exc
    target = getattr(module, attribute, None)
    if target is None:
        known = sorted(
            name for name, value in vars(module).items()
            if callable(value) and not name.startswith("_")
            and getattr(value, "__module__", None) == module.__name__
        )
        raise ConfigError(f"module {module_name!r} has no function {attribute!r}; "
                          f"functions: {', '.join(known) or 'none'}")
    if not callable(target):
        raise ConfigError(f"{reference} is a {type(target).__name__}, not a function")
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
