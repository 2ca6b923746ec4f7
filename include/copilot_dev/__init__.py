"""Development tools of the Copilot Usage Warehouse: never imported by the product.

- ``simulator``      the bundled GitHub API simulator (a real HTTP server on 127.0.0.1)
- ``airflow_env``    the environment of a local Airflow (home, metadata DB, Connection, Variables)
- ``local_airflow``  ``make airflow``: Airflow standalone with the simulator
- ``run``            ``make run``: both DAGs end to end through ``airflow dags test``, then the summary
"""
