"""ISO 8601 bucket sizes and query windows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from scenarist.deployments import construct_duration_string, parse_duration
from scenarist.deployments.durations import bucket_hours, resolve_window, to_utc
from scenarist.errors import InputDataError


@pytest.mark.parametrize(("parts", "text"), [
    ({"hours": 1}, "PT1H"), ({"days": 1, "hours": 6}, "P1DT6H"), ({"days": 7}, "P7D"),
    ({"minutes": 90}, "PT90M"), ({}, "PT0S"),
])
def test_construct_and_parse_round_trip(parts, text):
    assert construct_duration_string(**parts) == text
    assert parse_duration(text) == timedelta(**parts)


@pytest.mark.parametrize("bad", ["1H", "PT0.5H", "P", "PT", "P1W", "PT-1H", "hourly"])
def test_parse_rejects_what_it_does_not_accept(bad):
    with pytest.raises(InputDataError, match="ISO 8601 duration"):
        parse_duration(bad)


def test_buckets_are_whole_hours_at_least_one():
    assert bucket_hours("PT1H") == 1 and bucket_hours("P1D") == 24
    for bad in ("PT30M", "PT90M", "PT0S"):
        with pytest.raises(InputDataError, match="whole number of hours, at least PT1H"):
            bucket_hours(bad)


def test_window_defaults_and_top_of_hour():
    now = datetime(2024, 5, 3, 10, 25, tzinfo=timezone.utc)
    start, end = resolve_window(None, None, now=now)
    assert end == datetime(2024, 5, 3, 11, tzinfo=timezone.utc)
    assert start == end - timedelta(days=7)
    start, end = resolve_window("2024-05-01T00:00Z", datetime(2024, 5, 2))  # naive = UTC
    assert (start.hour, end.day, end.tzinfo) == (0, 2, timezone.utc)
    with pytest.raises(InputDataError, match="not at the top of an hour.*2024-05-01T10:00"):
        resolve_window("2024-05-01T10:15Z", None)
    with pytest.raises(InputDataError, match="must be before end"):
        resolve_window("2024-05-02T00:00Z", "2024-05-01T00:00Z")
    assert to_utc(0) == datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert to_utc("2024-05-01T02:00+02:00") == datetime(2024, 5, 1, tzinfo=timezone.utc)
