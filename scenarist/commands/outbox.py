"""`scenarist outbox list|retry|purge`: the reporters' messages waiting, failed or sent.

    scenarist outbox list -p PROJECT            pending, sending and failed messages (--all: sent)
    scenarist outbox retry [ID…] -p PROJECT     deliver them now, waiting out retries (--wait)
    scenarist outbox purge [ID…] -p PROJECT     delete sent messages (--failed, --everything)

A message being sent is listed with its claim: `sending (claimed, lease until 23:14:05)`, or
`sending (lease expired 3m ago)` when its sender died; `retry` takes expired claims at once and
waits (within --wait) for live ones. It exits 1 when a message is still undelivered, so a cron
job or CI step notices.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from scenarist.commands.common import ProjectOption, err, friendly_errors, out

app = typer.Typer(help="Reporter messages: pending, failed and sent.", no_args_is_help=True)

STATUS_STYLE = {"pending": "yellow", "sending": "cyan", "sent": "green", "failed": "red"}
IdsArgument = Annotated[list[int] | None, typer.Argument(help="Message ids (default: all).")]


def _project_and_engine(project: Path):
    from scenarist.project.config import load_project  # heavy: not at `scenarist --help`
    from scenarist.stores.database import connect

    loaded = load_project(project)
    connection = loaded.connections.get("store")
    return loaded, connect(connection.resolved_url() if connection else None, loaded.root)


@app.command("list")
@friendly_errors
def list_messages(
    project: ProjectOption = Path("."),
    all_: Annotated[bool, typer.Option("--all", help="Include sent messages.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many, oldest first.")] = 200,
) -> None:
    """Messages not delivered yet (pending, sending, failed), oldest first."""
    from scenarist.stores.outbox import outbox_messages

    loaded, engine = _project_and_engine(project)
    now = datetime.now(timezone.utc)
    statuses = None if all_ else ("pending", "sending", "failed")
    messages = outbox_messages(engine, loaded.project, statuses=statuses, limit=limit)
    if not messages:
        out.print("the outbox is empty" if all_ else "no pending or failed messages")
        return
    table = Table(title=f"outbox of {loaded.project}")
    for column in ("id", "status", "scenario", "reporter", "run", "attempts", "queued",
                   "next attempt", "last error"):
        table.add_column(column, overflow="fold")
    for m in messages:
        style = STATUS_STYLE.get(m.status, "dim")
        next_attempt = m.next_attempt_at.strftime("%H:%M:%S") if m.status == "pending" else ""
        table.add_row(str(m.id), f"[{style}]{_status(m, now)}[/]", m.scenario, m.reporter,
                      m.run_id[:8], str(m.attempts), m.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                      next_attempt, m.last_error or "")
    out.print(table)


def _status(message, now: datetime) -> str:
    """`sending (claimed, lease until 23:14:05)` / `sending (lease expired 3m ago)`."""
    if message.status != "sending":
        return message.status
    from scenarist.stores.outbox import CLAIM_LEASE

    until = message.lease_until or (message.last_attempt_at or message.created_at) + CLAIM_LEASE
    if until > now:
        return f"sending (claimed, lease until {until:%H:%M:%S})"
    return f"sending (lease expired {_ago((now - until).total_seconds())} ago)"


def _ago(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size:.0f}{unit}"
    return f"{seconds:.0f}s"


@app.command("retry")
@friendly_errors
def retry(
    ids: IdsArgument = None,
    project: ProjectOption = Path("."),
    wait: Annotated[float, typer.Option(
        help="Seconds to keep retrying temporary failures (with backoff) before giving up.",
        min=0)] = 60.0,
    lease: Annotated[float | None, typer.Option(
        help="Seconds a claimed message is held before another sender may take it "
             "(default: SCENARIST_OUTBOX_LEASE_SECONDS, else 600).", min=0.1)] = None,
) -> None:
    """Deliver pending and failed messages, and those whose sender died (claim expired), now
    (a fresh attempt budget each)."""
    import asyncio

    from scenarist.reporters.delivery import deliver_pending
    from scenarist.stores.outbox import outbox_messages, requeue

    loaded, engine = _project_and_engine(project)
    count = requeue(engine, loaded.project, ids)
    held = [m for m in outbox_messages(engine, loaded.project, statuses=("sending",))
            if ids is None or m.id in ids]  # claimed by a live sender: waited for
    if held:
        err.print(f"{len(held)} message(s) being sent by another sender; waiting up to "
                  f"{wait:g} s for its lease to expire")
    count += len(held)
    if not count:
        out.print("nothing to retry: no pending, failed or stranded message"
                  + (f" with id {', '.join(map(str, ids))}" if ids else ""))
        return
    report = asyncio.run(deliver_pending(
        loaded, engine, ids=ids, wait_seconds=wait,
        lease=timedelta(seconds=lease) if lease is not None else None))
    out.print(f"{len(report.sent)} of {count} message(s) delivered")
    for message_id, note in report.sent.items():
        if note:
            err.print(f"[yellow]#{message_id}: {note}[/]", highlight=False, soft_wrap=True)
    left = outbox_messages(engine, loaded.project, statuses=("pending", "sending", "failed"))
    left = [m for m in left if ids is None or m.id in ids]
    for m in left:
        err.print(f"[red]#{m.id} {m.reporter} ({m.status}): {m.last_error}[/]",
                  highlight=False, soft_wrap=True)
    if left:
        err.print(f"{len(left)} message(s) still undelivered; they stay in the outbox")
        raise typer.Exit(1)


@app.command("purge")
@friendly_errors
def purge(
    ids: IdsArgument = None,
    project: ProjectOption = Path("."),
    failed: Annotated[bool, typer.Option("--failed", help="Purge failed messages.")] = False,
    everything: Annotated[bool, typer.Option(
        "--everything", help="Purge every message, pending ones included.")] = False,
    older_than_days: Annotated[float | None, typer.Option(
        help="Only messages queued more than this many days ago.", min=0)] = None,
) -> None:
    """Delete messages: by id, else the sent ones (--failed: failed, --everything: all)."""
    from scenarist.stores.outbox import STATUSES
    from scenarist.stores.outbox import purge as purge_messages

    loaded, engine = _project_and_engine(project)
    statuses = STATUSES if everything else ("failed",) if failed else ("sent",)
    older = (datetime.now(timezone.utc) - timedelta(days=older_than_days)
             if older_than_days is not None else None)
    count = purge_messages(engine, loaded.project, ids=ids, statuses=statuses, older_than=older)
    what = "message(s)" if ids else f"{'/'.join(statuses)} message(s)"
    out.print(f"purged {count} {what}")
