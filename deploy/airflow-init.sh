#!/usr/bin/env bash
# One-shot set-up for the Compose stack (service airflow-init, run as root):
#   1. give the named volumes to AIRFLOW_UID so the other services (not root) can write them,
#   2. migrate the Airflow metadata database,
#   3. create the duckdb_writer pool with ONE slot (DuckDB allows a single writing process; every
#      task that writes the warehouse runs in this pool),
#   4. write the simple auth manager's password file for the admin user.
# Idempotent: safe to run on every `docker compose up`.
set -euo pipefail

AIRFLOW_UID="${AIRFLOW_UID:-50000}"
PASSWORDS_FILE="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:-/opt/airflow/auth/passwords.json}"
ADMIN_USER="${_AIRFLOW_WWW_USER_USERNAME:-airflow}"
# No default password: the admin's comes from .env (docker-compose.yaml refuses to start without it).
ADMIN_PASSWORD="${_AIRFLOW_WWW_USER_PASSWORD:?set _AIRFLOW_WWW_USER_PASSWORD in .env, generate one with python3 -c \"import secrets; print(secrets.token_urlsafe(24))\"}"

echo "Preparing volumes for uid ${AIRFLOW_UID}"
mkdir -p /opt/airflow/logs /opt/airflow/data/landing /opt/airflow/data/warehouse "$(dirname "${PASSWORDS_FILE}")"
chown -R "${AIRFLOW_UID}:0" /opt/airflow/logs /opt/airflow/data "$(dirname "${PASSWORDS_FILE}")"

# The image's entrypoint sets up the environment (and waits for the database), as in the
# official docker-compose.yaml's init service; outside the image plain commands are used.
run() {
  if [[ -x /entrypoint ]]; then /entrypoint "$@"; else "$@"; fi
}

echo "Airflow version: $(run airflow version)"

echo "Migrating the metadata database"
run airflow db migrate

echo "Creating pool duckdb_writer (1 slot)"
run airflow pools set duckdb_writer 1 "DuckDB allows one writing process: every warehouse-writing task runs here"

echo "Writing the admin password file for user ${ADMIN_USER}"
# The password goes through the environment, never through argv or the log.
ADMIN_USER="${ADMIN_USER}" ADMIN_PASSWORD="${ADMIN_PASSWORD}" run python - "${PASSWORDS_FILE}" <<'PY'
import json
import os
import sys

with open(sys.argv[1], "w", encoding="utf-8") as handle:
    json.dump({os.environ["ADMIN_USER"]: os.environ["ADMIN_PASSWORD"]}, handle)
PY
chown "${AIRFLOW_UID}:0" "${PASSWORDS_FILE}"
chmod 600 "${PASSWORDS_FILE}"

echo "airflow-init done"
