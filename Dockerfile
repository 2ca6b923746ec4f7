# The project's Airflow image: the official Airflow 3.3.2 image (Python 3.11) plus the pinned
# packages, the copilot_warehouse package, the DAGs and the dbt project. The layout under
# /opt/airflow (AIRFLOW_HOME) mirrors the repository, so dags/ is Airflow's default DAGs folder and
# paths the package derives from its own location (dbt/, include/) resolve as in a checkout.
#
#   docker build -t copilot-warehouse-airflow .      (docker compose build does the same)
FROM apache/airflow:3.3.2-python3.11

USER airflow
WORKDIR /opt/airflow

# Packages first, so code edits do not invalidate this layer. The development and test tools at
# the end of requirements.txt (after "# development and test tools") are left out of the image;
# constraints.txt locks every transitive package to the set the test suite ran with.
COPY --chown=airflow:0 requirements.txt constraints.txt /opt/airflow/
RUN sed '/^# development and test tools/,$d' requirements.txt > /tmp/requirements-runtime.txt \
    && pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" \
        -r /tmp/requirements-runtime.txt -c constraints.txt \
    && rm /tmp/requirements-runtime.txt

# The package (editable, so its location-relative paths point into /opt/airflow like a checkout).
COPY --chown=airflow:0 pyproject.toml /opt/airflow/
COPY --chown=airflow:0 include/ /opt/airflow/include/
# Airflow's plugins folder in the official image (/opt/airflow/plugins): the Copilot usage plugin.
COPY --chown=airflow:0 plugins/ /opt/airflow/plugins/
RUN pip install --no-cache-dir --no-deps -e /opt/airflow

COPY --chown=airflow:0 dags/ /opt/airflow/dags/
COPY --chown=airflow:0 dbt/ /opt/airflow/dbt/
COPY --chown=airflow:0 deploy/ /opt/airflow/deploy/

# Mount points for the named volumes (a fresh volume takes the owner of the folder it covers).
RUN mkdir -p /opt/airflow/data/landing /opt/airflow/data/warehouse /opt/airflow/auth

ENV COPILOT_WAREHOUSE_PATH=/opt/airflow/data/warehouse/warehouse.duckdb \
    COPILOT_LANDING_PATH=/opt/airflow/data/landing \
    AIRFLOW__CORE__LOAD_EXAMPLES=false
