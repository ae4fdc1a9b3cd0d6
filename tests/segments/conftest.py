"""Fixtures of the segments tests; the generated data and project are in segment_data.py."""

from __future__ import annotations

import pytest
from segment_data import write_project


@pytest.fixture
def make_project(tmp_path):
    return lambda store, name="project", **kw: write_project(tmp_path / name, store, **kw)
