"""The README's "Coming from DataRobot or Deepchecks" examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Coming from DataRobot or Deepchecks"


def test_the_compat_examples_run(tmp_path, monkeypatch, capsys):
    text = README.read_text()
    section = text[text.index(SECTION):]
    section = section[:section.find("\n## ", 1)] if "\n## " in section[1:] else section
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCENARIST_STORE_URL", raising=False)
    for number, block in enumerate(blocks):
        exec(compile(block, f"README.md compat example {number + 1}", "exec"),
             {"__name__": "readme"})
    printed = capsys.readouterr().out
    assert "Fraud v1 predictions: 480" in printed
    assert "per 6 hours: [120, 120, 120, 120]" in printed and "amount PSI" in printed
    assert "{'target_drift': {'enabled': True}, 'feature_drift': {'enabled': True}}" in printed
    assert "payments / v1 200" in printed
