"""The Docker Compose deployment, checked without a Docker engine.

docker-compose.yaml follows the layout of Airflow's official file: an ``x-airflow-common`` anchor
merged into every Airflow service, a one-shot ``airflow-init``, healthchecks gating ``depends_on``,
LocalExecutor by default and a ``celery`` profile adding the broker, workers and Flower. These tests
parse the file as Compose does (YAML merge keys, ``${VAR:-default}`` interpolation from
``.env.example``), check that every file it refers to exists, and check every Airflow command it
runs against the installed Airflow CLI's own argument parser.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from copilot_warehouse import config

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
INIT_SCRIPT = ROOT / "deploy" / "airflow-init.sh"
AIRFLOW_VERSION = "3.3.2"

AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "flower",
}
LONG_RUNNING = AIRFLOW_SERVICES - {"airflow-init"} | {"postgres", "redis"}
CELERY_PROFILE = {"redis", "airflow-worker", "flower"}
DEFAULT_STACK = {
    "postgres",
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
}

_VAR_RE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Resolve Compose's ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}`` and ``$$``."""

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if op == ":-":
            return env.get(name) or arg
        if op == "-":
            return env.get(name, arg)
        if op in (":?", "?") and not env.get(name):
            raise ValueError(f"{name} is required: {arg}")
        return env.get(name, "")

    return _VAR_RE.sub(replace, value.replace("$$", "\0")).replace("\0", "$")


def referenced_variables(text: str) -> set[str]:
    """Every variable name Compose interpolates in ``text`` (``$$`` escapes are not variables)."""
    return {m["name"] for m in _VAR_RE.finditer(text.replace("$$", ""))}


def parse_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an env file, comments skipped, one level of quotes removed."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(compose_text: str) -> dict:
    return yaml.safe_load(compose_text)


@pytest.fixture(scope="module")
def services(compose: dict) -> dict[str, dict]:
    return compose["services"]


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return parse_env_file(ENV_EXAMPLE)


def _mapping_get(node: yaml.MappingNode, key: str) -> yaml.Node | None:
    for key_node, value_node in node.value:
        if key_node.value == key:
            return value_node
    return None


def _command_argv(service: dict, env: dict[str, str]) -> list[str]:
    command = service.get("command", [])
    text = command if isinstance(command, str) else shlex.join(command)
    return shlex.split(interpolate(text, env))


# --- structure ----------------------------------------------------------------------------------


def test_every_airflow_service_merges_the_same_common_anchor(compose_text: str, services: dict) -> None:
    """Each Airflow service is ``<<: *airflow-common``: the very node under x-airflow-common."""
    root = yaml.compose(compose_text)
    common = _mapping_get(root, "x-airflow-common")
    assert isinstance(common, yaml.MappingNode)
    assert re.search(r"^x-airflow-common:\s*&airflow-common$", compose_text, flags=re.MULTILINE)
    services_node = _mapping_get(root, "services")
    assert set(services) >= AIRFLOW_SERVICES
    for name in AIRFLOW_SERVICES:
        merged = _mapping_get(_mapping_get(services_node, name), "<<")
        assert merged is common, f"{name} does not merge *airflow-common"


def test_common_anchor_builds_the_project_image_with_the_project_settings(compose: dict) -> None:
    common = compose["x-airflow-common"]
    assert common["build"] == {"context": ".", "dockerfile": "Dockerfile"}
    env = common["environment"]
    for name in (
        "AIRFLOW_CONN_GITHUB_COPILOT",
        "AIRFLOW_VAR_COPILOT_ORGS",
        "AIRFLOW_VAR_COPILOT_ENTERPRISES",
        config.ENV_WAREHOUSE,
        config.ENV_LANDING,
    ):
        assert env[name].startswith("${" + name + ":-"), f"{name} must come from .env, with a default"


@pytest.mark.parametrize(
    ("dotenv", "expected"),
    [
        pytest.param({}, "LocalExecutor", id="no .env: LocalExecutor"),
        pytest.param("example", "LocalExecutor", id=".env.example: LocalExecutor"),
        pytest.param({"AIRFLOW__CORE__EXECUTOR": "CeleryExecutor"}, "CeleryExecutor", id=".env switches"),
    ],
)
def test_executor_is_local_by_default_and_switched_from_env(
    compose: dict, env_example: dict[str, str], dotenv: dict | str, expected: str
) -> None:
    env = env_example if dotenv == "example" else dotenv
    value = compose["x-airflow-common"]["environment"]["AIRFLOW__CORE__EXECUTOR"]
    assert interpolate(value, env) == expected


def test_metadata_database_and_broker_point_at_the_compose_services(
    compose: dict, services: dict, env_example: dict[str, str]
) -> None:
    env = compose["x-airflow-common"]["environment"]
    conn = interpolate(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], env_example)
    assert re.fullmatch(r"postgresql\+psycopg2://airflow:[^@]+@postgres/airflow", conn)
    assert services["postgres"]["environment"]["POSTGRES_DB"] == "airflow"
    assert interpolate(env["AIRFLOW__CELERY__BROKER_URL"], env_example).startswith("redis://:@redis:6379/")
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"


def test_warehouse_and_landing_paths_live_on_named_volumes(compose: dict, env_example: dict) -> None:
    common = compose["x-airflow-common"]
    mounts = {}
    for spec in common["volumes"]:
        source, target = spec.split(":")[:2]
        mounts[target] = source
    declared = set(compose["volumes"])
    for env_name in (config.ENV_WAREHOUSE, config.ENV_LANDING):
        for env in ({}, env_example):
            path = interpolate(common["environment"][env_name], env)
            covering = [t for t in mounts if path == t or path.startswith(t.rstrip("/") + "/")]
            assert covering, f"{env_name}={path} is not on a volume"
            assert mounts[max(covering, key=len)] in declared, f"{env_name} must be on a named volume"


def test_init_service_migrates_creates_the_writer_pool_and_the_admin(services: dict) -> None:
    init = services["airflow-init"]
    assert init["entrypoint"] == "/bin/bash"
    assert init["command"] == ["/opt/airflow/deploy/airflow-init.sh"]
    assert "restart" not in init, "a one-shot service must not restart"
    assert init["depends_on"]["postgres"]["condition"] == "service_healthy"
    script = INIT_SCRIPT.read_text(encoding="utf-8")
    assert "run airflow db migrate" in script
    assert f"run airflow pools set {config.DUCKDB_POOL} 1 " in script
    assert "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" in script
    common_env = services["airflow-apiserver"]["environment"]
    assert common_env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].endswith(":admin")
    # The init script is bash and parses.
    subprocess.run(["bash", "-n", str(INIT_SCRIPT)], check=True)


def test_long_running_services_have_healthchecks_and_gate_on_each_other(services: dict) -> None:
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck", {})
        assert check.get("test"), f"{name} has no healthcheck"
        assert services[name].get("restart") == "always", name
    allowed = {"service_healthy", "service_completed_successfully", "service_started"}
    for name, service in services.items():
        for target, spec in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown service {target}"
            assert spec["condition"] in allowed, (name, target)
            if spec["condition"] == "service_healthy":
                assert services[target].get("healthcheck"), f"{name} waits for {target}'s health"
            if spec["condition"] == "service_completed_successfully":
                assert target == "airflow-init"
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_celery_profile_adds_broker_workers_and_flower(services: dict) -> None:
    assert {n for n, s in services.items() if s.get("profiles")} == CELERY_PROFILE
    for name in CELERY_PROFILE:
        assert services[name]["profiles"] == ["celery"]
    assert set(services) - CELERY_PROFILE == DEFAULT_STACK
    assert services["airflow-worker"]["command"] == "celery worker"
    assert services["flower"]["command"] == "celery flower"
    assert services["airflow-worker"]["depends_on"]["redis"]["condition"] == "service_healthy"
    # A default-stack service may mention redis only as optional, or LocalExecutor could not start.
    for name in DEFAULT_STACK:
        for target, spec in services[name].get("depends_on", {}).items():
            if target in CELERY_PROFILE:
                assert spec.get("required") is False, f"{name} requires {target} from the celery profile"


# --- files ----------------------------------------------------------------------------------------


def test_every_file_the_stack_refers_to_exists(compose: dict, services: dict) -> None:
    build = compose["x-airflow-common"]["build"]
    assert (ROOT / build["context"] / build["dockerfile"]).is_file()
    for spec in compose["x-airflow-common"]["volumes"]:
        source = spec.split(":")[0]
        if source.startswith((".", "/")):
            assert (ROOT / source).is_dir(), f"bind mount {source} is missing"
    assert ENV_EXAMPLE.is_file()
    # The init script runs from the image: the Dockerfile copies deploy/ to /opt/airflow/deploy.
    in_image = "/opt/airflow/" + INIT_SCRIPT.relative_to(ROOT).as_posix()
    assert services["airflow-init"]["command"][0] == in_image


def test_dockerfile_extends_the_official_image_and_copies_the_project() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    froms = re.findall(r"^FROM\s+(\S+)", text, flags=re.MULTILINE)
    assert froms == [f"apache/airflow:{AIRFLOW_VERSION}-python3.11"]
    import airflow

    assert airflow.__version__ == AIRFLOW_VERSION, "the image and the tested venv must run one Airflow"
    assert f"apache-airflow=={AIRFLOW_VERSION}" in (ROOT / "requirements.txt").read_text(encoding="utf-8")
    copied = []
    for sources in re.findall(r"^COPY\s+(?:--\S+\s+)*(.+)\s+\S+$", text, flags=re.MULTILINE):
        copied += sources.split()
    needed = {"requirements.txt", "constraints.txt", "pyproject.toml", "include/", "dags/", "dbt/", "deploy/"}
    assert needed <= set(copied)
    for source in copied:
        assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"
    assert "-c constraints.txt" in text and "-r /tmp/requirements-runtime.txt" in text
    assert "pip install --no-cache-dir --no-deps -e /opt/airflow" in text


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image() -> None:
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".env", ".venv", ".git", "data", "*.duckdb"} <= ignored
    assert "!.env.example" in ignored


def test_env_example_documents_every_variable_the_compose_file_reads(
    compose_text: str, env_example: dict[str, str]
) -> None:
    missing = referenced_variables(compose_text) - set(env_example)
    assert not missing, f".env.example lacks {sorted(missing)}"
    # Every assignment sits in a block that explains it.
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line and not line.startswith("#"):
            block = []
            j = i - 1
            while j >= 0 and lines[j].strip():
                block.append(lines[j])
                j -= 1
            assert any(b.startswith("#") for b in block), f"{line.split('=')[0]} is undocumented"
    # The example carries a placeholder, never a token, and is valid Connection JSON.
    connection = json.loads(env_example["AIRFLOW_CONN_GITHUB_COPILOT"])
    assert connection["host"] == "https://api.github.com"
    assert connection["password"] == "REPLACE_WITH_TOKEN"
    assert json.loads(env_example["AIRFLOW_VAR_COPILOT_ORGS"]) == ["my-org"]
    # With the example, every required variable is set (Compose would refuse to start otherwise).
    interpolate(compose_text, env_example)


def test_every_airflow_command_is_accepted_by_the_installed_cli(
    services: dict, env_example: dict[str, str], tmp_path: Path
) -> None:
    """Service commands, healthchecks and the init script's calls, parsed by Airflow's own parser."""
    env = {**env_example, "HOSTNAME": "worker-1"}
    argvs: list[list[str]] = []
    for name, service in services.items():
        if name in AIRFLOW_SERVICES and "entrypoint" not in service:
            argvs.append(_command_argv(service, env))  # the image's entrypoint prefixes `airflow`
        test = service.get("healthcheck", {}).get("test", [])
        if test and test[0] == "CMD-SHELL" and test[1].startswith("airflow "):
            argvs.append(shlex.split(interpolate(test[1], env))[1:])
    for match in re.finditer(r"\brun airflow ([^)\n]+)", INIT_SCRIPT.read_text(encoding="utf-8")):
        argvs.append(shlex.split(match[1]))
    distinct = {tuple(a[:2]) if a[0] in {"celery", "db", "pools", "jobs"} else (a[0],) for a in argvs}
    assert distinct == {
        ("api-server",),
        ("scheduler",),
        ("dag-processor",),
        ("triggerer",),
        ("celery", "worker"),
        ("celery", "flower"),
        ("jobs", "check"),
        ("db", "migrate"),
        ("pools", "set"),
        ("version",),
    }
    probe = (
        "import json, sys\n"
        "from airflow.cli import cli_parser\n"
        "parser = cli_parser.get_parser()\n"
        "bad = []\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        parser.parse_args(argv)\n"
        "    except SystemExit:\n"
        "        bad.append(argv)\n"
        "import importlib\n"
        "app = importlib.import_module('airflow.providers.celery.executors.celery_executor').app\n"
        "print(json.dumps({'bad': bad, 'celery_app': type(app).__name__}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, json.dumps(argvs)],
        capture_output=True,
        text=True,
        timeout=120,
        # The celery sub-commands exist only when the executor is CeleryExecutor (celery profile).
        env={
            "AIRFLOW_HOME": str(tmp_path),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
            "PATH": str(Path(sys.executable).parent),
        },
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"bad": [], "celery_app": "Celery"}, result.stderr[-3000:]
    # The worker healthcheck names that same Celery app module.
    worker_check = services["airflow-worker"]["healthcheck"]["test"][1]
    assert "--app airflow.providers.celery.executors.celery_executor.app inspect ping" in worker_check
