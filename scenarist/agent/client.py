"""MonitoringAgent: report calls return at once; one thread sends them, spooled on disk first.

Each call is stamped (wall clock) and queued in memory. The sender thread takes what is queued,
merges consecutive prediction reports of one deployment and batch into bodies of up to
`batch_rows` rows, writes each body to the disk spool (fsync'd), then sends the spool oldest
first: POST /deployments/{id}/predictionLogs for prediction data, POST /deployments/{id}/
serviceStats for request statistics. A body leaves the spool only when the server took it, so
while the server is unreachable (connection refused, 5xx, 408, 429) bodies accumulate on disk
and are sent later, in order, retried with back-off (0.2 s doubling to `max_wait`).

Exactly once: every row's sample id is its association id, generated (uuid4) when the caller
gives none and fixed in the spooled body, so a retry resends the same ids. A body whose rows the
server already stored (the answer was lost) is refused with 422 "logged before": the agent
counts it as delivered. Any other 4xx (a bad key, rows that do not fit) is logged, counted in
`stats["rejected"]` and dropped: resending would not change the answer. Service-stats reports
carry no id: they are sent at least once.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any

import httpx

from scenarist.agent.spool import FileSpool

log = logging.getLogger(__name__)
FIRST_WAIT = 0.2


class MonitoringAgent:
    """See the module docstring."""

    def __init__(self, url: str, api_key: str, spool_dir: Path | str, *, batch_rows: int = 1000,
                 flush_seconds: float = 0.2, timeout: float = 10.0, max_wait: float = 5.0):
        self.url = url.rstrip("/")
        self.batch_rows = batch_rows
        self.flush_seconds = flush_seconds
        self.max_wait = max_wait
        self.stats: dict[str, Any] = {"sent": 0, "rows": 0, "rejected": 0, "last_error": None}
        self._spool = FileSpool(spool_dir)
        self._client = httpx.Client(base_url=self.url, timeout=timeout, headers={
            "Authorization": f"Bearer {api_key}", "Content-Type": "application/json"})
        self._queue: deque[dict[str, Any]] = deque()
        self._ready = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="scenarist-agent", daemon=True)
        self._thread.start()

    # -- reporting (returns at once) ----------------------------------------------------------

    def report_deployment_stats(self, deployment_id: str, num_predictions: int,
                                execution_time_ms: float | None, batch_id: str | None = None
                                ) -> None:
        """One request served elsewhere: its prediction count and time (service stats)."""
        self._put({"path": f"/deployments/{deployment_id}/serviceStats", "rows": 0,
                   "body": {"num_predictions": int(num_predictions),
                            "execution_time_ms": execution_time_ms, "timestamp": time.time(),
                            "batch_id": batch_id}})

    def report_predictions_data(self, deployment_id: str, features_df: Any, predictions: Any,
                                association_ids: Any = None, class_names: Any = None,
                                batch_id: str | None = None) -> list[str]:
        """Prediction rows (features and output) for drift and accuracy; returns their ids.

        `features_df`: a pandas DataFrame (anything with `.to_dict("records")`) or a list of
        dicts. `predictions`: one value per row, or with `class_names` one list of class
        probabilities per row (the prediction is the likeliest class; for two classes the
        probability sent is that of the class listed last, the positive one). Rows count as
        predictions in service stats by themselves."""
        records = (features_df.to_dict("records") if hasattr(features_df, "to_dict")
                   else [dict(r) for r in features_df])
        values = _plain(predictions)
        ids = ([str(a) for a in _plain(association_ids)] if association_ids is not None
               else [uuid.uuid4().hex for _ in records])
        if not len(records) == len(values) == len(ids):
            raise ValueError(f"{len(records)} feature rows, {len(values)} predictions and "
                             f"{len(ids)} association ids: give one of each per row")
        now = time.time()
        rows = []
        for sample_id, features, value in zip(ids, records, values, strict=True):
            row = {"sample_id": sample_id, "timestamp": now, "features": features}
            if class_names is not None and isinstance(value, list | tuple):
                names = list(class_names)
                row["prediction"] = names[max(range(len(value)), key=value.__getitem__)]
                if len(names) == 2:
                    row["probability"] = float(value[-1])
            else:
                row["prediction"] = value
            rows.append(row)
        if rows:
            self._put({"path": f"/deployments/{deployment_id}/predictionLogs",
                       "rows": len(rows), "body": {"rows": rows, "batch_id": batch_id}})
        return ids

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Send what is queued and spooled; True when everything was delivered within
        `timeout` (what is left stays spooled for the next agent on this folder)."""
        with self._ready:
            self._closing = True
            self._ready.notify()
        self._thread.join(timeout)
        self._client.close()
        return not self._thread.is_alive() and len(self._spool) == 0

    def pending(self) -> int:
        """Bodies not yet delivered (queued or spooled)."""
        return len(self._queue) + len(self._spool)

    # -- the sender thread --------------------------------------------------------------------

    def _put(self, item: dict[str, Any]) -> None:
        with self._ready:
            if self._closing:
                raise RuntimeError("the agent is shut down")
            self._queue.append(item)
            self._ready.notify()

    def _run(self) -> None:
        wait = FIRST_WAIT
        while True:
            with self._ready:
                if not self._queue and not self._closing and not len(self._spool):
                    self._ready.wait()
                elif self._queue and not self._closing:
                    self._ready.wait(self.flush_seconds)  # gather a batch
                taken = list(self._queue)
                self._queue.clear()
                closing = self._closing
            for message in _merge(taken, self.batch_rows):
                self._spool.put(message)
            if self._send_spooled():
                wait = FIRST_WAIT
                if closing and not self._queue:
                    return
            else:
                with self._ready:  # back off; new calls do not cut the wait short
                    deadline = time.monotonic() + wait
                    while time.monotonic() < deadline:
                        self._ready.wait(deadline - time.monotonic())
                        if self._closing and not closing:
                            break
                wait = min(wait * 2, self.max_wait)

    def _send_spooled(self) -> bool:
        """Send the spool, oldest first; False when the server could not be reached."""
        while batch := self._spool.oldest(64):
            for name, message in batch:
                outcome = self._send(message)
                if outcome == "retry":
                    return False
                self._spool.remove(name)
        return True

    def _send(self, message: dict[str, Any]) -> str:
        try:
            response = self._client.post(message["path"], content=json.dumps(
                message["body"], default=str))
        except httpx.TransportError as exc:
            self.stats["last_error"] = f"{type(exc).__name__}: {exc}"
            return "retry"
        status = response.status_code
        if status < 300 or (status == 422 and "logged before" in response.text):
            self.stats["sent"] += 1
            self.stats["rows"] += message.get("rows", 0)
            return "ok"
        self.stats["last_error"] = f"HTTP {status}: {response.text[:300]}"
        if status in (408, 429) or status >= 500:
            return "retry"
        log.warning("scenarist refused a report to %s (dropped): HTTP %d %s", message["path"],
                    status, response.text[:300])
        self.stats["rejected"] += 1
        return "rejected"


def _merge(items: list[dict[str, Any]], batch_rows: int) -> list[dict[str, Any]]:
    """Consecutive prediction reports of one deployment and batch in bodies of ≤ batch_rows."""
    merged: list[dict[str, Any]] = []
    for item in items:
        last = merged[-1] if merged else None
        if (last is not None and item["rows"] and last["rows"]
                and last["path"] == item["path"]
                and last["body"]["batch_id"] == item["body"]["batch_id"]
                and last["rows"] + item["rows"] <= batch_rows):
            last["body"]["rows"] += item["body"]["rows"]
            last["rows"] += item["rows"]
        else:
            merged.append({**item, "body": dict(item["body"])})
    return merged


def _plain(values: Any) -> list[Any]:
    """A list of plain Python values (numpy arrays and pandas Series without importing them)."""
    if hasattr(values, "tolist"):
        return values.tolist()
    return [v.tolist() if hasattr(v, "tolist") else v for v in values]
