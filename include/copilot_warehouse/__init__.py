"""Copilot Usage Warehouse: fetch, land and load GitHub Copilot usage metrics into DuckDB.

Everything that fetches, parses and loads lives in this package; Airflow DAG files under
``dags/`` only orchestrate it. Modules:

- ``config``      settings from the environment, scopes, day arithmetic, input validation
- ``redact``      keeps tokens and signed download URLs out of logs and exceptions
- ``client``      the GitHub REST client (plain ``requests``, no Airflow needed)
- ``hooks``       the Airflow hook that builds the client from Connection ``github_copilot``
- ``landing``     the landing zone: downloaded report parts, immutable and replayable
- ``warehouse``   DuckDB connection handling and the ``raw`` schema
- ``loader``      lands files into ``raw`` (one transaction per scope/report/day)
- ``ingest``      fetch + land + load for a scope and a range of days (what tasks call)
- ``simulator``   the bundled GitHub API simulator (a real HTTP server on 127.0.0.1)
"""

__version__ = "0.1.0"
