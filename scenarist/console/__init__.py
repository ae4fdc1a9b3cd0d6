"""The monitoring console: server-rendered pages (FastAPI + Jinja2 + plotly) over the public API.

    scenarist ui -p PROJECT [--url DEPLOYMENTS_STORE_URL] [--host 127.0.0.1] [--port 8765]

`create_console(...)` builds the app; `scenarist serve -p PROJECT` mounts it under `/ui`.
"""

from scenarist.console.app import create_console

__all__ = ["create_console"]
