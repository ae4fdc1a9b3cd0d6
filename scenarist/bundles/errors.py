"""The one error type of bundles, releases and workspaces.

    ScenaristError
    ├── ConfigError       a bad workspace file, an unknown dataset for --include-data, a project
    │                     file holding a literal password (definition time)
    └── BundleError       a bundle that cannot be created, published, verified or deployed:
                          duplicate version, checksum mismatch, unsafe archive member, an
                          unreachable store or Prefect API during deploy, nothing to roll back to

Every message says what to do next; a failed deploy always leaves the active release as it was.
"""

from __future__ import annotations

from scenarist.errors import ScenaristError


class BundleError(ScenaristError, RuntimeError):
    """A bundle or release operation that was refused or failed; the message says why."""
