"""The deployment files say what they should: parsed, since Docker and systemd cannot run here."""

import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import yaml
from gunicorn import glogging
from gunicorn.config import Config

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ROOT = DEPLOY.parent


def _gunicorn_config() -> Config:
    config = Config()
    for name, value in runpy.run_path(str(DEPLOY / "gunicorn.conf.py")).items():
        if name in config.settings:
            config.set(name, value)
    return config


def _access_line(config: Config, path: str, query: str, referer: str) -> str:
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"{path}?{query}", "PATH_INFO": path, "QUERY_STRING": query,
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.7", "HTTP_REFERER": referer,
               "HTTP_USER_AGENT": "test"}  # fmt: skip
    response = SimpleNamespace(status="200 OK", sent=12, headers=[])
    request = SimpleNamespace(headers=[("REFERER", referer)])
    atoms = glogging.Logger(config).atoms(response, request, environ, timedelta(milliseconds=5))
    return config.access_log_format % glogging.SafeAtoms(atoms)


def test_the_access_log_writes_the_path_but_never_a_participant_id_from_the_query_or_referer():
    line = _access_line(
        _gunicorn_config(),
        "/annotate/entry/abc",
        "PROLIFIC_PID=5f1e0a1b2c3d4e5f6a7b8c9d&STUDY_ID=s1",
        "https://app.prolific.com/studies?PROLIFIC_PID=5f1e0a1b2c3d4e5f6a7b8c9d",
    )
    assert "/annotate/entry/abc" in line
    assert "200" in line
    assert "5f1e0a1b2c3d4e5f6a7b8c9d" not in line
    assert "PROLIFIC_PID" not in line


def test_the_access_log_format_names_no_atom_that_carries_a_query_string():
    access_format = _gunicorn_config().access_log_format
    for atom in ("%(q)s", "%(r)s", "%(f)s", "{raw_uri}e", "{query_string}e", "{referer}i"):
        assert atom not in access_format.lower()


def _compose():
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_runs_every_process_of_the_stack_with_a_health_check():
    services = _compose()["services"]
    for name in ("web", "worker", "gpu-worker", "beat", "db", "redis"):
        assert name in services, name
        assert "healthcheck" in services[name] or name == "beat", f"{name} has no healthcheck"
    assert "/healthz" in " ".join(map(str, services["web"]["healthcheck"]["test"]))
    assert "-Q gpu" in services["gpu-worker"]["command"] and "-c 1" in services["gpu-worker"]["command"]
    assert "beat" in services["beat"]["command"]


def test_compose_keeps_the_database_and_the_var_dir_on_volumes():
    compose = _compose()
    services = compose["services"]
    assert {"pgdata", "qa-var"} <= set(compose["volumes"])
    assert any(v.startswith("pgdata:") for v in services["db"]["volumes"])
    for name in ("web", "worker", "gpu-worker", "beat"):
        assert any(v.startswith("qa-var:") for v in services[name]["volumes"]), name
        assert services[name]["environment"]["QA_VAR_DIR"] == services[name]["volumes"][0].split(":")[1]


def test_compose_starts_the_app_only_after_a_healthy_database_and_broker_and_a_finished_migration():
    services = _compose()["services"]
    for name in ("web", "worker", "gpu-worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"


def test_the_image_runs_as_an_unprivileged_user_with_a_health_check_on_healthz():
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    (healthcheck,) = [line for line in instructions if line.startswith("HEALTHCHECK ")]
    assert "/healthz" in healthcheck


def test_the_docker_build_context_leaves_out_secrets_and_local_state():
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()}
    for path in (".env", "var", ".venv", ".git", "staticfiles"):
        assert path in ignored or f"/{path}" in ignored, path


def test_the_systemd_units_restart_what_crashes():
    for unit in (DEPLOY / "systemd").glob("*.service"):
        text = unit.read_text()
        assert "Restart=on-failure" in text or "Restart=always" in text, unit.name
        assert "RestartSec=" in text, unit.name
        assert "User=" in text and "User=root" not in text, unit.name
