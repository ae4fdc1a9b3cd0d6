"""predictionLogs requests committed in groups: a 200 means stored, or spooled and fsync'd.

A request hands its Record to `Committer.submit` and waits on the returned future. One thread
takes everything submitted meanwhile (up to `max_rows` rows), groups consecutive single-row
requests of one deployment and batch into one `log_batch` call (writer.runs: each row is its own
request), and resolves every future with the Outcome. Under load the requests that arrived
while the previous group was being written form the next group, so the per-call cost of
`log_batch` is paid once per group, not per request. When a group is refused (a duplicate id,
rows that do not fit), its requests are written one by one so each gets its own answer.

With `spool_first` (`scenarist serve --ingest spool`) the group is appended to the spool — one
fsync per deployment per group — and answered at once; the spool's replay thread stores it in
large calls. Rows then refused by the store (a repeated sample id is skipped, not refused) are
logged and counted in /health (`replay_failed`) instead of answered with a 422.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future

from scenarist.server.writer import Outcome, Record, Writer, runs


class Committer:
    """See the module docstring."""

    def __init__(self, writer: Writer, max_rows: int = 50_000, spool_first: bool = False):
        self.writer = writer
        self.spool_first = spool_first
        self.max_rows = max_rows
        self._pending: list[tuple[Record, Future[Outcome]]] = []
        self._ready = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None

    def submit(self, record: Record) -> Future[Outcome]:
        future: Future[Outcome] = Future()
        with self._ready:
            if self._stop:
                raise RuntimeError("the server is shutting down")
            self._pending.append((record, future))
            self._ready.notify()
        return future

    def start(self) -> None:
        if self._thread is None:
            self._stop = False
            self._thread = threading.Thread(target=self._run, name="scenarist-commit",
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Commit what is pending, then end the thread."""
        with self._ready:
            self._stop = True
            self._ready.notify()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _take(self) -> list[tuple[Record, Future[Outcome]]]:
        with self._ready:
            while not self._pending and not self._stop:
                self._ready.wait()
            taken, rows = 0, 0
            for record, _future in self._pending:
                rows += record.rows
                taken += 1
                if rows >= self.max_rows:
                    break
            batch, self._pending = self._pending[:taken], self._pending[taken:]
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            if not batch:
                return  # stopped, nothing pending
            futures = {id(record): future for record, future in batch}
            if self.spool_first:
                self._append([record for record, _ in batch], futures)
                continue
            for run in runs([record for record, _ in batch]):
                self._commit(run, futures)

    def _append(self, records: list[Record], futures: dict[int, Future[Outcome]]) -> None:
        by_deployment: dict[str, list[Record]] = {}
        for record in records:
            by_deployment.setdefault(record.deployment_id, []).append(record)
        for group in by_deployment.values():
            try:
                outcome = self.writer.append(group)
            except Exception as exc:  # noqa: BLE001 - a full spool: 503 to every request
                for record in group:
                    futures[id(record)].set_exception(exc)
                continue
            for record in group:
                futures[id(record)].set_result(outcome)

    def _commit(self, run: list[Record], futures: dict[int, Future[Outcome]]) -> None:
        try:
            outcome = self.writer.write(run)
        except Exception as exc:  # noqa: BLE001 - handed to the waiting requests
            if len(run) > 1:  # one bad request must not fail the others of its group
                for record in run:
                    self._commit([record], futures)
                return
            futures[id(run[0])].set_exception(exc)
            return
        for record in run:
            futures[id(record)].set_result(outcome)
