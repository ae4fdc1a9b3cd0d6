"""A local append-only spool: what the server accepted but could not store yet.

    spool = Spool(folder, max_bytes=1 << 30)   # replays what a previous process left
    spool.append(deployment_id, item)           # fsync'd before it returns; SpoolFull when full
    entry = spool.peek()                        # the oldest pending entry, or None
    spool.consume(entry)                        # stored: the entry is retired (fsync'd)

The folder holds `spool.log` (entries: length, CRC-32, spool time, deployment id, pickled item)
and `spool.offset` (how many bytes of the log are consumed, replaced atomically). Entries are
consumed strictly in order. When everything is consumed the log is truncated to zero, so its
size stays bounded by what is pending (`max_bytes`). A torn last entry (the process killed
mid-append: its caller never answered) is cut off on open. One process owns a folder at a time
(an exclusive `flock` on `spool.lock`): a second server on it is refused with a clear message.

The items are pickled: the spool is a private file of this server, never read from elsewhere.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import struct
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenarist.errors import ConfigError, StoreError

_HEADER = struct.Struct("<IIdH")  # payload length, CRC-32 of payload, spooled at, id length


class SpoolFull(StoreError):
    """The spool reached its size bound: the server answers 503 (try again later)."""


@dataclass(frozen=True)
class Entry:
    deployment_id: str
    item: Any
    spooled_at: float
    end: int  # offset just past this entry
    unattempted: bool = False  # see Spool.append


class Spool:
    """See the module docstring. Thread-safe."""

    def __init__(self, folder: Path | str, max_bytes: int = 1 << 30):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._owner = open(self.folder / "spool.lock", "a+b")  # noqa: SIM115 - held open
        try:
            fcntl.flock(self._owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._owner.close()
            raise ConfigError(f"spool folder {self.folder} is used by another running server; "
                              "give this one its own --spool-dir") from None
        self._log_path = self.folder / "spool.log"
        self._offset_path = self.folder / "spool.offset"
        self._log = open(self._log_path, "a+b")  # noqa: SIM115 - the spool's lifetime
        self._consumed = self._read_offset()
        # (deployment id, spooled at, end, unattempted: appended by this process, never
        # handed to the store — its rows cannot be stored already)
        self._pending: list[tuple[str, float, int, bool]] = []
        self._by_deployment: Counter[str] = Counter()
        self._scan()

    # -- state --------------------------------------------------------------------------------

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def pending_for(self, deployment_id: str) -> int:
        with self._lock:
            return self._by_deployment[deployment_id]

    def oldest_age(self) -> float | None:
        with self._lock:
            return time.time() - self._pending[0][1] if self._pending else None

    # -- writing and consuming ----------------------------------------------------------------

    def append(self, deployment_id: str, item: Any, unattempted: bool = False) -> None:
        """Spool `item`; `unattempted`: nothing of it was tried on the store yet (the replay
        may skip looking for its sample ids among the stored ones)."""
        payload = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
        name = deployment_id.encode()
        now = time.time()
        blob = _HEADER.pack(len(payload), zlib.crc32(payload), now, len(name)) + name + payload
        with self._lock:
            size = self._log.seek(0, os.SEEK_END)
            if size - self._consumed + len(blob) > self.max_bytes:
                raise SpoolFull(f"the server's spool is full ({self.max_bytes} bytes pending "
                                "while the store is unreachable); try again later")
            self._log.write(blob)
            self._log.flush()
            os.fsync(self._log.fileno())
            self._pending.append((deployment_id, now, size + len(blob), unattempted))
            self._by_deployment[deployment_id] += 1

    def peek(self) -> Entry | None:
        """The oldest pending entry (read from disk)."""
        entries = self.peek_many(1)
        return entries[0] if entries else None

    def peek_many(self, most: int, max_bytes: int = 64 << 20) -> list[Entry]:
        """The oldest pending entries of one deployment, up to `most` (and ~`max_bytes`).
        Read outside the lock (appends go on meanwhile): the bytes of pending entries never
        change, and only the consumer that peeks retires them."""
        with self._lock:
            start = self._consumed
            chosen: list[tuple[str, float, int, bool]] = []
            for deployment_id, spooled_at, end, unattempted in self._pending[:most]:
                if chosen and (deployment_id != chosen[0][0] or end - start > max_bytes):
                    break
                chosen.append((deployment_id, spooled_at, end, unattempted))
        if not chosen:
            return []
        blob = os.pread(self._log.fileno(), chosen[-1][2] - start, start)
        entries, position = [], 0
        for deployment_id, spooled_at, end, unattempted in chosen:
            length, _crc, _at, name_length = _HEADER.unpack_from(blob, position)
            body = position + _HEADER.size + name_length
            entries.append(Entry(deployment_id, pickle.loads(blob[body:body + length]),
                                 spooled_at, end, unattempted))
            position = end - start
        return entries

    def consume(self, entry: Entry) -> None:
        """Retire `entry` and every entry before it."""
        with self._lock:
            if not any(end == entry.end for _, _, end, _ in self._pending):
                raise RuntimeError("spool entries must be consumed in order")
            done = next(i for i, (_, _, end, _) in enumerate(self._pending)
                        if end == entry.end) + 1
            for deployment_id, _, _, _ in self._pending[:done]:
                self._by_deployment[deployment_id] -= 1
            del self._pending[:done]
            if not self._pending:  # all consumed: start the log again (appends wait)
                self._log.truncate(0)
                os.fsync(self._log.fileno())
                self._write_offset(0)
                return
        # the offset is written by the one consumer, outside the lock: appends go on
        self._write_offset(entry.end)

    def attempted(self, entry: Entry) -> None:
        """The store was tried with `entry` and the entries before it (and failed): a retry
        must look for their sample ids among the stored ones."""
        with self._lock:
            self._pending = [(d, at, end, unattempted and end > entry.end)
                             for d, at, end, unattempted in self._pending]

    def close(self) -> None:
        self._log.close()
        self._owner.close()

    # -- files --------------------------------------------------------------------------------

    def _read_offset(self) -> int:
        try:
            return int(self._offset_path.read_text() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def _write_offset(self, offset: int) -> None:
        temporary = self._offset_path.with_suffix(".tmp")
        with open(temporary, "w") as handle:
            handle.write(str(offset))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self._offset_path)
        self._consumed = offset

    def _scan(self) -> None:
        """Index the pending entries; cut a torn tail off."""
        size = self._log.seek(0, os.SEEK_END)
        if self._consumed > size:  # truncated, crashed before the offset was reset
            self._write_offset(0)
        position = self._consumed
        self._log.seek(position)
        while True:
            header = self._log.read(_HEADER.size)
            if len(header) < _HEADER.size:
                break
            length, crc, spooled_at, name_length = _HEADER.unpack(header)
            name = self._log.read(name_length)
            payload = self._log.read(length)
            if len(name) < name_length or len(payload) < length or zlib.crc32(payload) != crc:
                break
            position += _HEADER.size + name_length + length
            self._pending.append((name.decode(), spooled_at, position, False))
            self._by_deployment[name.decode()] += 1
        if position < size:
            self._log.truncate(position)
            os.fsync(self._log.fileno())
