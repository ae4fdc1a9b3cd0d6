"""`scenarist serve` (the prediction and ingest server) and `scenarist keys …` (its API keys).

    scenarist serve --model DEPLOYMENT_ID=models/fraud.joblib [--host 127.0.0.1 --port 8080]
    scenarist keys create NAME --scope predict --deployment DEPLOYMENT_ID   # prints the secret once
    scenarist keys list | revoke KEY_ID

Each reads the store at --url, or at the `store` connection of -p/--project, else at
$SCENARIST_STORE_URL, else sqlite:///.scenarist/store.db.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from scenarist.commands.common import (
    CommandLineError,
    StoreProjectOption,
    UrlOption,
    command_line_names,
    err,
    friendly_errors,
    out,
    print_table,
    store_url,
)

app = typer.Typer(help="API keys of `scenarist serve` (hashed at rest, scoped, per deployment).",
                  no_args_is_help=True)


@friendly_errors
def serve(
    model: Annotated[list[str] | None, typer.Option(
        "--model", "-m", help="DEPLOYMENT_ID=path.joblib: serve this estimator for the "
        "deployment (repeatable). Other deployments get ingest and read endpoints only.")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    monitoring: Annotated[bool, typer.Option(help="Record service stats and prediction data "
                                             "of served requests.")] = True,
    queue_capacity: Annotated[int, typer.Option(help="Requests the monitoring queue holds; "
                                                "beyond it they are counted as dropped.")
                              ] = 10_000,
    flush_seconds: Annotated[float, typer.Option(help="Longest wait gathering one monitoring "
                                                 "flush.")] = 1.0,
    switch_interval_ms: Annotated[float, typer.Option(help="Python's thread switch interval: "
                                                      "how long the monitoring thread may hold "
                                                      "the GIL before a request gets it back.")
                                  ] = 1.0,
    max_body_mb: Annotated[float, typer.Option(help="Largest request body (MB).")] = 10.0,
    spool_dir: Annotated[str | None, typer.Option(help="Folder spooling what the store could "
                                                  "not take, replayed on restart (default "
                                                  ".scenarist/spool/HOST-PORT).")] = None,
    spool_max_mb: Annotated[float, typer.Option(help="Largest spool (MB); beyond it ingest "
                                                "answers 503.")] = 1024.0,
    ingest: Annotated[str, typer.Option(help="predictionLogs answers once rows are stored "
                                        "('commit', errors as 4xx) or once they are in the "
                                        "fsync'd spool ('spool': faster; later refusals are "
                                        "counted in /health).")] = "commit",
    compact_every: Annotated[float, typer.Option(help="Seconds between background compactions "
                                                 "of closed hours' feature files (0: off).")
                             ] = 300.0,
    workers: Annotated[int, typer.Option(help="Worker processes on the one port (uvicorn); "
                                         "each spools to its own SPOOL_DIR/worker-K and "
                                         "/health answers for the worker reached.")] = 1,
    access_log: Annotated[bool, typer.Option(help="Log one line per request (uvicorn's "
                                            "access log; off: it costs ingest throughput).")
                          ] = False,
    url: UrlOption = None,
    project: StoreProjectOption = None,
) -> None:
    """Serve predictions with monitoring, and the ingest API of deployments (docs at /docs)."""
    import sys
    from pathlib import Path

    import uvicorn

    from scenarist.server import ServerOptions, create_app

    pairs = [pair.partition("=") for pair in model or []]
    for pair, (deployment_id, sep, path) in zip(model or [], pairs, strict=True):
        if not sep or not deployment_id.strip() or not path.strip():
            raise CommandLineError(f"--model {pair!r} is not DEPLOYMENT_ID=path.joblib")
    if ingest not in ("commit", "spool"):
        raise CommandLineError(f"--ingest {ingest!r}: use commit or spool")
    if workers < 1:
        raise CommandLineError(f"--workers {workers}: give 1 or more")
    options = ServerOptions(
        monitoring=monitoring, queue_capacity=queue_capacity, flush_seconds=flush_seconds,
        max_body_bytes=int(max_body_mb * 2**20),
        spool_dir=spool_dir or f".scenarist/spool/{host}-{port}",
        spool_max_bytes=int(spool_max_mb * 2**20), compact_every_s=compact_every or None,
        ingest=ingest, workers=workers)  # type: ignore[arg-type]
    sys.setswitchinterval(switch_interval_ms / 1000)  # default 5 ms: requests would wait that
    #                                                   long behind a monitoring flush
    if workers > 1:  # each worker builds the app itself (workers.py); models checked there
        from scenarist.server.workers import ServeConfig, run_workers

        err.print(f"serving with {workers} worker processes; spools under "
                  f"{escape(options.spool_dir or '')}/worker-K", highlight=False)
        run_workers(ServeConfig(store_url(url, project), options.model_dump(), [
            (d.strip(), str(Path(p.strip()).resolve())) for d, _, p in pairs],
            str(project) if project is not None else None, host, switch_interval_ms / 1000),
            workers, port, access_log)
        return
    app_ = create_app(store_url(url, project), options)
    for deployment_id, _, path in pairs:
        served = app_.state.server.models.load(deployment_id.strip(), path.strip())
        err.print(f"serving deployment {served.deployment.id} ({escape(served.deployment.label)})"
                  f": model {escape(served.model.name)} v{served.version}", highlight=False)
    if project is not None:  # the project's monitoring console, under /ui
        from scenarist.console import create_console
        from scenarist.console.security import is_loopback

        app_.mount("/ui", create_console(project, deployments_url=store_url(url, project),
                                         require_key=not is_loopback(host)))
    uvicorn.run(app_, host=host, port=port, log_level="info", access_log=access_log)


@app.command("create")
@friendly_errors
def keys_create(
    name: Annotated[str, typer.Argument(help="What the key is for, e.g. fraud-service.")],
    scope: Annotated[list[str], typer.Option(
        "--scope", "-s", help="predict, ingest, read or admin (repeatable).")],
    deployment: Annotated[list[str], typer.Option(
        "--deployment", "-d", help="A deployment id the key may touch, or '*' (repeatable).")],
    url: UrlOption = None,
    project: StoreProjectOption = None,
) -> None:
    """Create a key and print its secret (shown once: only its hash is stored)."""
    from scenarist.server.keys import create_key

    url = store_url(url, project)
    with command_line_names():  # an empty name, an unknown scope: the arguments' mistake
        key, secret = create_key(name, scope, deployment, url=url)
    err.print(f"created key {key.id} ({escape(name)}): scopes {', '.join(sorted(key.scopes))}; "
              "the secret below is shown only now", highlight=False)
    out.print(secret, highlight=False, soft_wrap=True)


@app.command("list")
@friendly_errors
def keys_list(
    revoked: Annotated[bool, typer.Option(help="Include revoked keys.")] = False,
    url: UrlOption = None,
    project: StoreProjectOption = None,
) -> None:
    """One row per key: id, name, scopes, deployments, created, revoked."""
    from scenarist.server.keys import list_keys

    found = list_keys(url=store_url(url, project), revoked=revoked)
    if not found:
        out.print("no API keys; create one with `scenarist keys create NAME --scope predict "
                  "--deployment ID`")
        return
    table = Table(title="API keys")
    for column in ("id", "name", "scopes", "deployments", "created", "revoked"):
        table.add_column(column, no_wrap=column in ("id", "name", "scopes"))
    for key in found:
        table.add_row(key.id, escape(key.name), ", ".join(sorted(key.scopes)),
                      escape(", ".join(key.deployments)), f"{key.created_at:%Y-%m-%d %H:%M}",
                      f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "-")
    print_table(table)


@app.command("revoke")
@friendly_errors
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (see `keys list`).")],
    url: UrlOption = None,
    project: StoreProjectOption = None,
) -> None:
    """Revoke a key; running servers refuse it within their key cache time (5 s)."""
    from scenarist.server.keys import revoke_key

    key = revoke_key(key_id, url=store_url(url, project))
    out.print(f"revoked key {key.id} ({escape(key.name)})")
