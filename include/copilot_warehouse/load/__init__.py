"""Load: landing-zone files into the ``raw`` tables of DuckDB (one transaction per partition)."""
