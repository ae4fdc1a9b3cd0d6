"""The fraud-monitoring example project (DESIGN.md §4) and its data generator."""
