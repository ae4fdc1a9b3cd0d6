"""Writing the fraud-monitoring example project to a folder: data, model, scenarist.yaml."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import joblib

from scenarist.demo.data import QUARTERS, generate_quarter, train_model

DEFAULT_SMTP = ("localhost", 1025)


def write_example(
    folder: Path | str,
    *,
    rows: int = 20_000,
    seed: int = 2017,
    smtp: tuple[str, int] | None = None,
) -> Path:
    """Write the example project into `folder` (created); returns the project file's path.

    Files: scenarist.yaml, templates/, data/transactions_<quarter>.parquet for Q1–Q4 2017, and
    models/fraud.joblib trained on Q1. `smtp` (host, port) is the mail connection's server
    (default localhost:1025). Existing files of the example are overwritten; the store and its
    history under .scenarist/ are kept.
    """
    root = Path(folder)
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "models").mkdir(parents=True, exist_ok=True)
    frames = {q: generate_quarter(q, rows, seed=seed) for q in QUARTERS}
    for quarter, frame in frames.items():
        frame.to_parquet(root / "data" / f"transactions_{quarter}.parquet", index=False)
    joblib.dump(train_model(frames[QUARTERS[0]]), root / "models" / "fraud.joblib")
    source = resources.files("scenarist.demo") / "project"
    with resources.as_file(source) as template_root:
        shutil.copytree(template_root, root, dirs_exist_ok=True)
    project_file = root / "scenarist.yaml"
    if smtp is not None and smtp != DEFAULT_SMTP:
        default = f"host: {DEFAULT_SMTP[0]}, port: {DEFAULT_SMTP[1]}"
        text = project_file.read_text()
        assert default in text, "the example's mail connection changed; update DEFAULT_SMTP"
        project_file.write_text(text.replace(default, f"host: {smtp[0]}, port: {smtp[1]}"))
    return project_file
