"""The agent's disk spool: one JSON file per request body, sent in the order they were written.

    spool = FileSpool(folder)
    spool.put({"path": "/deployments/ID/predictionLogs", "body": {...}})   # fsync'd, renamed
    for name, message in spool.oldest(10): ...; spool.remove(name)

Files are named by a zero-padded sequence number, written to a temporary name, fsync'd and
renamed, so a crash leaves either the whole message or none. What a previous agent on the same
folder left is sent first.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

SUFFIX = ".json"


class FileSpool:
    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        names = self._names()
        self._next = int(names[-1][: -len(SUFFIX)]) + 1 if names else 1

    def _names(self) -> list[str]:
        return sorted(n for n in os.listdir(self.folder) if n.endswith(SUFFIX))

    def __len__(self) -> int:
        return len(self._names())

    def put(self, message: dict[str, Any]) -> None:
        with self._lock:
            name = f"{self._next:016d}{SUFFIX}"
            self._next += 1
            temporary = self.folder / f".{name}.tmp"
            with open(temporary, "w", encoding="utf-8") as handle:
                json.dump(message, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.folder / name)

    def oldest(self, most: int) -> list[tuple[str, dict[str, Any]]]:
        found = []
        for name in self._names()[:most]:
            with open(self.folder / name, encoding="utf-8") as handle:
                found.append((name, json.load(handle)))
        return found

    def remove(self, name: str) -> None:
        (self.folder / name).unlink(missing_ok=True)
