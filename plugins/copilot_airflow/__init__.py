"""Airflow-facing pieces of the Copilot Usage Warehouse (Airflow puts ``plugins/`` on ``sys.path``).

- ``hooks``   ``GitHubCopilotHook``: Airflow Connection ``github_copilot`` -> a ready client
- ``notify``  the task-failure alert callbacks of the DAGs
- ``ui``      the FastAPI app of the Airflow UI plugin (``plugins/copilot_usage_plugin.py``)

Importing this package does not import Airflow.
"""
