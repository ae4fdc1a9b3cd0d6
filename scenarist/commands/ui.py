"""`scenarist ui`: the monitoring console (`scenarist.console`) in a local web server.

    scenarist ui [-p PROJECT] [--url DEPLOYMENTS_STORE_URL] [--host 127.0.0.1] [--port 8765]

It listens on 127.0.0.1 by default; on any other address every page asks for an API key of
`scenarist serve` (`scenarist keys create console --scope read --deployment '*'`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scenarist.commands.common import err, friendly_errors


@friendly_errors
def ui(
    project: Annotated[Path | None, typer.Option(
        "--project", "-p", help="Project folder or its scenarist.yaml (default: the current "
        "folder when it has one).")] = None,
    url: Annotated[str | None, typer.Option(
        "--url", "-u", envvar="SCENARIST_STORE_URL", help="Database of the deployments and API "
        "keys (default: the project's store connection).")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on; any but loopback requires "
                                      "an API key.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
) -> None:
    """Open the monitoring console: stores, checks, runs, alerts and deployments in a browser."""
    import uvicorn

    from scenarist.console import create_console
    from scenarist.console.security import is_loopback
    from scenarist.project.config import load_project

    if project is None and Path("scenarist.yaml").is_file():
        project = Path(".")
    if project is not None:
        load_project(project)  # a broken project file stops here, with its problems listed
    require_key = not is_loopback(host)
    app = create_console(project, deployments_url=url, require_key=require_key)
    shown = f"[{host}]" if ":" in host else host
    err.print(f"scenarist console on http://{shown}:{port}/"
              + (" (API key required)" if require_key else ""), highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning")
