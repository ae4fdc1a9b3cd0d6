"""The README's Triggers example is a valid project part, and its polling triggers look."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

import scenarist.triggers as triggers
from scenarist.validation import validate_project

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_trigger_examples_validate_and_poll(project_copy: Path):
    section = README.read_text().split("## Triggers\n", 1)[1].split("\n## ", 1)[0]
    example = yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, flags=re.S)[1])
    function = re.search(r"```text\n(def fire.*?)```", section, flags=re.S)[1]
    (project_copy / "mytriggers.py").write_text(function)
    file = project_copy / "scenarist.yaml"
    project = yaml.safe_load(file.read_text())
    project["datasets"].update(example["datasets"])
    project["scenarios"].update(example["scenarios"])
    project["evaluation_stores"]["prod_MES"] = {"deployment": "0123456789abcdef01234567"}
    file.write_text(yaml.safe_dump(project, sort_keys=False))

    assert validate_project(project_copy) == []
    kinds = {r.trigger: r.action for r in triggers.poll(project_copy, "New batch monitor",
                                                        "new batch")}
    assert kinds == {"new batch": "baseline"}
    (warehouse,) = triggers.poll(project_copy, "New batch monitor", "warehouse")
    assert warehouse.action == "baseline"
