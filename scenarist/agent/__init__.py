"""Monitoring for models served outside scenarist: report to `scenarist serve` over HTTP.

    from scenarist.agent import MonitoringAgent
    agent = MonitoringAgent("http://monitoring:8080", api_key, spool_dir="/var/spool/scenarist")
    agent.report_deployment_stats(deployment_id, num_predictions=1, execution_time_ms=12.5)
    agent.report_predictions_data(deployment_id, features_df, predictions)
    agent.shutdown()

Imports only the standard library and httpx (no pandas, numpy or Prefect): it runs beside any
model server.
"""

from scenarist.agent.client import MonitoringAgent

__all__ = ["MonitoringAgent"]
