"""Scenarios as Prefect flows: the only package that knows Prefect.

Importing it turns Prefect's server telemetry off unless the user set it (scenarist often starts
an ephemeral Prefect server, and machines without internet would log telemetry errors).
"""

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
