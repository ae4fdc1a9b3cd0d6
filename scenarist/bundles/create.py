"""`scenarist bundle create`: pack a project into an immutable `VERSION.tar.gz`.

    path = create_bundle("my-project", "v3", notes="adds scenario for monitoring data drift",
                         include_data=["transactions_train"])

What goes in: every file of the project folder except runtime state and secrets (`EXCLUDED`:
`.scenarist/`, `.env*`, `.git/`, `workspaces/`, caches, virtualenvs) and except the files of
datasets — those enter only when named in `include_data` (e.g. the reference data). Model files,
templates and python step/check modules are ordinary project files and always go in.

Secrets never enter a bundle. The bundled `scenarist.yaml` keeps each connection by name only
(`store: {}`); the workspace a bundle is deployed to supplies URLs and credentials. A project file
holding a literal password (in a URL or `password:`) is refused: write `${ENV_VAR}` instead.
"""

from __future__ import annotations

import fnmatch
import getpass
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import yaml
from sqlalchemy.engine import make_url

from scenarist.bundles.archive import write_archive
from scenarist.bundles.manifest import FileEntry, Manifest, check_version
from scenarist.errors import BundleError, ConfigError, ConfigProblem
from scenarist.project.config import PROJECT_FILE, Project
from scenarist.validation import load_project

EXCLUDED = (".scenarist", ".env*", ".git", ".hg", ".svn", "workspaces", "__pycache__", "*.pyc",
            ".venv", "venv", ".ipynb_checkpoints", ".pytest_cache", ".ruff_cache", ".DS_Store")
_ENV_REF = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")


def bundles_folder(project: Project) -> Path:
    """Where `create` writes archives: `<project>/.scenarist/bundles/`."""
    return project.root / ".scenarist" / "bundles"


def create_bundle(
    project: Project | str | Path,
    version: str,
    *,
    notes: str = "",
    include_data: list[str] | tuple[str, ...] = (),
    output: Path | None = None,
) -> Path:
    """Validate the project, then write `VERSION.tar.gz` (default under .scenarist/bundles/).

    Refuses an existing version (bundles are immutable), a literal password in the project
    file and an unknown dataset in `include_data`."""
    check_version(version)
    loaded = project if isinstance(project, Project) else load_project(project)
    path = (output or bundles_folder(loaded)) / f"{version}.tar.gz"
    if path.exists():
        raise BundleError(f"bundle {version} of {loaded.project!r} already exists at {path}; "
                          "a bundle is immutable — create a new version (e.g. bump it)")
    refuse_literal_secrets(loaded)
    files = project_files(loaded, include_data)
    files[PROJECT_FILE] = sanitized_project_file(loaded)
    entries = [_entry(name, source) for name, source in sorted(files.items())]
    commit, dirty = _git_state(loaded.root)
    from scenarist import __version__

    manifest = Manifest(
        project=loaded.project,
        version=version,
        notes=notes,
        created_at=datetime.now(timezone.utc).replace(microsecond=0),
        created_by=_user(),
        scenarist_version=__version__,
        git_commit=commit,
        git_dirty=dirty,
        connections={name: c.kind for name, c in loaded.connections.items()},
        included_data=sorted(set(include_data)),
        files=entries,
    )
    return write_archive(path, manifest, files)


def project_files(project: Project, include_data=()) -> dict[str, bytes | Path]:
    """{relative POSIX path: file} of what a bundle of `project` holds (project file included
    as is; `create_bundle` replaces it with the sanitized one)."""
    unknown = [name for name in include_data if name not in project.datasets]
    if unknown:
        known = ", ".join(project.datasets) or "none"
        raise ConfigError(f"--include-data: unknown dataset(s) {', '.join(unknown)}; "
                          f"datasets of {project.project!r}: {known}")
    excluded_data: set[Path] = set()
    included_data: set[Path] = set()
    for name, spec in project.datasets.items():
        if spec.path is None:
            if name in include_data:
                raise ConfigError(f"--include-data: dataset {name!r} is a SQL query; it has no "
                                  "file to include")
            continue
        matches = _dataset_files(project.root, spec.path)
        (included_data if name in include_data else excluded_data).update(matches)
    excluded_data -= included_data
    root = project.root.resolve()
    files: dict[str, bytes | Path] = {}
    for path in sorted(_walk(root)):
        relative = path.relative_to(root)
        if path.resolve() in excluded_data:
            continue
        if path.is_symlink():
            target = path.resolve()
            if not target.is_relative_to(root):
                raise BundleError(f"{relative} is a symbolic link to {target}, outside the "
                                  "project; copy the file into the project or remove the link")
        files[relative.as_posix()] = path
    return files


def sanitized_project_file(project: Project) -> bytes:
    """scenarist.yaml with every connection reduced to its name (`store: {}`)."""
    assert project.file is not None
    raw = yaml.safe_load(project.file.read_text()) or {}
    if "connections" in raw:
        raw["connections"] = {name: {} for name in raw["connections"] or {}}
    header = ("# Bundled by scenarist: connections are kept by name only; the workspace a\n"
              "# bundle is deployed to supplies their URLs and credentials.\n")
    return (header + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)).encode()


def refuse_literal_secrets(project: Project) -> None:
    """ConfigError when a connection holds a literal password (URL or `password:`)."""
    problems = []
    file = str(project.file or "")
    for name, connection in project.connections.items():
        if connection.password is not None and not _ENV_REF.match(connection.password):
            problems.append(ConfigProblem(file, f"connections.{name}.password", _SECRET_HINT))
        if connection.url and _url_has_literal_password(connection.url):
            problems.append(ConfigProblem(file, f"connections.{name}.url", _SECRET_HINT))
    if problems:
        raise ConfigError(problems)


_SECRET_HINT = ("holds a literal password, which would enter the bundle; write it as "
                "${ENV_VAR} (e.g. ${PGPASSWORD}) and export the variable where the project runs")


def _url_has_literal_password(url: str) -> bool:
    placeholder = re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}", "ENVREF", url)
    try:
        parsed = make_url(placeholder)
    except Exception:  # noqa: BLE001 - an unparsable URL is reported by validation, not here
        return False
    passwords = [parsed.password] + [v for k, v in parsed.query.items() if k.lower() == "password"]
    return any(p not in (None, "", "ENVREF") for p in passwords)


def _dataset_files(root: Path, path: str) -> set[Path]:
    pattern = re.sub(r"\{\{.*?\}\}", "*", path)
    if Path(pattern).is_absolute():
        return set()
    return {p.resolve() for p in root.glob(pattern) if p.is_file()}


def _walk(root: Path):
    for path in root.iterdir():
        if any(fnmatch.fnmatch(path.name, pattern) for pattern in EXCLUDED):
            continue
        if path.is_dir() and not path.is_symlink():
            yield from _walk(path)
        elif path.is_file():
            yield path


def _entry(name: str, source: bytes | Path) -> FileEntry:
    import hashlib

    data = source if isinstance(source, bytes) else source.read_bytes()
    return FileEntry(path=name, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def _git_state(root: Path) -> tuple[str | None, bool | None]:
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"],
                                capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return None, None
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "."],
                                capture_output=True, text=True, timeout=10)
        return commit.stdout.strip(), bool(status.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None, None


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment
        return "unknown"
