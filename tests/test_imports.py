"""module:function references resolve against the project's own folder."""

from __future__ import annotations

import pytest

from scenarist.errors import ConfigError
from scenarist.project.imports import import_function


def test_each_project_gets_its_own_module_of_the_same_name(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    for folder, value in ((one, 1), (two, 2)):
        folder.mkdir()
        (folder / "same_name_steps.py").write_text(f"def value():\n    return {value}\n")
    assert import_function("same_name_steps:value", one)() == 1
    assert import_function("same_name_steps:value", two)() == 2
    assert import_function("same_name_steps:value", one)() == 1


def test_bad_references_say_what_is_wrong(tmp_path):
    (tmp_path / "broken_steps.py").write_text("import not_installed_anywhere\n")
    (tmp_path / "fine_steps.py").write_text("X = 1\n")
    with pytest.raises(ConfigError, match="is not 'module:function'"):
        import_function("fine_steps.run", tmp_path)
    with pytest.raises(ConfigError, match=r"import module 'broken_steps' \(ModuleNotFoundError"):
        import_function("broken_steps:run", tmp_path)
    with pytest.raises(ConfigError, match="'fine_steps' has no function 'run'; functions: none"):
        import_function("fine_steps:run", tmp_path)
    with pytest.raises(ConfigError, match="fine_steps:X is a int, not a function"):
        import_function("fine_steps:X", tmp_path)
