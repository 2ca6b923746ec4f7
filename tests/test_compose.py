"""The Docker Compose deployment, checked without a Docker engine.

docker-compose.yaml follows the layout of Airflow's official file: an ``x-airflow-common`` anchor
merged into every Airflow service, a one-shot ``airflow-init``, healthchecks gating ``depends_on``,
LocalExecutor by default, a ``celery`` profile adding the broker and workers, and a ``flower``
profile for Celery's monitor. These tests parse the file as Compose does (YAML merge keys,
``${VAR:-default}`` and ``${VAR:?error}`` interpolation from ``.env.example``), check that every file
it refers to exists, and check every Airflow command it runs against the installed Airflow CLI's own
argument parser.

The stack is safe by default, and the tests hold it to that: no password or key has a default
(each is required from ``.env`` with an error saying how to generate it, and the generators are run
here), ``.env.example`` leaves every secret blank, the compose file, the deploy scripts and the
Dockerfile carry no literal password, every published port binds ``${COPILOT_BIND_ADDRESS}``
(127.0.0.1 unless set), and Flower (no login) starts only with its own profile. Where the
``docker compose`` client is installed, its own ``config`` output is checked as well.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from copilot_warehouse import config
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
INIT_SCRIPT = ROOT / "deploy" / "airflow-init.sh"
DEPLOY_DIR = ROOT / "deploy"
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
CELERY_PROFILE = {"redis", "airflow-worker"}
FLOWER_PROFILE = {"flower"}
DEFAULT_STACK = {
    "postgres",
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
}

# Secrets Compose must be given in .env: no defaults, Compose refuses to start without them.
REQUIRED_SECRETS = {
    "POSTGRES_PASSWORD",
    "_AIRFLOW_WWW_USER_PASSWORD",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
}
BIND_ADDRESS = "${COPILOT_BIND_ADDRESS:-127.0.0.1}"

_VAR_RE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
# The generator command each required variable's error message (and .env.example) names.
_GENERATOR_RE = re.compile(r"generate one with python3 -c '(?P<code>[^']+)'")


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


def missing_required(text: str, env: dict[str, str]) -> set[str]:
    """Names of the ``${VAR:?error}`` / ``${VAR?error}`` variables ``env`` leaves unset (or empty)."""
    missing = set()
    for m in _VAR_RE.finditer(text.replace("$$", "")):
        if m["op"] == ":?" and not env.get(m["name"]) or m["op"] == "?" and m["name"] not in env:
            missing.add(m["name"])
    return missing


# --- the literal-secret detector --------------------------------------------------------------------

_SECRET_NAME_RE = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|FERNET|BASIC_AUTH|API_KEY", re.IGNORECASE)
# Any shell or Compose parameter expansion, with whatever operator (bash's := included).
_ANY_REF_RE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-=?+])?(?P<arg>[^}]*)\}")
_ASSIGN_RE = re.compile(
    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)[\"']?[ \t]*[:=][ \t]*[\"']?(?P<value>[^\s\"',}\]]*)"
)
_URL_USERINFO_RE = re.compile(r"://(?P<user>[^\s:/@]*):(?P<password>[^\s@/]*)@")
_PASSWORD_FLAG_RE = re.compile(r"--(?:password|pass|requirepass|basic-auth)(?:=|\s+)(?P<value>\S+)")
_REF = "\x01"  # what a masked ${...} reference becomes


def _is_secret_name(name: str) -> bool:
    """A variable or key that holds a secret (a path to a secret file, ``*_FILE``, does not)."""
    return bool(_SECRET_NAME_RE.search(name)) and not name.upper().endswith(("_FILE", "_CMD"))


def literal_secrets(text: str) -> list[str]:
    """Every place ``text`` gives a secret a value of its own instead of requiring it.

    Flags, outside comment lines: a default on a secret's expansion (``${POSTGRES_PASSWORD:-airflow}``,
    ``${X:-}``), a literal assigned to a secret-named key or variable (``POSTGRES_PASSWORD: airflow``,
    ``PGPASSWORD=airflow``, ``"password": "x"``), a literal password in a URL's user info
    (``postgresql://airflow:airflow@...``) and a literal after a password flag (``--basic-auth a:b``).
    A value that is itself a ``${...}`` reference, and an empty password (``redis://:@redis``), pass.

    Args:
        text: a Compose file, shell script or Dockerfile.

    Returns:
        One description per finding, in order of appearance; empty when the text is clean.
    """
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    body = body.replace("$$", "")
    findings = []
    for m in _ANY_REF_RE.finditer(body):
        if _is_secret_name(m["name"]) and m["op"] in ("-", ":-", "=", ":="):
            findings.append(f"default for {m['name']}: {m[0]}")
    masked = _ANY_REF_RE.sub(_REF, body)
    for m in _ASSIGN_RE.finditer(masked):
        if _is_secret_name(m["name"]) and m["value"] not in ("", _REF):
            findings.append(f"literal value for {m['name']}: {m[0]}")
    for m in _URL_USERINFO_RE.finditer(masked):
        if m["password"] not in ("", _REF):
            findings.append(f"literal password in a URL: {m[0]}")
    for m in _PASSWORD_FLAG_RE.finditer(masked):
        if m["value"] != _REF:
            findings.append(f"literal password flag: {m[0]}")
    return findings


def enabled_services(services: dict[str, dict], profiles: set[str]) -> set[str]:
    """Services Compose starts with these profiles active: no profiles, or one of theirs is active."""
    return {name for name, s in services.items() if not s.get("profiles") or profiles & set(s["profiles"])}


def unmet_dependencies(services: dict[str, dict], enabled: set[str]) -> set[tuple[str, str]]:
    """(service, dependency) pairs where a required ``depends_on`` target is not enabled (Compose errors)."""
    return {
        (name, target)
        for name in enabled
        for target, spec in services[name].get("depends_on", {}).items()
        if spec.get("required", True) and target not in enabled
    }


def _run_generator(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.strip()


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


@pytest.fixture(scope="module")
def generators(compose_text: str) -> dict[str, str]:
    """Required variable -> the Python code its error message tells the operator to run."""
    found: dict[str, set[str]] = {}
    for m in _VAR_RE.finditer(compose_text):
        if m["op"] == ":?":
            code = _GENERATOR_RE.search(m["arg"])
            found.setdefault(m["name"], set()).add(code["code"] if code else "")
    assert all(len(codes) == 1 for codes in found.values()), f"one message per variable: {found}"
    return {name: codes.pop() for name, codes in found.items()}


@pytest.fixture(scope="module")
def filled_env(env_example: dict[str, str], generators: dict[str, str]) -> dict[str, str]:
    """``.env.example`` with every required secret generated by the command its message names."""
    return {**env_example, **{name: _run_generator(code) for name, code in generators.items() if code}}


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
    compose: dict, services: dict, filled_env: dict[str, str]
) -> None:
    env = compose["x-airflow-common"]["environment"]
    postgres = services["postgres"]["environment"]
    password = interpolate(postgres["POSTGRES_PASSWORD"], filled_env)
    assert password == filled_env["POSTGRES_PASSWORD"]
    conn = interpolate(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], filled_env)
    backend = interpolate(env["AIRFLOW__CELERY__RESULT_BACKEND"], filled_env)
    assert re.fullmatch(r"postgresql\+psycopg2://airflow:[^@]+@postgres/airflow", conn)
    assert backend.startswith("db+postgresql://")
    # Both URLs carry the postgres service's own password for its own role and database.
    for url in (make_url(conn), make_url(backend.removeprefix("db+"))):
        assert (url.username, url.password, url.host, url.database) == (
            "airflow",
            password,
            "postgres",
            "airflow",
        )
    assert (postgres["POSTGRES_USER"], postgres["POSTGRES_DB"]) == ("airflow", "airflow")
    assert interpolate(env["AIRFLOW__CELERY__BROKER_URL"], filled_env).startswith("redis://:@redis:6379/")
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


def test_celery_profile_adds_broker_and_workers(services: dict) -> None:
    assert {n for n, s in services.items() if s.get("profiles")} == CELERY_PROFILE | FLOWER_PROFILE
    for name in CELERY_PROFILE:
        assert services[name]["profiles"] == ["celery"]
    assert set(services) - CELERY_PROFILE - FLOWER_PROFILE == DEFAULT_STACK
    assert services["airflow-worker"]["command"] == "celery worker"
    assert services["flower"]["command"] == "celery flower"
    assert services["airflow-worker"]["depends_on"]["redis"]["condition"] == "service_healthy"
    # A default-stack service may mention redis only as optional, or LocalExecutor could not start.
    for name in DEFAULT_STACK:
        for target, spec in services[name].get("depends_on", {}).items():
            if target in CELERY_PROFILE | FLOWER_PROFILE:
                assert spec.get("required") is False, f"{name} requires {target} from a profile"
    # Each profile set an operator is told to use gives a model Compose accepts.
    for profiles in (set(), {"celery"}, {"celery", "flower"}):
        assert not unmet_dependencies(services, enabled_services(services, profiles)), profiles


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
    needed = {"requirements.txt", "constraints.txt", "pyproject.toml"}
    needed |= {"include/", "plugins/", "dags/", "dbt/", "deploy/"}
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


# --- safe by default --------------------------------------------------------------------------------


def test_every_secret_is_required_with_a_message_saying_how_to_generate_it(
    compose_text: str, generators: dict[str, str]
) -> None:
    """``${VAR:?message}`` for exactly the secrets, at every mention, and the named generator works."""
    assert set(generators) == REQUIRED_SECRETS, "the ${VAR:?...} variables are the secrets, all of them"
    for m in _VAR_RE.finditer(compose_text):
        if m["name"] in REQUIRED_SECRETS:
            assert m["op"] == ":?", f"{m[0]}: every mention of a secret must require it (no default)"
            assert m["arg"].startswith(f"set {m['name']} in .env, generate one with python3 -c '")
    outputs = {}
    for name, code in sorted(generators.items()):
        first, second = _run_generator(code), _run_generator(code)
        assert len(first) >= 32 and first != second, f"{name}: the generator must give a long random value"
        outputs[name] = first
    # The PostgreSQL password goes into URLs as is: the generator gives only URL-safe characters.
    assert re.fullmatch(r"[0-9a-f]{64}", outputs["POSTGRES_PASSWORD"])
    # The Fernet key is one Airflow can encrypt a Connection's token with.
    fernet = Fernet(outputs["AIRFLOW__CORE__FERNET_KEY"].encode())
    assert fernet.decrypt(fernet.encrypt(b"ghp_token")) == b"ghp_token"


def test_fernet_key_is_required_and_shared_by_every_airflow_service(compose: dict, services: dict) -> None:
    common = compose["x-airflow-common"]["environment"]
    assert common["AIRFLOW__CORE__FERNET_KEY"].startswith("${AIRFLOW__CORE__FERNET_KEY:?")
    for name in AIRFLOW_SERVICES:
        assert (
            services[name]["environment"]["AIRFLOW__CORE__FERNET_KEY"] == common["AIRFLOW__CORE__FERNET_KEY"]
        )
    with pytest.raises(ValueError, match="AIRFLOW__CORE__FERNET_KEY is required"):
        interpolate(common["AIRFLOW__CORE__FERNET_KEY"], {"AIRFLOW__CORE__FERNET_KEY": ""})


def test_env_example_lists_every_secret_blank_and_how_to_generate_it(
    compose_text: str, env_example: dict[str, str], filled_env: dict[str, str]
) -> None:
    """A copied .env.example does not start: each secret is blank until the operator generates one."""
    for name in REQUIRED_SECRETS:
        assert name in env_example, f".env.example lacks {name}"
        assert env_example[name] == "", f".env.example must leave {name} blank, not ship a usable value"
    assert missing_required(compose_text, env_example) == REQUIRED_SECRETS
    with pytest.raises(ValueError, match="is required"):
        interpolate(compose_text, env_example)
    # Filled with generated values, every variable resolves (Compose would start).
    assert missing_required(compose_text, filled_env) == set()
    resolved = interpolate(compose_text, filled_env)
    assert filled_env["AIRFLOW__API_AUTH__JWT_SECRET"] in resolved
    # Each secret's comment block (or its neighbour's, "generate it the same way") shows commands that
    # generate it; each works, and both shown for the Fernet key give valid keys.
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    for name in sorted(REQUIRED_SECRETS):
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{name}="))
        commands = _commands_above(lines, index)
        assert commands, f".env.example does not show how to generate {name}"
        for code in commands:
            value = _run_generator(code)
            assert len(value) >= 32, (name, code)
            if name == "AIRFLOW__CORE__FERNET_KEY":
                Fernet(value.encode())
        if name == "AIRFLOW__CORE__FERNET_KEY":
            assert any("Fernet.generate_key()" in c for c in commands)
            assert any("urlsafe_b64encode(os.urandom(32))" in c for c in commands)


def _commands_above(lines: list[str], index: int) -> list[str]:
    """The ``python3 -c "..."`` codes in the comments above ``lines[index]``, nearest block first."""
    commands: list[str] = []
    for line in reversed(lines[:index]):
        if not line.strip():
            break
        if line.startswith("#") and "python3 -c " in line:
            commands.append(shlex.split(line.lstrip("# "))[2])
        elif not line.startswith("#") and commands:
            break
    return commands


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: postgresql+psycopg2://airflow:${POSTGRES_PASSWORD:-airflow}@pg/a",
            id="compose default in a URL",
        ),
        pytest.param("      POSTGRES_PASSWORD: airflow", id="compose literal"),
        pytest.param("AIRFLOW__CORE__FERNET_KEY: ${AIRFLOW__CORE__FERNET_KEY:-}", id="empty default"),
        pytest.param("url: db+postgresql://airflow:airflow@postgres/airflow", id="literal in a URL"),
        pytest.param('ADMIN_PASSWORD="${_AIRFLOW_WWW_USER_PASSWORD:-airflow}"', id="shell default"),
        pytest.param(': "${ADMIN_PASSWORD:=airflow}"', id="shell assign-default"),
        pytest.param('test: ["CMD-SHELL", "PGPASSWORD=airflow pg_isready -U airflow"]', id="healthcheck env"),
        pytest.param("command: celery flower --basic-auth admin:admin", id="password flag"),
        pytest.param('json.dump({"password": "hunter2"}, handle)', id="json key"),
        pytest.param("ENV AIRFLOW__API_AUTH__JWT_SECRET=abc123", id="Dockerfile ENV"),
    ],
)
def test_literal_secret_detector_flags_defaults_and_literals(text: str) -> None:
    assert literal_secrets(text), f"not flagged: {text}"


@pytest.mark.parametrize(
    "text",
    [
        "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}",
        "AIRFLOW__CELERY__BROKER_URL: redis://:@redis:6379/0",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE: /opt/airflow/auth/passwords.json",
        'ADMIN_USER="${ADMIN_USER}" ADMIN_PASSWORD="${ADMIN_PASSWORD}" run python - file',
        'PASSWORDS_FILE="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:-/opt/airflow/auth/p.json}"',
        "# The admin password lives in a file on the airflow-auth volume.",
    ],
)
def test_literal_secret_detector_passes_required_references(text: str) -> None:
    assert literal_secrets(text) == []


def test_no_literal_password_in_the_compose_file_deploy_scripts_or_image(compose_text: str) -> None:
    deploy_files = sorted(p for p in DEPLOY_DIR.rglob("*") if p.is_file())
    assert INIT_SCRIPT in deploy_files
    for path in [COMPOSE_FILE, DOCKERFILE, *deploy_files]:
        text = compose_text if path == COMPOSE_FILE else path.read_text(encoding="utf-8")
        assert literal_secrets(text) == [], path.relative_to(ROOT).as_posix()


def test_init_script_requires_the_admin_password_before_touching_anything() -> None:
    """Bash's own ``${VAR:?}`` stops airflow-init.sh without the admin password, before any command."""
    lines = INIT_SCRIPT.read_text(encoding="utf-8").splitlines()
    required = next(
        i for i, line in enumerate(lines) if line.startswith('ADMIN_PASSWORD="${_AIRFLOW_WWW_USER_PASSWORD:?')
    )
    first_command = next(i for i, line in enumerate(lines) if re.match(r"(echo|mkdir|chown|run)\b", line))
    assert required < first_command
    preamble = "\n".join(["set -euo pipefail", *lines[:first_command], 'printf %s "${ADMIN_PASSWORD}"'])
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    missing = subprocess.run(["bash", "-c", preamble], capture_output=True, text=True, env=clean, timeout=30)
    assert missing.returncode != 0
    assert "_AIRFLOW_WWW_USER_PASSWORD: set _AIRFLOW_WWW_USER_PASSWORD in .env" in missing.stderr
    code = re.search(r'python3 -c "([^"]+)"', missing.stderr)
    assert code, missing.stderr
    given = subprocess.run(
        ["bash", "-c", preamble],
        capture_output=True,
        text=True,
        env={**clean, "_AIRFLOW_WWW_USER_PASSWORD": _run_generator(code[1])},
        timeout=30,
    )
    assert given.returncode == 0, given.stderr
    assert len(given.stdout) >= 32


def test_published_ports_bind_to_loopback_unless_the_operator_sets_an_address(
    services: dict, env_example: dict[str, str]
) -> None:
    published = {name: s["ports"] for name, s in services.items() if s.get("ports")}
    assert set(published) == {"airflow-apiserver", "flower"}, "only the UI/API and Flower are published"
    for name in ("postgres", "redis"):
        assert "ports" not in services[name] and "network_mode" not in services[name], name
    assert not [n for n, s in services.items() if s.get("network_mode") == "host"]
    expected = {"airflow-apiserver": ("8080", "8080"), "flower": ("5555", "5555")}
    for name, entries in published.items():
        assert len(entries) == 1
        entry = entries[0]
        assert isinstance(entry, str) and entry.startswith(BIND_ADDRESS + ":"), f"{name}: {entry}"
        for env, address in (
            ({}, "127.0.0.1"),
            (env_example, "127.0.0.1"),
            ({"COPILOT_BIND_ADDRESS": "0.0.0.0"}, "0.0.0.0"),  # noqa: S104 - the operator's deliberate choice
            ({"COPILOT_BIND_ADDRESS": "192.0.2.10"}, "192.0.2.10"),
        ):
            assert interpolate(entry, env) == ":".join((address, *expected[name])), (name, env)
    assert env_example["COPILOT_BIND_ADDRESS"] == "127.0.0.1"


def test_flower_has_no_login_and_runs_only_when_its_profile_is_asked_for(
    services: dict, env_example: dict[str, str]
) -> None:
    flower = services["flower"]
    assert flower["profiles"] == ["flower"]
    assert "flower" not in enabled_services(services, set())
    assert "flower" not in enabled_services(services, {"celery"})
    assert "flower" in enabled_services(services, {"celery", "flower"})
    # Flower on its own is refused by Compose (its broker comes with the celery profile).
    assert unmet_dependencies(services, enabled_services(services, {"flower"})) == {("flower", "redis")}
    # .env.example does not turn it on.
    assert "flower" not in env_example["COMPOSE_PROFILES"].split(",")
    assert flower["ports"][0].startswith(BIND_ADDRESS + ":")


def _docker_compose() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, timeout=60)
    return [docker, "compose"] if probe.returncode == 0 else None


def test_docker_compose_config_agrees(
    env_example: dict[str, str], filled_env: dict[str, str], tmp_path: Path
) -> None:
    """``docker compose config`` (no engine needed) refuses the blank example and binds to loopback."""
    compose_cli = _docker_compose()
    if compose_cli is None:
        pytest.skip("the docker client or its compose plugin is not installed")

    def config(env: dict[str, str], *profiles: str) -> subprocess.CompletedProcess[str]:
        env_file = tmp_path / "compose.env"
        env_file.write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in env.items()), encoding="utf-8")
        argv = [*compose_cli, "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE)]
        argv += ["--env-file", str(env_file)]
        for profile in profiles:
            argv += ["--profile", profile]
        return subprocess.run(
            [*argv, "config", "--format", "json"],
            capture_output=True,
            text=True,
            timeout=120,
            # No COMPOSE_* or secret from this shell: the env file alone decides.
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)},
        )

    refused = config({**env_example, "COMPOSE_PROFILES": ""})
    assert refused.returncode != 0
    assert "generate one with python3 -c" in refused.stderr, refused.stderr

    default = config({**filled_env, "COMPOSE_PROFILES": ""})
    assert default.returncode == 0, default.stderr
    assert set(json.loads(default.stdout)["services"]) == DEFAULT_STACK

    full = config({**filled_env, "COMPOSE_PROFILES": ""}, "celery", "flower")
    assert full.returncode == 0, full.stderr
    model = json.loads(full.stdout)["services"]
    assert set(model) == DEFAULT_STACK | CELERY_PROFILE | FLOWER_PROFILE
    bound = {name: [p["host_ip"] for p in s.get("ports", [])] for name, s in model.items() if s.get("ports")}
    assert bound == {"airflow-apiserver": ["127.0.0.1"], "flower": ["127.0.0.1"]}
    assert model["postgres"]["environment"]["POSTGRES_PASSWORD"] == filled_env["POSTGRES_PASSWORD"]


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
