"""The state of a project's triggers, for `scenarist triggers list` and the Python API.

    trigger_states(project) -> list[TriggerState], one per trigger and subject seen

A polling trigger that never looked has one row without a fingerprint; a templated dataset has
one row per file seen. `status` is the scenario's (active / paused).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from scenarist.project.config import Project
from scenarist.stores import trigger_state
from scenarist.stores.database import project_engine
from scenarist.triggers.control import loaded_project, scenario_status
from scenarist.triggers.specs import trigger_name


@dataclass(frozen=True)
class TriggerState:
    scenario: str
    trigger: str
    kind: str
    status: str  # the scenario's: active / paused
    every: str | None = None
    subject: str = ""
    fingerprint: str | None = None
    last_change: str | None = None  # baseline | claimed | started | failed
    run_id: str | None = None
    seen_at: datetime | None = None
    runs: int = 0
    message: str | None = None


def trigger_states(project: str | Path | Project, scenario: str | None = None
                   ) -> list[TriggerState]:
    """Every trigger of the project (or of `scenario`) with what it last saw."""
    loaded = loaded_project(project)
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in trigger_state.trigger_states(project_engine(loaded), loaded.project, scenario):
        rows.setdefault((row["scenario"], row["trigger"]), []).append(row)
    status = scenario_status(loaded)
    states = []
    for name, spec in loaded.scenarios.items():
        if scenario is not None and name != scenario:
            continue
        for position, trigger in enumerate(spec.triggers):
            label = trigger_name(trigger, position)
            polling = trigger.polling
            base = dict(scenario=name, trigger=label, kind=trigger.kind, status=status[name],
                        every=str(polling.every) if polling else None)
            seen = rows.get((name, label), [])
            if len(seen) > 1:
                seen = [row for row in seen if row["subject"] != trigger_state.FIRST_LOOK]
            if not seen:
                states.append(TriggerState(**base))
            for row in seen:
                states.append(TriggerState(
                    **base, subject=row["subject"], fingerprint=row["fingerprint"],
                    last_change=row["status"], run_id=row["run_id"], seen_at=row["seen_at"],
                    runs=row["runs"], message=row["message"]))
    return states
