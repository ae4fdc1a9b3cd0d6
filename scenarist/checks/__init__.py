"""Checks: pure rules turning a metric of an evaluation into an outcome (no I/O)."""
