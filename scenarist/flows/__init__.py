"""Scenarios as Prefect flows: the only package that knows Prefect."""
