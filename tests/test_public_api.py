"""The public API: everything in `scenarist.__all__` exists, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import scenarist


def test_all_names_exist_and_are_sorted():
    assert [name for name in scenarist.__all__ if not hasattr(scenarist, name)] == []
    assert scenarist.__all__ == sorted(scenarist.__all__)


def test_import_does_not_start_prefect():
    code = "import sys, scenarist; print('prefect' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
