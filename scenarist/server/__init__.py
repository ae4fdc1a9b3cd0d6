"""The prediction and ingest server (FastAPI + uvicorn): `scenarist serve`.

    app = create_app(url, ServerOptions(monitoring=True))
    app.state.server.models.load(deployment_id, "models/fraud.joblib")
    uvicorn.run(app, host="127.0.0.1", port=8080)

Modules: app (endpoints), answers (what prediction endpoints answer), keys (API keys), gate
(the key checked before the body is read, bounded bodies), failures (one error shape), bodies
(request models), serving (served models, atomic replacement), monitoring (the off-request-path
queue), rows (request bodies → checked DataFrames), writer (store, or spool when the store is
away; the replay thread), spool (the fsync'd append-only file), committer (predictionLogs
committed in groups), logs (predictionLogs bodies, rows or columns, read without a pydantic
model per row), workers (`--workers N`: worker processes, a spool folder each).
"""

from scenarist.server.app import ServerOptions, create_app
from scenarist.server.keys import ApiKey, Scope, create_key, list_keys, revoke_key
from scenarist.server.serving import Served, ServedModels

__all__ = [
    "ApiKey",
    "Scope",
    "Served",
    "ServedModels",
    "ServerOptions",
    "create_app",
    "create_key",
    "list_keys",
    "revoke_key",
]
