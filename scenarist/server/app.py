"""The FastAPI application: prediction and ingest endpoints over deployments (OpenAPI at /docs).

    GET  /health                                        no key; queue and spool counters
    POST /deployments/{id}/predictions                  predict  JSON array of rows, or CSV
    POST /deployments/{id}/predictionLogs               ingest   predictions made elsewhere
    POST /deployments/{id}/serviceStats                 ingest   requests served elsewhere
    POST /deployments/{id}/actuals                      ingest   labels, by sample/association id
    POST /deployments/{id}/monitoringBatches            ingest   a new monitoring batch
    GET  /deployments/{id}                              read     label, model, settings
    GET  /deployments/{id}/serviceStats                 read     same as get_service_stats
    GET  /deployments/{id}/featureDrift | targetDrift   read     same as get_feature/target_drift
    GET  /deployments/{id}/accuracy                     read     same as get_accuracy
    GET  /deployments/{id}/serviceStatsOverTime         read     get_service_stats_over_time
    GET  /deployments/{id}/accuracyOverTime             read     get_accuracy_over_time_frame
    POST /deployments/{id}/model                        admin    replace the served model

Every endpoint but /health needs `Authorization: Bearer <API key>` with the endpoint's scope
and the deployment among the key's deployments (401 without a valid key, 403 otherwise),
checked before any body byte is read (gate.py). Errors are JSON `{"detail": "..."}`: 400
unreadable body, 404 unknown deployment or batch, 409 a state conflict (deleted deployment,
locked batch), 413 body too large, 415 content type, 422 a request or rows that do not fit,
503 store unreachable (failures.py).

predictionLogs takes rows or columns (logs.py) and answers 200 once its rows are stored or
spooled to disk (fsync'd): requests are committed in groups (committer.py) and a store that
cannot be reached spools them (writer.py, spool.py), replayed in order when it is back;
/health counts `spooled` runs and the age of the oldest.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from scenarist.deployments import Deployment
from scenarist.errors import ConfigError, InputDataError, NotFoundError
from scenarist.server import failures
from scenarist.server.answers import answer_rows, clean, sample_ids, warnings
from scenarist.server.bodies import (
    LOGS_OPENAPI,
    Actuals,
    NewBatch,
    Replacement,
    ServiceStatsReport,
    Window,
)
from scenarist.server.committer import Committer
from scenarist.server.gate import BodyLimit, Guard, GuardedRoute
from scenarist.server.keys import ApiKey, Scope, verify
from scenarist.server.logs import parse_logs
from scenarist.server.monitoring import MonitoringQueue
from scenarist.server.rows import check_rows, parse_rows
from scenarist.server.serving import (
    Served,
    ServedModels,
    job_batch,
    load_estimator,
    open_batch,
    wrap,
)
from scenarist.server.spool import Spool
from scenarist.server.workers import claim_spool
from scenarist.server.writer import Record, Writer, transient

BATCH_HEADER = "X-Scenarist-Monitoring-Batch-Id"
VERSION_HEADER = "X-Scenarist-Model-Version"
MONITORING_HEADER = "X-Scenarist-Monitoring"
log = logging.getLogger(__name__)


class ServerOptions(BaseModel):
    """How a server runs; every field has a safe default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    monitoring: bool = Field(True, description="Record service stats and prediction data.")
    queue_capacity: int = Field(10_000, ge=1, description="Requests the monitoring queue holds.")
    flush_batch: int = Field(2_000, ge=1, description="Most requests logged per flush.")
    flush_seconds: float = Field(1.0, ge=0, description="Longest wait gathering one flush "
                                 "(each flush writes one Parquet file per hour it spans).")
    max_body_bytes: int = Field(10 * 2**20, ge=1, description="Largest request body (413).")
    key_cache_seconds: float = Field(5.0, ge=0, description="How long a verified key is "
                                     "trusted before it is read again (revocation delay).")
    settings_refresh_seconds: float = Field(10.0, gt=0, description="How often the served "
                                            "deployments' settings (prediction warnings, "
                                            "association id) are read again.")
    spool_dir: str | None = Field(None, description="Folder of the spool of records the store "
                                  "could not take (replayed on restart); default a new "
                                  "temporary folder.")
    spool_max_bytes: int = Field(1 << 30, ge=1, description="Largest spool; beyond it ingest "
                                 "answers 503.")
    ingest: Literal["commit", "spool"] = Field("commit", description="predictionLogs: "
                                               "'commit' answers once the rows are in the "
                                               "store (errors as 4xx), 'spool' once they are "
                                               "in the fsync'd spool (faster; rows the store "
                                               "refuses later are counted in /health).")
    compact_every_s: float | None = Field(None, gt=0, description="Compact closed hours' "
                                          "feature files in the background this often.")
    workers: int = Field(1, ge=1, description="Worker processes of the server (more than 1: "
                         "this one claims its own spool_dir/worker-K, workers.py).")


class Server:
    """The state behind one app: store URL, served models, monitoring queue, key cache."""

    def __init__(self, url: str | None, options: ServerOptions):
        self.url = url
        self.options = options
        self.models = ServedModels(url)
        folder = options.spool_dir or tempfile.mkdtemp(prefix="scenarist-spool-")
        self.worker = 0  # the worker number (workers.py); 0 compacts in the background
        if options.workers > 1:
            self.spool, self.worker = claim_spool(folder, options.workers,
                                                  options.spool_max_bytes)
        else:
            self.spool = Spool(folder, options.spool_max_bytes)
        self.writer = Writer(url, self.models.lock, self.spool)
        self.committer = Committer(self.writer, spool_first=options.ingest == "spool")
        self.queue = MonitoringQueue(url, self.models.lock, capacity=options.queue_capacity,
                                     batch_size=options.flush_batch,
                                     flush_seconds=options.flush_seconds, writer=self.writer)
        self._known: dict[str, Deployment] = {}
        self._keys: dict[str, tuple[ApiKey, float]] = {}
        self._keys_lock = threading.Lock()
        self._batches: dict[tuple[str, str], str] = {}

    def key(self, secret: str) -> ApiKey | None:
        now = time.monotonic()
        with self._keys_lock:
            cached = self._keys.get(secret)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            found = verify(secret, url=self.url)
        except Exception as exc:
            if cached is None or not transient(exc):
                raise
            return cached[0]  # the store is away: a key verified before stays valid
        if found is not None and self.options.key_cache_seconds > 0:
            with self._keys_lock:
                self._keys[secret] = (found, now + self.options.key_cache_seconds)
        return found

    def known(self, deployment_id: str) -> Deployment:
        """The deployment (as first read; NotFoundError when unknown), remembered: ingest goes
        on, spooled, while the store is away."""
        found = self._known.get(deployment_id)
        if found is None:
            found = self._known[deployment_id] = Deployment.get(deployment_id, url=self.url)
        return found

    def health(self) -> dict[str, Any]:
        age = self.spool.oldest_age()
        return {"spooled": len(self.spool), "worker": self.worker,
                "oldest_spooled_age_s": None if age is None else round(age, 3),
                "replayed": self.writer.replayed, "replay_failed": self.writer.replay_failed,
                "last_store_error": self.writer.last_error}

    def batch_id(self, served: Served, batch: str) -> str:
        """The id of the open batch `batch` (id or name); NotFoundError / ConfigError."""
        cached = self._batches.get((served.deployment.id, batch))
        if cached is not None:
            return cached
        found = open_batch(served.deployment, batch)
        self._batches[(served.deployment.id, batch)] = found.id
        return found.id


def create_app(url: str | None = None, options: ServerOptions | None = None) -> FastAPI:
    """The app over the store at `url`; serve models with `app.state.server.models.load(...)`."""
    server = Server(url, options or ServerOptions())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        server.writer.start()
        server.committer.start()
        server.queue.start()
        refresher = asyncio.create_task(_refresh_settings(server))
        compaction = None
        if server.options.compact_every_s and server.worker == 0:
            from scenarist.deployments.compaction import run_in_background

            compaction = run_in_background(server.url, server.options.compact_every_s)[1]
        yield
        refresher.cancel()
        if compaction is not None:
            compaction.set()
        await run_in_threadpool(server.committer.stop)
        await run_in_threadpool(server.queue.stop)
        await run_in_threadpool(server.writer.stop)
        if server.options.spool_dir is None and not len(server.spool):  # a temporary folder
            server.spool.close()
            shutil.rmtree(server.spool.folder, ignore_errors=True)

    app = FastAPI(title="scenarist", lifespan=lifespan,
                  description="Predictions with monitoring, and the ingest API of deployments.")
    app.state.server = server
    app.router.route_class = GuardedRoute  # API keys are checked before the body is read
    app.add_middleware(BodyLimit, limit=server.options.max_body_bytes)
    failures.install(app)

    def authorize(scope: Scope) -> Any:
        return Depends(Guard(scope, server.key))

    @app.get("/health", tags=["server"])
    def health() -> dict[str, Any]:
        """Liveness, the monitoring queue's counters (dropped = requests not monitored) and the
        spool's (`spooled` runs waiting for the store, `oldest_spooled_age_s`)."""
        return {"status": "ok", "served_deployments": len(server.models.ids()),
                "monitoring": server.options.monitoring, **server.health(),
                "queue": server.queue.stats().as_dict()}

    @app.post("/deployments/{deployment_id}/predictions", tags=["predictions"],
              dependencies=[authorize(Scope.PREDICT)])
    async def predictions(
        deployment_id: str, request: Request,
        monitoring_batch_prefix: Annotated[str | None, Query(
            alias="monitoringBatchPrefix", description="File the rows under a new monitoring "
            "batch named 'PREFIX - <timestamp>' (a batch scoring job); its id is in the "
            "response's X-Scenarist-Monitoring-Batch-Id header.")] = None,
    ) -> JSONResponse:
        """Predict on rows (JSON array of objects, or text/csv). Each row gets its prediction,
        class probabilities and prediction-warning flag; the response names the model version.
        Header X-Scenarist-Monitoring-Batch-Id files the rows in a monitoring batch."""
        started = time.perf_counter()
        served = server.models.get(deployment_id)
        if served is None:
            raise NotFoundError(f"deployment {deployment_id} is not served by this server; "
                                f"served: {', '.join(server.models.ids()) or 'none'}. Start it "
                                f"with --model {deployment_id}=model.joblib")
        if served.deployment.status != "active":
            raise ConfigError(f"deployment {deployment_id} is deleted; it serves no more "
                              "predictions")
        batch = request.headers.get(BATCH_HEADER)
        try:
            body = await request.body()  # bounded by BodyLimit (413)
            frame = parse_rows(body, request.headers.get("content-type"))
            if monitoring_batch_prefix is not None:
                batch_id = (await run_in_threadpool(job_batch, served.deployment,
                                                    monitoring_batch_prefix)).id
            else:
                batch_id = (await run_in_threadpool(server.batch_id, served, batch)
                            if batch else None)
            check_rows(frame, served)
            values, probabilities = served.model.predict(frame)
        except Exception:
            _monitor_error(server, served, started, None)
            raise
        flags = warnings(served, values, probabilities)
        ids = sample_ids(len(frame))
        elapsed = (time.perf_counter() - started) * 1000
        monitored = "off"
        if server.options.monitoring:
            ok = server.queue.put(lambda ts: Record(
                deployment_id, served.version, served.deployment.model, ts, elapsed, batch_id,
                ids, frame, values, probabilities))
            monitored = "queued" if ok else "dropped"
        headers = {VERSION_HEADER: str(served.version), MONITORING_HEADER: monitored}
        if batch_id is not None:
            headers[BATCH_HEADER] = batch_id
        return JSONResponse(
            {"deployment_id": deployment_id, "model": served.model.name,
             "model_version": served.version,
             "data": answer_rows(served, ids, values, probabilities, flags)},
            headers=headers)

    @app.post("/deployments/{deployment_id}/predictionLogs", tags=["ingest"],
              dependencies=[authorize(Scope.INGEST)], openapi_extra=LOGS_OPENAPI,
              response_model=None)
    async def prediction_logs(deployment_id: str, request: Request) -> Response:
        """Log predictions made elsewhere (same checks as Deployment.log_batch), as row
        objects or as columns (logs.py). 200 means stored, or spooled durably (`stored`:
        "spooled"): with --ingest spool, or while the store is unreachable."""
        known = await _known(server, deployment_id)
        logs = parse_logs(await request.body())  # bounded by BodyLimit (413)
        if server.committer.spool_first:  # checked now: the store checks the rest later
            missing = logs.missing(list(known.model.features))
            if missing:
                raise InputDataError(f"rows lack feature(s) {missing} of deployment "
                                     f"{deployment_id}")
        outcome = await asyncio.wrap_future(server.committer.submit(
            logs.record(deployment_id, time.time())))
        result = outcome.result
        if result is None:
            answer = {"rows": logs.rows, "warnings": None, "batch_id": logs.batch_id,
                      "secondary_missing": {}, "stored": "spooled"}
        else:
            alone = result.rows == logs.rows
            answer = {"rows": logs.rows, "warnings": result.warnings if alone else None,
                      "batch_id": result.batch_id,
                      "secondary_missing": dict(result.secondary_missing) if alone else {},
                      "stored": "stored"}
        return Response(orjson.dumps(answer), media_type="application/json")

    @app.post("/deployments/{deployment_id}/serviceStats", tags=["ingest"],
              dependencies=[authorize(Scope.INGEST)])
    async def service_stats_report(deployment_id: str, body: ServiceStatsReport
                                   ) -> dict[str, Any]:
        """Requests served elsewhere without their data (the agent's report_deployment_stats):
        counted in service stats; stored or spooled like predictionLogs."""
        await _known(server, deployment_id)
        outcome = await asyncio.wrap_future(server.committer.submit(Record(
            deployment_id, None, None, _epoch(body.timestamp) if body.timestamp else time.time(),
            body.execution_time_ms, body.batch_id, predictions=body.num_predictions)))
        return {"stored": "spooled" if outcome.spooled else "stored"}

    @app.post("/deployments/{deployment_id}/actuals", tags=["ingest"],
              dependencies=[authorize(Scope.INGEST)])
    def actuals(deployment_id: str, body: Actuals) -> dict[str, Any]:
        """Actual outcomes by sample id or association id (a repeated one corrects)."""
        deployment = Deployment.get(deployment_id, url=server.url)
        result = deployment.log_labels([a.association_id for a in body.data],
                                       [a.actual_value for a in body.data])
        return {"stored": result.stored, "corrected": result.corrected,
                "unknown": result.unknown}

    @app.post("/deployments/{deployment_id}/monitoringBatches", tags=["ingest"],
              status_code=201, dependencies=[authorize(Scope.INGEST)])
    def monitoring_batches(deployment_id: str, body: NewBatch) -> dict[str, Any]:
        """A new, open monitoring batch; send its id in X-Scenarist-Monitoring-Batch-Id."""
        batch = Deployment.get(deployment_id, url=server.url).create_batch(body.name,
                                                                           body.description)
        return {"id": batch.id, "name": batch.name, "created_at": batch.created_at}

    @app.get("/deployments/{deployment_id}", tags=["monitoring"],
             dependencies=[authorize(Scope.READ)])
    def deployment(deployment_id: str) -> dict[str, Any]:
        """The deployment: label, status, model (version and declaration), reference rows and
        the model's accuracy on them (baseline), settings; what the drop-in clients read."""
        found = Deployment.get(deployment_id, url=server.url)
        return clean({"id": found.id, "label": found.label, "description": found.description,
                       "importance": found.importance, "status": found.status,
                       "created_at": found.created_at, "model_version": found.model_version,
                       "model": found.model.to_json(),
                       "reference_rows": found.reference_facts.get("rows", 0),
                       "baseline": found.reference_facts.get("baseline"),
                       "settings": found.settings.model_dump(mode="json")})

    @app.get("/deployments/{deployment_id}/serviceStats", tags=["monitoring"],
             dependencies=[authorize(Scope.READ)])
    def service_stats(deployment_id: str, window: Window
                      ) -> dict[str, Any]:
        """Predictions, requests, request times, errors of the window (get_service_stats)."""
        deployment = Deployment.get(deployment_id, url=server.url)
        return clean(deployment.get_service_stats(**window).as_dict())

    @app.get("/deployments/{deployment_id}/featureDrift", tags=["monitoring"],
             dependencies=[authorize(Scope.READ)])
    def feature_drift(deployment_id: str, window: Window
                      ) -> dict[str, Any]:
        """One entry per feature: test, score, threshold, drifted, psi, importance."""
        deployment = Deployment.get(deployment_id, url=server.url)
        table = deployment.get_feature_drift(**window)
        return {"features": clean(table.reset_index().to_dict(orient="records"))}

    @app.get("/deployments/{deployment_id}/targetDrift", tags=["monitoring"],
             dependencies=[authorize(Scope.READ)])
    def target_drift(deployment_id: str, window: Window
                     ) -> dict[str, Any]:
        """Drift of the model's output against its output on the reference."""
        deployment = Deployment.get(deployment_id, url=server.url)
        return clean(deployment.get_target_drift(**window).__dict__)

    @app.get("/deployments/{deployment_id}/accuracy", tags=["monitoring"],
             dependencies=[authorize(Scope.READ)])
    def accuracy(deployment_id: str, window: Window) -> dict[str, Any]:
        """Accuracy metrics over the window's labelled predictions, and label readiness."""
        deployment = Deployment.get(deployment_id, url=server.url)
        result = deployment.get_accuracy(**window)
        return clean({"start": result.start, "end": result.end, "metrics": result.metrics,
                       "labelled": result.labelled, "predictions": result.predictions,
                       "ready": result.readiness.ready, "reason": result.readiness.reason})

    @app.get("/deployments/{deployment_id}/serviceStatsOverTime", tags=["monitoring"],
             dependencies=[authorize(Scope.READ)])
    def service_stats_over_time(
        deployment_id: str, window: Window, metric: str = "total_predictions",
        bucket_size: Annotated[str, Query(description="ISO 8601, whole hours")] = "PT1H",
    ) -> dict[str, Any]:
        """One service metric per bucket of the window (get_service_stats_over_time)."""
        series = Deployment.get(deployment_id, url=server.url).get_service_stats_over_time(
            metric, bucket_size, **window)
        return clean({"metric": metric, "buckets": [
            {"start": start, "value": value} for start, value in series.items()]})

    @app.get("/deployments/{deployment_id}/accuracyOverTime", tags=["monitoring"],
             dependencies=[authorize(Scope.READ)])
    def accuracy_over_time(
        deployment_id: str, window: Window,
        metric: Annotated[list[str] | None, Query(description="Repeatable; default all")] = None,
        bucket_size: Annotated[str, Query(description="ISO 8601, whole hours")] = "PT1H",
    ) -> dict[str, Any]:
        """Accuracy metrics and labelled rows per bucket (get_accuracy_over_time_frame)."""
        frame = Deployment.get(deployment_id, url=server.url).get_accuracy_over_time_frame(
            metric, bucket_size, **window)
        return clean({"metrics": [c for c in frame.columns if c != "labelled"], "buckets": [
            {"start": start, **row} for start, row in frame.to_dict(orient="index").items()]})

    @app.post("/deployments/{deployment_id}/model", tags=["server"],
              dependencies=[authorize(Scope.ADMIN)])
    def replace_model(deployment_id: str, body: Replacement) -> dict[str, Any]:
        """Load a joblib file on the server's disk, validate it and swap it in atomically."""
        current = server.models.get(deployment_id)
        if current is None:
            raise NotFoundError(f"deployment {deployment_id} is not served by this server")
        model = wrap(current.deployment, load_estimator(body.path), name=body.name)
        served = server.models.replace(deployment_id, model, body.reason)
        server._batches.clear()
        return {"model": served.model.name, "model_version": served.version}

    return app


# -- helpers ----------------------------------------------------------------------------------

async def _refresh_settings(server: Server) -> None:
    """Re-read the served deployments' settings now and then (off the request path)."""
    while True:
        await asyncio.sleep(server.options.settings_refresh_seconds)
        for deployment_id in server.models.ids():
            try:
                await run_in_threadpool(server.models.refresh_settings, deployment_id)
            except Exception as exc:  # noqa: BLE001 - keep serving the snapshot it has
                log.warning("cannot refresh the settings of deployment %s: %s",
                            deployment_id, exc)


async def _known(server: Server, deployment_id: str) -> Deployment:
    """server.known, on a thread only the first time (it reads the store)."""
    found = server._known.get(deployment_id)
    return found if found is not None else await run_in_threadpool(server.known, deployment_id)


def _epoch(value: datetime | float) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return float(value)


def _monitor_error(server: Server, served: Served, started: float, batch_id: str | None
                   ) -> None:
    if server.options.monitoring:
        elapsed = (time.perf_counter() - started) * 1000
        server.queue.put(lambda ts: Record(served.deployment.id, served.version,
                                           served.deployment.model, ts, elapsed, batch_id))
