"""Row-level helpers shared by ingest and labels: checked ids, naming rows in messages, bins."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scenarist.errors import InputDataError
from scenarist.stores.prediction_log import hash_texts, id_texts

SHOWN = 10  # ids named in a message before "… and N more"
# request-time histogram: bin b holds times in [2^(b/4), 2^((b+1)/4)) ms, i.e. ±9% wide
BINS_PER_OCTAVE = 4
MIN_BIN, MAX_BIN = -40, 120  # ~1 µs … ~1e9 ms


def name_rows(texts: np.ndarray, mask: np.ndarray, what: str = "sample ids") -> str:
    """'rows with sample ids ['a', 'b'] (2 rows)', at most SHOWN ids then '… and N more'."""
    chosen = [str(t) for t in texts[np.asarray(mask, dtype=bool)]]
    shown = ", ".join(repr(t) for t in chosen[:SHOWN])
    more = f", … and {len(chosen) - SHOWN} more" if len(chosen) > SHOWN else ""
    return f"{len(chosen)} row(s) with {what} [{shown}{more}]"


def hash_checked_ids(values: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(id texts, their hashes); missing and repeated ids are an InputDataError naming them."""
    if isinstance(values, (str, bytes)) or np.ndim(values) != 1:
        raise InputDataError(f"{name} must be a sequence of ids, not {type(values).__name__}")
    texts = id_texts(values)
    missing = pd.isna(texts)
    if missing.any():
        positions = np.flatnonzero(missing)[:SHOWN].tolist()
        raise InputDataError(f"{name} has {int(missing.sum())} missing id(s), at positions "
                             f"{positions}; every row needs an id")
    hashes = hash_texts(texts)
    # a set of a small call's hashes costs microseconds; pandas' duplicated ~0.5 ms however small
    if len(hashes) <= 1_000 and len(set(hashes.tolist())) == len(hashes):
        return texts, hashes
    repeated = pd.Series(hashes).duplicated(keep=False).to_numpy()
    if repeated.any():  # equal hashes: equal ids, or (≈never) a collision, reported alike
        raise InputDataError(f"{name} repeats ids within the call: "
                             f"{_name_repeats(texts, hashes, repeated)}; each id may appear once")
    return texts, hashes


def _name_repeats(texts: np.ndarray, hashes: np.ndarray, repeated: np.ndarray) -> str:
    """"'a' (rows 0, 3), 'b' (rows 1, 7)": each repeated id and its rows (positions in the
    call), at most SHOWN ids then '… and N more ids'."""
    positions = np.flatnonzero(repeated)
    rows: dict[int, list[int]] = {}
    for position in positions.tolist():
        rows.setdefault(int(hashes[position]), []).append(position)
    named = [f"{str(texts[found[0]])!r} (rows {', '.join(map(str, found[:SHOWN]))}"
             f"{', …' if len(found) > SHOWN else ''})" for found in list(rows.values())[:SHOWN]]
    more = f", … and {len(rows) - SHOWN} more ids" if len(rows) > SHOWN else ""
    return ", ".join(named) + more


def request_time_bins(times: np.ndarray) -> np.ndarray:
    safe = np.maximum(np.asarray(times, dtype=np.float64), 2.0 ** (MIN_BIN / BINS_PER_OCTAVE))
    bins = np.floor(np.log2(safe) * BINS_PER_OCTAVE).astype(np.int64)
    return np.clip(bins, MIN_BIN, MAX_BIN)


def bin_quantile(bins: np.ndarray, counts: np.ndarray, q: float) -> float:
    """Quantile q of the times in a histogram: interpolated geometrically inside its bin."""
    total = counts.sum()
    if total == 0:
        return float("nan")
    order = np.argsort(bins)
    bins, counts = bins[order], counts[order]
    cumulative = np.cumsum(counts)
    target = q * total
    i = int(np.searchsorted(cumulative, target, side="left"))
    i = min(i, len(bins) - 1)
    before = cumulative[i - 1] if i else 0
    fraction = (target - before) / counts[i] if counts[i] else 0.5
    return float(2.0 ** ((bins[i] + min(max(fraction, 0.0), 1.0)) / BINS_PER_OCTAVE))
