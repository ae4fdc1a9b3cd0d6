"""The project layer does not reach into the layers that check it: loading a project with
`scenarist.project.config` imports neither the scenario checks (flows.validation) nor the
reporter templates (reporters.render); `scenarist.validation` gathers them."""

from __future__ import annotations

import json
import subprocess
import sys

HIGHER = ["scenarist.flows.validation", "scenarist.reporters.render", "scenarist.validation"]


def test_loading_a_project_imports_no_higher_layer(example_project):
    code = ("import json, sys\n"
            "from scenarist.project.config import load_project\n"
            f"load_project({str(example_project)!r})\n"
            f"print(json.dumps([m for m in {HIGHER!r} if m in sys.modules]))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert json.loads(result.stdout.splitlines()[-1]) == []


def test_the_public_names_are_the_full_checks():
    import scenarist
    from scenarist import validation

    assert scenarist.validate_project is validation.validate_project
    assert scenarist.load_project is validation.load_project
