"""docker-compose.yml checked statically (no Docker engine runs here or in CI)."""
from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml
from django.core.management import get_commands

from ecom_project.messaging.consumers import consumer_names
from tests.deploy.conftest import BASE_DIR, COMPOSE_FILE, interpolate

CONSUMERS = ["orders", "inventory", "payments", "shipping", "projections"]


def compose_config(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    binary = shutil.which("docker-compose")
    if not binary:
        pytest.skip("docker-compose is not installed (.ci/run installs Debian's docker-compose)")
    return subprocess.run(
        [binary, "-f", str(COMPOSE_FILE), *args], env=env, capture_output=True, text=True, timeout=60,
    )


def test_compose_config_is_valid_for_every_profile():
    result = compose_config("--profile", "observability", "--profile", "loadgen", "config", "-q",
                            env={"JWT_SECRET": "x" * 64, "DJANGO_SECRET_KEY": "y" * 64, "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", ["JWT_SECRET", "DJANGO_SECRET_KEY"])
def test_compose_refuses_to_start_without_a_key(missing):
    keys = {"JWT_SECRET": "x" * 64, "DJANGO_SECRET_KEY": "y" * 64}
    del keys[missing]
    result = compose_config("config", "-q", env={**keys, "PATH": "/usr/bin:/bin"})
    assert result.returncode != 0
    assert missing in result.stderr


def test_app_services_have_safe_production_defaults(compose):
    for name in ["web", "topics", *(f"consume-{c}" for c in CONSUMERS)]:
        env = compose["services"][name]["environment"]
        assert env["DEBUG"] == "false" and env["DEPLOYMENT"] == "production", name
        assert env["JWT_SECRET"].startswith("${JWT_SECRET:?"), name
        assert env["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?"), name
        assert interpolate(env["SECURE_COOKIES"]) == "true", name
        assert "*" not in interpolate(env["ALLOWED_HOSTS"]), name
        assert env["MONGO_URL"].startswith("mongodb://") and "replicaSet=" in env["MONGO_URL"], name
        assert env["REDIS_URL"].startswith("redis://") and env["KAFKA_BROKERS"] == "redpanda:9092", name


def test_one_scalable_service_per_consumer(consumer_services):
    assert sorted(consumer_services) == sorted(f"consume-{c}" for c in CONSUMERS)
    for name, service in consumer_services.items():
        assert service["command"] == ["python", "manage.py", "consume_" + name.removeprefix("consume-")]
        assert "container_name" not in service and "ports" not in service, f"{name} could not be --scale'd"
        assert service["environment"]["METRICS_PORT"] == "9100" and service["environment"]["HOST"] == "0.0.0.0"
        assert service["healthcheck"]["test"] == ["CMD", "python", "deploy/healthcheck.py"]
        assert service["depends_on"]["topics"]["condition"] == "service_completed_successfully"


def test_every_manage_py_command_in_compose_exists():
    """Every consumer declared by an app must have their command; apps still being
    built (not yet registered) and commands not yet written are reported as a skip, never a pass."""
    commands = get_commands()
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    wanted = {svc["command"][2] for svc in compose["services"].values()
              if isinstance(svc.get("command"), list) and svc["command"][:2] == ["python", "manage.py"]}
    for name in consumer_names():
        assert f"consume_{name}" in commands, f"consumer {name} is registered but has no consume_{name} command"
    assert "create_topics" in commands
    missing = sorted(command for command in wanted if command not in commands)
    if missing:
        pytest.skip(f"compose names commands not in the project yet: {', '.join(missing)}")


def test_infrastructure_services_and_ports(compose):
    services = compose["services"]
    assert "--mode=dev-container" in services["redpanda"]["command"]
    assert any(p.endswith(":8080:8080") for p in services["console"]["ports"])
    assert services["mongo"]["command"][:3] == ["mongod", "--replSet", "rs0"]
    assert services["mongo-init"]["depends_on"]["mongo"]["condition"] == "service_healthy"
    assert any(p.endswith(":8000") for p in services["web"]["ports"])
    for name in ["redpanda", "mongo", "redis", "web"]:
        assert services[name]["healthcheck"]["test"], name
    for port in [p for svc in services.values() for p in svc.get("ports", [])]:
        assert port.startswith("${BIND_ADDRESS:-127.0.0.1}:"), f"{port} would listen on every interface"


def test_profiles_loadgen_and_observability(compose):
    services = compose["services"]
    assert services["loadgen"]["profiles"] == ["loadgen"]
    assert "--base-url" in services["loadgen"]["command"] and "http://web:8000" in services["loadgen"]["command"]
    assert services["prometheus"]["profiles"] == services["grafana"]["profiles"] == ["observability"]
    for mount in services["prometheus"]["volumes"] + services["grafana"]["volumes"]:
        source = mount.split(":")[0]
        if source.startswith("./"):
            assert (BASE_DIR / source).exists(), f"{source} is mounted but missing"
