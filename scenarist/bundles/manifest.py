"""A bundle's manifest (`manifest.json` at the top of the archive): what the bundle is and the
sha256 and size of every file it holds.

    manifest = Manifest.read_json(text)      # or Manifest(...).to_json()
    manifest.file("scenarist.yaml").sha256

Project files sit under `project/` in the archive (`PROJECT_DIR`), so a project's own file named
`manifest.json` can never shadow the manifest. Paths in the manifest are POSIX and relative to
the project folder.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import IO, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from scenarist.errors import ConfigError

MANIFEST_NAME = "manifest.json"
PROJECT_DIR = "project"
FORMAT = 1
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")


class FileEntry(BaseModel):
    """One file of the bundle."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(description="POSIX path relative to the project folder.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Hex sha256 of the content.")
    size: int = Field(ge=0, description="Size in bytes.")


class Manifest(BaseModel):
    """What a bundle is: project, version, notes, provenance and its files' checksums."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: int = Field(FORMAT, description="Manifest format version.")
    project: str = Field(description="Project name (the `project:` of scenarist.yaml).")
    version: str = Field(description="Bundle version, unique per project.")
    notes: str = Field("", description="Release notes.")
    created_at: datetime = Field(description="When the bundle was created (UTC).")
    created_by: str = Field(description="Who created it (the OS user).")
    scenarist_version: str = Field(description="scenarist version that created it.")
    git_commit: str | None = Field(None, description="HEAD of the project's git repository.")
    git_dirty: bool | None = Field(None, description="The work tree had uncommitted changes.")
    connections: dict[str, Literal["sql", "mail"]] = Field(
        default_factory=dict,
        description="Connections the project uses, by name and kind only: a workspace supplies "
        "their URLs and credentials.",
    )
    included_data: list[str] = Field(
        default_factory=list, description="Datasets whose files were packed (--include-data)."
    )
    files: list[FileEntry] = Field(description="Every file of the bundle, sorted by path.")

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        check_version(value)
        return value

    def file(self, path: str) -> FileEntry | None:
        """The entry of `path`, or None."""
        return next((f for f in self.files if f.path == path), None)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"

    @classmethod
    def read_json(cls, text: str | bytes) -> Manifest:
        return cls.model_validate_json(text)


def check_version(version: str) -> str:
    """`version` when it is usable as a file name (letters, digits, . _ + -); else ConfigError."""
    if not VERSION_PATTERN.match(version or "") or version in (".", ".."):
        raise ConfigError(
            f"bundle version {version!r} is not valid: use letters, digits, '.', '_', '+' or '-' "
            "(at most 64, starting with a letter or digit), e.g. v3 or 2024.06.1"
        )
    return version


def sha256_of(stream: IO[bytes]) -> tuple[str, int]:
    """(hex sha256, size) of a binary stream, read in 1 MiB chunks."""
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size
