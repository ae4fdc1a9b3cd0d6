"""Writing the fraud-monitoring example project to a folder: data, model, scenarist.yaml."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import joblib

from scenarist.demo.data import QUARTERS, generate_quarter, train_model

# what scenarist.yaml's mail connection reads: ${SCENARIST_SMTP_HOST:-localhost}, …PORT:-1025
SMTP_HOST_ENV, SMTP_PORT_ENV = "SCENARIST_SMTP_HOST", "SCENARIST_SMTP_PORT"


def write_example(
    folder: Path | str,
    *,
    rows: int = 20_000,
    seed: int = 2017,
) -> Path:
    """Write the example project into `folder` (created); returns the project file's path.

    Files: scenarist.yaml, templates/, data/transactions_<quarter>.parquet for Q1–Q4 2017, and
    models/fraud.joblib trained on Q1. The mail connection reads its server from
    SCENARIST_SMTP_HOST / SCENARIST_SMTP_PORT when a mail is sent (default localhost:1025), so
    the file is the same whoever writes it and whatever server receives. Existing files of the
    example are overwritten; the store and its history under .scenarist/ are kept.
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
    return root / "scenarist.yaml"
