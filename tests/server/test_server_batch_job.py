"""POST /predictions?monitoringBatchPrefix=…: one request is one scoring job, one new batch."""

from __future__ import annotations

from server_helpers import serve, small_model

from scenarist.deployments import Deployment
from scenarist.server import create_key
from scenarist.server.app import BATCH_HEADER


def test_a_prefix_files_the_request_under_a_new_batch(store, deployment, client):
    url, _ = store
    running = serve(url, {deployment.id: small_model()})
    try:
        _, secret = create_key("job", ["predict"], [deployment.id], url=url)
        answers = [client.post(f"{running.base_url}/deployments/{deployment.id}/predictions",
                               params={"monitoringBatchPrefix": "Nightly job"},
                               json=[{"x1": 0.5, "x2": float(i)} for i in range(n)],
                               headers={"Authorization": f"Bearer {secret}"})
                   for n in (3, 2)]
        assert [a.status_code for a in answers] == [200, 200], answers[0].text
        ids = [a.headers[BATCH_HEADER] for a in answers]
        assert ids[0] != ids[1]
        assert running.state.queue.drain(20)
    finally:
        running.stop()
    found = Deployment.get(deployment.id, url=url)
    for batch_id, rows in zip(ids, (3, 2), strict=True):
        assert found.get_batch(batch_id).name.startswith("Nightly job - ")
        assert found.get_service_stats(batches=[batch_id]).total_predictions == rows
