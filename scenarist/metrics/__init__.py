"""Metrics: pure functions over DataFrames (no I/O, no store, no Prefect)."""
