"""A SQLite store whose folder cannot hold it says so, not "is the database server running".

The tests may run as root, for whom `chmod 0555` blocks nothing; so the folder that cannot be
written is a chmod-0555 one for other users and, for root, `/proc` (a folder no one can create
files in). The folder that cannot be created is under a regular file (a path through a file)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scenarist.errors import StoreError
from scenarist.stores.database import connect


@pytest.fixture
def unwritable_folder(tmp_path: Path):
    if os.geteuid() == 0:  # root writes into 0555 folders; /proc takes no new files
        yield Path("/proc")
        return
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


def test_a_folder_that_is_not_writable_is_named(unwritable_folder: Path):
    with pytest.raises(StoreError) as info:
        connect(f"sqlite:///{unwritable_folder}/store.db")
    message = str(info.value)
    assert f"folder {unwritable_folder} is not writable" in message
    assert "server is running" not in message
    assert "connections.store" in message


def test_a_folder_that_cannot_be_created_is_named(tmp_path: Path):
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(StoreError) as info:
        connect(f"sqlite:///{tmp_path}/a-file/stores/store.db")
    message = str(info.value)
    assert f"folder {tmp_path}/a-file/stores does not exist and cannot be created" in message
    assert "Not a directory" in message and "server is running" not in message
