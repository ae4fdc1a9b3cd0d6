"""Capturing every log line of one flow run (its tasks included) as text, for the run record
and for reporters' `scenario_log` attachment; and keeping Python tracebacks out of the console
while a scenario runs (`console_without_tracebacks`): they stay in the run's log.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

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


class _WithoutTraceback(logging.Formatter):
    """Formats a record as `inner` does, leaving out its traceback and stack."""

    def __init__(self, inner: logging.Formatter | None):
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        if not (record.exc_info or record.exc_text or record.stack_info):
            return self.inner.format(record)
        plain = logging.makeLogRecord(record.__dict__)  # a copy: other handlers keep them
        plain.exc_info = plain.exc_text = plain.stack_info = None
        return self.inner.format(plain)


_quiet_lock = threading.Lock()
_quiet_users = 0


@contextmanager
def console_without_tracebacks() -> Iterator[None]:
    """While it is open, Prefect's console handler prints log lines without their Python
    tracebacks (Prefect's engines log every exception a flow or task raises with one). The
    tracebacks still reach the run's log (`RunLogCapture`) and Prefect's API logs; the user
    sees the one-line message, and the command its `error:` line."""
    global _quiet_users
    from prefect.logging.handlers import PrefectConsoleHandler

    with _quiet_lock:
        _quiet_users += 1
        if _quiet_users == 1:
            for handler in logging.getLogger().handlers:
                if isinstance(handler, PrefectConsoleHandler):
                    handler.setFormatter(_WithoutTraceback(handler.formatter))
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_users -= 1
            if _quiet_users == 0:
                for handler in logging.getLogger().handlers:
                    if isinstance(handler.formatter, _WithoutTraceback):
                        handler.setFormatter(handler.formatter.inner)
