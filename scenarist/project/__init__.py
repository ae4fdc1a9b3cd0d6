"""What a monitoring project *is*: its file (`config`), the checks made on that file
(`config_checks`), its datasets, models, secondary datasets and `module:function` references
(`imports`). Nothing here writes to a store or knows Prefect."""
