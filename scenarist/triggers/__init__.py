"""Triggers beyond cron: polled changes (datasets, queries, labels, a function), Prefect
events, and pausing a scenario's triggers.

    specs.py         the trigger types of scenarist.yaml and `trigger_problems` (validation)
    fingerprints.py  what a polling trigger sees now (Observation: subject, fingerprint, vars)
    polling.py       one look: compare with the store, claim the change, start the run
    control.py       pause / resume / status of a scenario's triggers
    flow.py          the `scenarist-trigger` Prefect flow a poll deployment runs

    import scenarist.triggers as tr
    tr.poll("projects/fraud", "Data drift monitor")   # -> [PollResult(action="started", …)]
    tr.pause("projects/fraud", "Data drift monitor"); tr.resume(...)

The names are imported on first use: `scenarist.project.config` imports `specs`, and the rest
reaches the stores, which import the project config.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PauseResult", "PollResult", "is_paused", "pause", "poll", "resume",
           "scenario_status", "trigger_states"]

_WHERE = {"PollResult": "polling", "poll": "polling", "PauseResult": "control",
          "is_paused": "control", "pause": "control", "resume": "control",
          "scenario_status": "control", "trigger_states": "state"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'scenarist.triggers' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"scenarist.triggers.{_WHERE[name]}"), name)
