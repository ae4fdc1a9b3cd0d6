"""The reporters' check states in the database (SQLite and PostgreSQL): saved per project ×
scenario × reporter × check × segment, and read back as they were before a re-run run."""

from __future__ import annotations

from scenarist.stores.alert_state import alert_states, load_states, save_states
from scenarist.stores.database import connect

WARN = {"outcome": "WARNING", "streak": 1, "alerted": "WARNING"}
WARN2 = {"outcome": "WARNING", "streak": 2, "alerted": "WARNING"}
OK = {"outcome": "OK", "streak": 0, "alerted": None}


def test_states_round_trip_and_re_runs_read_the_state_before(store_url):
    engine = connect(store_url)
    key, eu = ("drift", ""), ("auc", "EU")
    args = ("fraud", "monitor", "mail")
    assert load_states(engine, *args, "run-1") == {}
    save_states(engine, *args, "run-1", {}, {key: WARN, eu: OK})
    assert load_states(engine, *args, "run-2") == {key: WARN, eu: OK}
    # run-1 again (a retried flow): its own changes are not there yet
    assert load_states(engine, *args, "run-1") == {}

    save_states(engine, *args, "run-2", {key: WARN}, {key: WARN2})
    assert load_states(engine, *args, "run-3") == {key: WARN2, eu: OK}
    assert load_states(engine, *args, "run-2") == {key: WARN, eu: OK}
    # another reporter, scenario or project shares nothing
    assert load_states(engine, "fraud", "monitor", "webhook", "run-3") == {}
    assert load_states(engine, "other", "monitor", "mail", "run-3") == {}
    rows = alert_states(engine, "fraud")
    assert [(r["check_name"], r["segment"], r["streak"], r["run_id"]) for r in rows] == [
        ("auc", "EU", 0, "run-1"), ("drift", "", 2, "run-2")]
