"""Airflow hooks of the Copilot Usage Warehouse (importing this package does not import Airflow)."""
