"""Bundle archives (`VERSION.tar.gz`): written reproducibly, read only after every member has
been checked.

    write_archive(path, manifest, files)   # files: {relative path: bytes or source Path}
    manifest = verify_archive(path)        # BundleError on an unsafe member or a bad checksum
    extract_archive(path, folder)          # verify, then tarfile's "data" filter

A bundle holds `manifest.json` and regular files under `project/` — nothing else. Reading
refuses absolute names, `..`, links of any kind, devices, members the manifest does not list,
files it lists that are missing, and any size or sha256 that differs, before a byte is written.
"""

from __future__ import annotations

import gzip
import io
import posixpath
import tarfile
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from scenarist.bundles.manifest import MANIFEST_NAME, PROJECT_DIR, Manifest, sha256_of
from scenarist.errors import BundleError

_REINSTALL = "re-create the bundle with `scenarist bundle create` and publish it again"


def write_archive(path: Path, manifest: Manifest, files: Mapping[str, bytes | Path]) -> Path:
    """Write a gzip tar of `manifest` and `files` to `path` (via a temp file, then renamed).

    Members are sorted, owned by nobody and dated `manifest.created_at`, so the same manifest
    and files always give the same bytes."""
    mtime = int(manifest.created_at.timestamp())
    temp = path.with_name(f".{path.name}.tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(temp, "wb") as raw, gzip.GzipFile(
        filename="", mode="wb", fileobj=raw, mtime=mtime
    ) as gz, tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _add(tar, MANIFEST_NAME, manifest.to_json().encode(), mtime)
        for name in sorted(files):
            source = files[name]
            data = source if isinstance(source, bytes) else source.read_bytes()
            _add(tar, f"{PROJECT_DIR}/{name}", data, mtime)
    temp.replace(path)
    return path


def read_manifest(path: Path) -> Manifest:
    """The manifest of an archive, without verifying its files (for listings)."""
    with _open(path) as tar:
        return _manifest(tar, path)


def verify_archive(path: Path) -> Manifest:
    """Check every member and every checksum of the archive at `path`; return its manifest."""
    with _open(path) as tar:
        members = tar.getmembers()
        for member in members:
            _check_member(member, path)
        manifest = _manifest(tar, path)
        expected = {f"{PROJECT_DIR}/{entry.path}": entry for entry in manifest.files}
        present = {m.name: m for m in members if m.isfile() and m.name != MANIFEST_NAME}
        extra = sorted(set(present) - set(expected))
        missing = sorted(set(expected) - set(present))
        if extra or missing:
            parts = ([f"files not in its manifest: {', '.join(extra)}"] if extra else []) + (
                [f"files missing: {', '.join(missing)}"] if missing else [])
            raise BundleError(f"bundle {path.name} does not match its manifest "
                              f"({'; '.join(parts)}); {_REINSTALL}")
        for name, entry in expected.items():
            stream = tar.extractfile(present[name])
            assert stream is not None  # a regular file
            digest, size = sha256_of(stream)
            if (digest, size) != (entry.sha256, entry.size):
                raise BundleError(
                    f"bundle {path.name}: checksum mismatch for {entry.path} (manifest sha256 "
                    f"{entry.sha256[:12]}…, {entry.size} bytes; archive {digest[:12]}…, {size} "
                    f"bytes) — the bundle was modified after it was created; {_REINSTALL}"
                )
    return manifest


def extract_archive(path: Path, folder: Path) -> Manifest:
    """Verify the archive, then extract it into `folder` (which must be empty or absent)."""
    manifest = verify_archive(path)
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise BundleError(f"cannot extract {path.name}: {folder} is not empty")
    with _open(path) as tar:
        try:
            tar.extractall(folder, filter="data")
        except tarfile.FilterError as exc:  # already refused above; a second line of defence
            raise BundleError(f"bundle {path.name} has an unsafe member: {exc}") from exc
    return manifest


def _add(tar: tarfile.TarFile, name: str, data: bytes, mtime: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), mtime, 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def _open(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise BundleError(f"bundle archive {path} does not exist")
    try:
        return tarfile.open(path, "r:gz")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BundleError(f"{path.name} is not a readable bundle archive ({exc}); "
                          f"{_REINSTALL}") from exc


def _manifest(tar: tarfile.TarFile, path: Path) -> Manifest:
    try:
        member = tar.getmember(MANIFEST_NAME)
    except KeyError:
        raise BundleError(f"{path.name} has no {MANIFEST_NAME}; it is not a scenarist bundle "
                          f"— {_REINSTALL}") from None
    stream = tar.extractfile(member) if member.isfile() else None
    if stream is None:
        raise BundleError(f"{path.name}: {MANIFEST_NAME} is not a regular file; {_REINSTALL}")
    try:
        return Manifest.read_json(stream.read())
    except ValidationError as exc:
        raise BundleError(f"{path.name}: {MANIFEST_NAME} is not valid ({exc.error_count()} "
                          f"problem(s): {exc.errors()[0]['msg']}); {_REINSTALL}") from None


def _check_member(member: tarfile.TarInfo, path: Path) -> None:
    name = member.name
    unsafe = None
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        unsafe = "has an absolute path"
    elif ".." in posixpath.normpath(name).split("/") or ".." in name.split("/"):
        unsafe = "climbs out of the release folder with '..'"
    elif member.issym():
        unsafe = f"is a symbolic link (to {member.linkname!r})"
    elif member.islnk():
        unsafe = f"is a hard link (to {member.linkname!r})"
    elif not (member.isfile() or member.isdir()):
        unsafe = "is a device, FIFO or other special file"
    elif name != MANIFEST_NAME and not name.startswith(f"{PROJECT_DIR}/") and name != PROJECT_DIR:
        unsafe = f"is outside {PROJECT_DIR}/"
    if unsafe:
        raise BundleError(
            f"bundle {path.name} is unsafe: member {name!r} {unsafe}; bundles hold only "
            f"{MANIFEST_NAME} and regular files under {PROJECT_DIR}/. Nothing was extracted."
        )
