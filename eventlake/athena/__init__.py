"""The Athena emulation: the project's Athena SQL translated by sqlglot and run on DuckDB over the lake."""
