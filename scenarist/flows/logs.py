"""Capturing every log line of one flow run (its tasks included) as text, for the run record
and for reporters' `scenario_log` attachment."""

from __future__ import annotations

import logging
import threading

FORMAT = "%(asctime)s %(levelname)-7s %(name)s | %(message)s"


class RunLogCapture(logging.Handler):
    """Keeps the records of Prefect's loggers that belong to one flow run.

    Installed on the `prefect` logger for the duration of the run; a record belongs to the run
    when its `flow_run_id` (set by Prefect's run loggers, task runs included) is the run's.
    """

    def __init__(self, flow_run_id: str):
        super().__init__(level=logging.DEBUG)
        self.flow_run_id = flow_run_id
        self.setFormatter(logging.Formatter(FORMAT))
        self._lines: list[str] = []
        self._lock_lines = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if str(getattr(record, "flow_run_id", "")) != self.flow_run_id:
            return
        line = self.format(record)
        with self._lock_lines:
            self._lines.append(line)

    def text(self) -> str:
        with self._lock_lines:
            return "\n".join(self._lines) + ("\n" if self._lines else "")

    def __enter__(self) -> RunLogCapture:
        logging.getLogger("prefect").addHandler(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        logging.getLogger("prefect").removeHandler(self)
