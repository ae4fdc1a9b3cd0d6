"""Sub-commands of the `scenarist` CLI, one module per command group (each exports `app`)."""
