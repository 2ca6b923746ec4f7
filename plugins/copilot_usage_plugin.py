"""Airflow plugin: the Copilot usage report and data health inside Airflow's UI.

Airflow (3.1+) loads this file from its plugins folder (``AIRFLOW__CORE__PLUGINS_FOLDER``, the
repository's ``plugins/``; ``make airflow`` and docker-compose.yaml set it up). The plugin mounts
the FastAPI app of :mod:`copilot_airflow.ui` at ``/copilot-usage`` in the API server and adds two
entries to the UI's navigation (under "Browse"), each shown inside Airflow's page:

- "Copilot usage": the last built usage report;
- "Copilot data health": freshness, gaps, unavailable reports and odd values per scope.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from copilot_airflow.ui import URL_PREFIX, app

NAV_CATEGORY = "browse"
# href without a leading slash: Airflow resolves it against its base URL (works behind a proxy).
USAGE_VIEW = {
    "name": "Copilot usage",
    "href": f"{URL_PREFIX.lstrip('/')}/",
    "destination": "nav",
    "url_route": "copilot-usage",
    "category": NAV_CATEGORY,
}
HEALTH_VIEW = {
    "name": "Copilot data health",
    "href": f"{URL_PREFIX.lstrip('/')}/health",
    "destination": "nav",
    "url_route": "copilot-data-health",
    "category": NAV_CATEGORY,
}


class CopilotUsagePlugin(AirflowPlugin):
    """The usage report and data-health pages, mounted in the API server and linked from the nav."""

    name = "copilot_usage"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Copilot usage"}]
    external_views = [USAGE_VIEW, HEALTH_VIEW]
