"""Time windows and bucket sizes of deployment queries: UTC instants, top-of-hour bounds, ISO 8601.

    construct_duration_string(days=1, hours=6)   -> "P1DT6H"
    parse_duration("P1DT6H")                     -> timedelta(days=1, hours=6)
    resolve_window(start, end)                   -> (start, end) as aware UTC datetimes

Accepted durations are the ISO 8601 subset `PnDTnHnMnS` with whole numbers (`P2D`, `PT1H`,
`PT90M`, `P1DT12H`); a bucket must be a whole number of hours, at least `PT1H`. The parser is
ours: `pandas.Timedelta("PT0.5H")` silently reads five hours, which a monitoring query must not.

Times are epoch seconds, `datetime`s (a naive one is taken as UTC) or ISO 8601 strings. Query
bounds must fall on the top of an hour; by default `end` is the next top of the hour after now
and `start` is `end` minus 7 days.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd

from scenarist.errors import InputDataError

HOUR = 3600
DEFAULT_WINDOW = timedelta(days=7)
MIN_BUCKET = timedelta(hours=1)
_DURATION = re.compile(
    r"^P(?:(?P<days>\d+)D)?(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
    r"(?:(?P<seconds>\d+)S)?)?$"
)

TimeLike = datetime | str | float | int


def construct_duration_string(
    days: int = 0, hours: int = 0, minutes: int = 0, seconds: int = 0
) -> str:
    """An ISO 8601 duration such as "P1DT6H" (the form `bucket_size` accepts)."""
    parts = {"days": days, "hours": hours, "minutes": minutes, "seconds": seconds}
    bad = {k: v for k, v in parts.items() if not isinstance(v, int) or v < 0}
    if bad:
        raise InputDataError(f"duration parts must be non-negative whole numbers; got {bad}")
    time = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M"), (seconds, "S")) if v)
    text = "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")
    return text if text != "P" else "PT0S"


def parse_duration(value: str | timedelta) -> timedelta:
    """`PnDTnHnMnS` (whole numbers) or a timedelta, as a timedelta."""
    if isinstance(value, timedelta):
        return value
    match = _DURATION.match(str(value).strip().upper())
    if not match or str(value).strip().upper() in ("P", "PT"):
        raise InputDataError(
            f"{value!r} is not an ISO 8601 duration of the form PnDTnHnMnS with whole numbers, "
            "e.g. 'PT1H', 'PT6H', 'P1D', 'P7D'; build one with construct_duration_string()"
        )
    numbers = {k: int(v) for k, v in match.groupdict().items() if v}
    return timedelta(**numbers)


def bucket_hours(bucket_size: str | timedelta) -> int:
    """The bucket size as a whole number of hours (at least one)."""
    size = parse_duration(bucket_size)
    if size < MIN_BUCKET or size.total_seconds() % HOUR:
        raise InputDataError(
            f"bucket_size {bucket_size!r} must be a whole number of hours, at least PT1H "
            "(e.g. 'PT1H', 'PT6H', 'P1D')"
        )
    return int(size.total_seconds() // HOUR)


def to_utc(value: TimeLike, *, name: str = "time") -> datetime:
    """An aware UTC datetime from epoch seconds, a datetime (naive = UTC) or an ISO string."""
    if isinstance(value, bool):
        raise InputDataError(f"{name} {value!r} is not a time")
    if isinstance(value, (int, float, np.integer, np.floating)):
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InputDataError(
            f"{name} {value!r} is not a time; pass a datetime, epoch seconds or an ISO 8601 "
            "string such as '2024-05-01T00:00:00Z'"
        ) from exc
    if stamp is pd.NaT:
        raise InputDataError(f"{name} is missing (NaT)")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


def resolve_window(
    start: TimeLike | None, end: TimeLike | None, *, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """Query bounds: top-of-hour UTC datetimes, end default next top of hour, start end − 7 d."""
    if end is None:
        current = now or datetime.now(timezone.utc)
        end_dt = current.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    else:
        end_dt = _top_of_hour(to_utc(end, name="end"), "end")
    start_dt = end_dt - DEFAULT_WINDOW if start is None else _top_of_hour(
        to_utc(start, name="start"), "start"
    )
    if start_dt >= end_dt:
        raise InputDataError(
            f"start {start_dt.isoformat()} must be before end {end_dt.isoformat()}"
        )
    return start_dt, end_dt


def epoch_hour(moment: datetime) -> int:
    """Hours since 1970-01-01T00:00Z of a top-of-hour datetime."""
    return int(moment.timestamp()) // HOUR


def hour_start(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * HOUR, tz=timezone.utc)


def _top_of_hour(moment: datetime, name: str) -> datetime:
    if moment.minute or moment.second or moment.microsecond:
        top = moment.replace(minute=0, second=0, microsecond=0)
        raise InputDataError(
            f"{name} {moment.isoformat()} is not at the top of an hour; use "
            f"{top.isoformat()} or {(top + timedelta(hours=1)).isoformat()}"
        )
    return moment


def as_epoch_seconds(values: Any, *, name: str = "timestamps") -> np.ndarray:
    """Timestamps (epoch seconds, datetimes, ISO strings; naive = UTC) as float64 epoch seconds."""
    array = values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else values
    array = np.asarray(array)
    if array.dtype.kind in "iuf":
        seconds = array.astype(np.float64, copy=False)
    else:
        try:
            stamps = pd.to_datetime(pd.Series(array), utc=True)
        except (ValueError, TypeError) as exc:
            raise InputDataError(
                f"{name} are not times ({exc}); pass epoch seconds, datetimes or ISO 8601 strings"
            ) from exc
        seconds = stamps.to_numpy(dtype="datetime64[ns]").astype(np.int64) / 1e9
        seconds[stamps.isna().to_numpy()] = np.nan
    return seconds
