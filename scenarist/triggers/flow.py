"""The `scenarist-trigger` Prefect flow: one poll of one polling trigger.

A bundle's release registers one Prefect deployment of this flow per polling trigger
(`bundles.prefect_deployments`), scheduled every `every`, with parameters {project, scenario,
trigger, deployment}: `deployment` is the scenario's own Prefect deployment
("scenarist-scenario/<name>") that a change starts through `run_deployment`; without it the
scenario runs inside this flow run's process.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from prefect import flow, get_run_logger


@flow(name="scenarist-trigger", flow_run_name="{scenario} / {trigger}", persist_result=False,
      validate_parameters=True)
def trigger_flow(project: str, scenario: str, trigger: str,
                 deployment: str | None = None) -> list[dict[str, Any]]:
    """Poll `trigger` of `scenario` once; start a run for each change (scenarist.triggers)."""
    from scenarist.triggers.polling import poll

    logger = get_run_logger()
    results = poll(project, scenario, trigger, deployment=deployment)
    for result in results:
        if result.action in ("started", "failed", "error", "paused"):
            logger.info("%s %s: %s %s %s", trigger, result.subject or "", result.action,
                        result.run_id or "", result.message or "")
    failed = [r for r in results if r.action in ("failed", "error")]
    if failed:
        raise RuntimeError("; ".join(f"{r.subject or r.trigger}: {r.message}" for r in failed))
    return [asdict(r) for r in results]
