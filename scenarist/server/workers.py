"""`scenarist serve --workers N`: N uvicorn worker processes on one port, each its own spool.

    run_workers(config, workers=2)      # in the parent: uvicorn starts and watches the workers
    claim_spool(folder, workers, …)     # in a worker: the first free folder/worker-K (K < N)

uvicorn imports `app_from_environment` in every worker process; it builds the app from the
`ServeConfig` the parent left in $SCENARIST_SERVE_CONFIG (store URL, ServerOptions, the models to
serve, the project whose console is mounted). Each worker claims the first spool folder
`SPOOL_DIR/worker-K` nobody holds (an exclusive flock, spool.py), so a restarted server's
workers replay what the previous ones left; only the worker holding `worker-0` compacts in
the background. Requests of one deployment reach any worker and each worker stores what it
received: rows of one deployment arrive slightly out of order across workers, which the
deployment's `ingest.allowed_lateness` (default 1 h) accepts, and a sample id sent twice is
refused (or, replayed from a spool, skipped) by the store whichever worker got it. /health
answers for the worker that took the connection.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scenarist.errors import ConfigError
from scenarist.server.spool import Spool

ENVIRONMENT = "SCENARIST_SERVE_CONFIG"


@dataclass(frozen=True)
class ServeConfig:
    """What each worker needs to build the same app as `scenarist serve` would."""

    url: str | None
    options: dict[str, Any]
    models: list[tuple[str, str]] = field(default_factory=list)  # (deployment id, joblib path)
    project: str | None = None
    host: str = "127.0.0.1"
    switch_interval_s: float = 0.001  # sys.setswitchinterval of each worker


def claim_spool(folder: str | Path, workers: int, max_bytes: int) -> tuple[Spool, int]:
    """(spool, K): the first of `folder`/worker-0 … worker-{workers-1} no running process
    holds. Folders a former run with more workers left are replayed once a server with that
    many workers runs on the folder again (README)."""
    for number in range(workers):
        try:
            return Spool(Path(folder) / f"worker-{number}", max_bytes), number
        except ConfigError:
            continue
    raise ConfigError(f"every spool folder {folder}/worker-0…{workers - 1} is held by a running "
                      "server; give this one its own --spool-dir")


def app_from_environment() -> Any:
    """The app of one worker (uvicorn's factory)."""
    from scenarist.server.app import ServerOptions, create_app

    config = ServeConfig(**json.loads(os.environ[ENVIRONMENT]))
    sys.setswitchinterval(config.switch_interval_s)
    app = create_app(config.url, ServerOptions(**config.options))
    for deployment_id, path in config.models:
        app.state.server.models.load(deployment_id, path)
    if config.project is not None:
        from scenarist.console import create_console
        from scenarist.console.security import is_loopback

        app.mount("/ui", create_console(config.project, deployments_url=config.url,
                                        require_key=not is_loopback(config.host)))
    return app


def run_workers(config: ServeConfig, workers: int, port: int, access_log: bool) -> None:
    """uvicorn with `workers` processes serving `config` on host:port (blocks)."""
    import uvicorn

    os.environ[ENVIRONMENT] = json.dumps(asdict(config))
    uvicorn.run("scenarist.server.workers:app_from_environment", factory=True,
                host=config.host, port=port, workers=workers, log_level="info",
                access_log=access_log)
