"""`scenarist keys create|list|revoke`, and `scenarist serve` run as a real process."""

from __future__ import annotations

from pathlib import Path

import httpx
import joblib
from server_helpers import start_serve, training_frame
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

from scenarist.cli import app
from scenarist.server import list_keys

runner = CliRunner()


def test_keys_create_list_revoke(store, deployment):
    url, _ = store
    created = runner.invoke(app, ["keys", "create", "svc", "--scope", "predict", "--scope",
                                  "read", "--deployment", deployment.id, "--url", url])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("sck_")
    (key,) = [k for k in list_keys(url=url) if k.name == "svc"]
    listed = runner.invoke(app, ["keys", "list", "--url", url])
    assert key.id in listed.stdout and "predict, read" in listed.stdout
    assert secret not in listed.stdout
    revoked = runner.invoke(app, ["keys", "revoke", key.id, "--url", url])
    assert revoked.exit_code == 0 and f"revoked key {key.id}" in revoked.stdout
    assert key.id not in runner.invoke(app, ["keys", "list", "--url", url]).stdout
    bad = runner.invoke(app, ["keys", "create", "x", "--scope", "write", "--deployment", "*",
                              "--url", url])
    assert bad.exit_code == 3 and "unknown scope 'write'" in bad.output
    missing = runner.invoke(app, ["keys", "revoke", "nope", "--url", url])
    assert missing.exit_code == 3 and "no API key 'nope'" in missing.output


def test_serve_command_serves_the_model_file(store, deployment, tmp_path: Path):
    url, _ = store
    frame = training_frame()
    path = tmp_path / "model.joblib"
    joblib.dump(LogisticRegression().fit(frame[["x1", "x2"]], frame["y"]), path)
    secret = runner.invoke(app, ["keys", "create", "p", "--scope", "predict", "--deployment",
                                 deployment.id, "--url", url]).stdout.strip().splitlines()[-1]
    process, base = start_serve("--model", f"{deployment.id}={path}", "--url", url)
    try:
        response = httpx.post(f"{base}/deployments/{deployment.id}/predictions",
                              content="x1,x2\n1.0,0.0\n", headers={
                                  "Content-Type": "text/csv",
                                  "Authorization": f"Bearer {secret}"})
        assert response.status_code == 200, response.text
        assert response.json()["model_version"] == 1
    finally:
        process.terminate()
        process.wait(10)


def test_serve_refuses_a_malformed_model_option(store):
    url, _ = store
    result = runner.invoke(app, ["serve", "--model", "no-equals-sign", "--url", url])
    assert result.exit_code == 3 and "DEPLOYMENT_ID=path.joblib" in result.output
