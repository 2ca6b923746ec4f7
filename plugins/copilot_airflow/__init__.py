"""Airflow-facing pieces of the Copilot Usage Warehouse."""
