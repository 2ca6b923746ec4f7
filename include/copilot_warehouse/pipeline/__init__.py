"""Pipeline: which scopes and days to fetch, and the one fetch-and-load path the DAGs and CLI use."""
