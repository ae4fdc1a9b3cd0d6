"""Compaction: the many small feature files of a closed hour merged into one per (batch, hour).

Every `log_batch` call writes one Parquet file per hour it touches, so a server flushing once a
second writes ~86,000 files a day and a drift query opens each. `Deployment.compact` (and
`scenarist deployments compact`, and `compact_all` for a server's background thread) merges:

- the files of each closed hour — one that ended more than `older_than` ago (default: the
  deployment's `ingest.allowed_lateness`, after which no row can arrive in it) — into one file
  per (batch, hour); small calls' rows kept inline in their records (no file) are written out
  the same way, even when the hour holds only one such record;
- the files of days older than `ingest.compact_daily_after` days into one file per (batch, day).

A merge is atomic for readers: the merged file is written first; then ONE database transaction
retires the small files (`retired_at`) and registers the merged one, provided none of the small
ones was retired meanwhile (a concurrent compaction: the loser rolls back and removes its
file). Readers list the live files in one query, so they see the small files or the merged
one, never both, never neither. A late row (within the lateness window) that lands in a
compacted hour adds a small file beside the merged one; the next pass merges them.

Retired files are not deleted at once: a reader that listed them just before the switch may
still be opening them. A later pass deletes those retired more than `grace` seconds ago (default
10 minutes), files first, records after.

A process killed between writing a file (a large call's partition, a merged file) and the
transaction that records it leaves an unrecorded file that is never read. Each pass sweeps
them: partition files under `batch=*/` that no record (live or retired) names and that were
last modified more than `orphan_age` seconds ago (default 1 hour) are deleted. The folder is
listed before the records are read, so a file recorded in between is kept; a writer records
its files in the transaction of its call, seconds after writing them, so a file an hour old
that is still unrecorded belongs to no transaction in flight (a single `log_batch` call would
have to run for an hour).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update

from scenarist.stores.deployment_files import remove_records
from scenarist.stores.deployment_tables import feature_files

if TYPE_CHECKING:
    from scenarist.deployments.deployment import Deployment

log = logging.getLogger(__name__)

HOUR_S = 3600
GRACE_S = 600.0
ORPHAN_AGE_S = 3600.0
KEYS_PER_QUERY = 900  # SQLite before 3.32 binds at most 999 values


@dataclass(frozen=True)
class CompactionResult:
    """What one pass did on one deployment."""

    merged: int = 0          # merged files written (one per (batch, hour) or (batch, day))
    files_retired: int = 0   # small files they replaced
    files_deleted: int = 0   # retired files deleted (older than the grace period)
    skipped: int = 0         # merges abandoned because another compaction got there first
    orphans_deleted: int = 0  # files never recorded (a writer killed before its commit)


def compact(self: Deployment, older_than: timedelta | float | None = None, *,
            grace: float = GRACE_S, now: float | None = None,
            orphan_age: float = ORPHAN_AGE_S) -> CompactionResult:
    """Merge the files of closed hours (and old days) of this deployment; see the module."""
    now = time.time() if now is None else float(now)
    settings = self.settings.ingest
    lag = (settings.allowed_lateness if older_than is None else
           older_than.total_seconds() if isinstance(older_than, timedelta) else float(older_than))
    closed = int((now - lag) // HOUR_S)  # hours before this one are closed
    daily = min(closed, int((now - settings.compact_daily_after * 86_400) // 86_400) * 24)
    files = self.files
    groups: dict[tuple[str, int, int], list[Any]] = {}
    for record in files.listed(-(2 ** 31), closed, None):
        if record.hour + record.hours > closed:
            continue
        hour, hours = ((record.hour // 24 * 24, 24) if record.hour + record.hours <= daily
                       else (record.hour, record.hours))
        groups.setdefault((record.batch, hour, hours), []).append(record)
    merged = retired = skipped = 0
    for (batch, hour, hours), records in sorted(groups.items()):
        if len(records) < 2 and records[0].path:
            continue
        if _merge(self, batch, hour, hours, records, now):
            merged, retired = merged + 1, retired + len(records)
        else:
            skipped += 1
    deleted = purge_retired(self, now - grace)
    orphans = sweep_unrecorded(self, now - orphan_age)
    return CompactionResult(merged, retired, deleted, skipped, orphans)


def _merge(self: Deployment, batch: str, hour: int, hours: int, records: list[Any],
           now: float) -> bool:
    files = self.files
    inline = [r.key for r in records if not r.path]
    data: dict[int, bytes] = {}
    if inline:  # their rows, read now (listed without them: a day may hold 86,400 records)
        with self._engine.connect() as conn:
            for begin in range(0, len(inline), KEYS_PER_QUERY):
                data.update(conn.execute(select(feature_files.c.key, feature_files.c.data)
                                         .where(feature_files.c.key.in_(
                                             inline[begin:begin + KEYS_PER_QUERY]))).all())
    if len(data) < len(inline):
        return False  # another pass merged (and deleted) some of them meanwhile
    parts = [SimpleNamespace(path=r.path, data=data.get(r.key)) for r in records]
    table = files.rows_of(parts)
    relative = f"batch={batch}/hour={hour}/compact-{uuid.uuid4().hex[:16]}.parquet"
    files.write(relative, table)
    # files are retired (deleted after the grace period: a reader may be opening them);
    # inline records are deleted at once (a reader got their rows with the listing)
    keys = [r.key for r in records if r.path]
    live = feature_files.c.retired_at.is_(None)
    with self._engine.begin() as conn:
        switched = 0
        for begin in range(0, len(keys), KEYS_PER_QUERY):
            switched += conn.execute(update(feature_files).where(
                feature_files.c.key.in_(keys[begin:begin + KEYS_PER_QUERY]), live)
                .values(retired_at=now)).rowcount
        for begin in range(0, len(inline), KEYS_PER_QUERY):
            switched += conn.execute(delete(feature_files).where(
                feature_files.c.key.in_(inline[begin:begin + KEYS_PER_QUERY]), live)).rowcount
        if switched == len(records):
            conn.execute(insert(feature_files).values(
                deployment_key=self.key, batch=batch, hour=hour, hours=hours, path=relative,
                rows=table.num_rows, created_at=now, retired_at=None))
            return True
        conn.rollback()
    files.remove(relative)
    return False


def purge_retired(self: Deployment, retired_before: float) -> int:
    """Delete the files retired before `retired_before` (epoch seconds), then their records."""
    with self._engine.connect() as conn:
        found = conn.execute(select(feature_files.c.key, feature_files.c.path).where(
            feature_files.c.deployment_key == self.key,
            feature_files.c.retired_at < retired_before)).all()
    if not found:
        return 0
    files = self.files
    for record in found:
        if record.path:  # inline rows have no file
            files.remove(record.path)
    keys = [r.key for r in found]
    with self._engine.begin() as conn:
        for begin in range(0, len(keys), KEYS_PER_QUERY):
            remove_records(conn, keys[begin:begin + KEYS_PER_QUERY])
    return len(found)


def sweep_unrecorded(self: Deployment, modified_before: float) -> int:
    """Delete partition files no record names, last modified before `modified_before` (epoch
    seconds): what a writer killed between writing and recording left (see the module)."""
    files = self.files
    candidates = files.unrecorded(set(), modified_before)  # the folder first, then the records
    if not candidates:
        return 0
    with self._engine.connect() as conn:
        recorded = set(conn.execute(select(feature_files.c.path).where(
            feature_files.c.deployment_key == self.key, feature_files.c.path != "")).scalars())
    orphans = [path for path in candidates if path not in recorded]
    for path in orphans:
        files.remove(path)
    if orphans:
        log.info("deployment %s: deleted %d unrecorded feature file(s)", self.id, len(orphans))
    return len(orphans)


def compact_all(url: str | None = None, older_than: timedelta | float | None = None, *,
                grace: float = GRACE_S) -> dict[str, CompactionResult]:
    """One pass over every active deployment of the store at `url`: results by id."""
    from scenarist.deployments.deployment import Deployment

    return {dep.id: compact(dep, older_than, grace=grace) for dep in Deployment.list(url=url)}


def run_in_background(url: str | None, every_s: float = 300.0,
                      on_error: Callable[[Exception], None] | None = None
                      ) -> tuple[threading.Thread, threading.Event]:
    """A daemon thread compacting every deployment every `every_s` seconds (for `scenarist
    serve`); set the returned event to stop it. Errors are logged (and passed to `on_error`),
    never raised: compaction is an optimisation, the next pass retries."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                compact_all(url)
            except Exception as exc:  # noqa: BLE001 - logged; the next pass retries
                log.warning("compaction failed: %s", exc)
                if on_error is not None:
                    on_error(exc)
            stop.wait(every_s)

    thread = threading.Thread(target=loop, name="scenarist-compaction", daemon=True)
    thread.start()
    return thread, stop
