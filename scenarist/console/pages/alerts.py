"""Console pages: the outbox — every reporter message with its status, attempts and last error.

    GET  /alerts[?status=pending|sending|sent|failed|all]
    POST /alerts/retry      ids (default: every pending and failed one, and every claim whose
                            lease expired): due now with a fresh attempt budget, then one
                            delivery attempt each (CSRF + admin)
    POST /alerts/purge      ids, or `what` = sent | failed | everything (CSRF + admin)

The same functions as `scenarist outbox list|retry|purge`: `outbox_messages`, `requeue` +
`deliver_pending`, `purge`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from scenarist.console.pages.runs import project_store, redirect
from scenarist.console.security import ADMIN_POST, form_lists
from scenarist.console.state import error_page, render
from scenarist.errors import NotFoundError

router = APIRouter()

SHOWN = 500
PURGED = {"sent": ("sent",), "failed": ("failed",), "everything": None}


@router.get("/alerts", name="alerts")
def alerts_page(request: Request, status: str = "all", message: str | None = None):
    from scenarist.stores.outbox import STATUSES, outbox_messages

    if status != "all" and status not in STATUSES:
        return error_page(request, "Unknown status", f"there is no message status {status!r}",
                          f"choose all, {', '.join(STATUSES)}", status_code=404)
    project, engine = project_store(request)
    every = outbox_messages(engine, project.project)
    counts = {s: sum(m.status == s for m in every) for s in STATUSES}
    shown = [m for m in every if status == "all" or m.status == status]
    leases = {m.id: claim_expiry(m) for m in every if m.status == "sending"}
    now = datetime.now(timezone.utc)
    return render(request, "alerts.html", messages=list(reversed(shown))[:SHOWN], counts=counts,
                  status=status, statuses=STATUSES, message=message, total=len(every),
                  leases=leases, stranded={i for i, until in leases.items() if until <= now})


def claim_expiry(message) -> datetime:
    """When the claim of a `sending` message ends: its lease, or for a claim taken before
    leases were stored, its last attempt + CLAIM_LEASE (as `scenarist outbox list`). After
    that, Retry takes it: its sender died."""
    from scenarist.stores.outbox import CLAIM_LEASE

    return message.lease_until or (message.last_attempt_at or message.created_at) + CLAIM_LEASE


@router.post("/alerts/retry", dependencies=ADMIN_POST, name="alerts_retry")
def retry(request: Request, form: Annotated[dict[str, list[str]], Depends(form_lists)]):
    from scenarist.reporters.delivery import deliver_pending
    from scenarist.stores.outbox import requeue

    project, engine = project_store(request)
    ids = _ids(form)
    count = requeue(engine, project.project, ids)
    if not count:
        return _back(request, "nothing to retry: no pending or failed message"
                     + (f" with id {', '.join(map(str, ids))}" if ids else ""))
    report = asyncio.run(deliver_pending(project, engine, ids=ids))
    return _back(request, f"{len(report.sent)} of {count} message(s) delivered")


@router.post("/alerts/purge", dependencies=ADMIN_POST, name="alerts_purge")
def purge(request: Request, form: Annotated[dict[str, list[str]], Depends(form_lists)]):
    from scenarist.stores.outbox import STATUSES
    from scenarist.stores.outbox import purge as purge_messages

    what = (form.get("what") or ["sent"])[-1]
    if what not in PURGED:
        return error_page(request, "Unknown choice", f"cannot purge {what!r}",
                          f"choose {', '.join(PURGED)}", status_code=400)
    project, engine = project_store(request)
    ids = _ids(form)
    statuses = PURGED[what] or STATUSES
    count = purge_messages(engine, project.project, ids=ids, statuses=statuses)
    described = "message(s)" if ids else f"{'/'.join(statuses)} message(s)"
    return _back(request, f"purged {count} {described}")


def _ids(form: dict[str, list[str]]) -> list[int] | None:
    values = [v for v in form.get("id", []) if v.strip()]
    if not all(v.strip().isdigit() for v in values):
        raise NotFoundError(f"message ids are numbers, not {values!r}")
    return [int(v) for v in values] or None


def _back(request: Request, message: str):
    return redirect(request, "/alerts", message=message)
