"""Reports rendered from stored results (never computed inside metric code)."""
