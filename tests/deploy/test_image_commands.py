"""The image's commands, run here as the containers would run them (Dockerfile lint by execution)."""
from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from ecom_project.engines.local import LocalEngines
from ecom_project.messaging.consumers import consumer_names, consumer_spec
from ecom_project.messaging.groups import start_groups_at_end
from ecom_project.supervision import free_port
from tests.deploy.conftest import BASE_DIR, interpolate
from tests.support import wait_until

DOCKERFILE = (BASE_DIR / "Dockerfile").read_text()
PYTHON = sys.executable


def local(command: list[str]) -> list[str]:
    """The container's `python`/`daphne` are this venv's."""
    venv_bin = Path(PYTHON).parent
    return [PYTHON if part == "python" else str(venv_bin / part) if part == "daphne" else part for part in command]


def run(command: list[str], env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    command = local(command)
    return subprocess.run(command, env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=timeout)


def healthcheck(env: dict) -> int:
    return run(["python", "deploy/healthcheck.py"], env, timeout=10).returncode


def test_dockerfile_is_slim_non_root_pinned_and_health_checked():
    assert re.search(r"^FROM python:3\.11-slim\b", DOCKERFILE, re.M)
    assert re.search(r"^USER (?!root)\w+", DOCKERFILE, re.M)
    assert "pip install -r requirements.txt" in DOCKERFILE
    assert 'HEALTHCHECK' in DOCKERFILE and "deploy/healthcheck.py" in DOCKERFILE
    requirements = [line for line in (BASE_DIR / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")]
    assert requirements and all(re.match(r"^[A-Za-z0-9_.\-\[\]]+==[\w.]+$", line) for line in requirements)


def test_check_deploy_is_clean_with_production_env(production_env):
    result = run(["python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["JWT_SECRET", "DJANGO_SECRET_KEY"])
def test_settings_refuse_production_without_a_key(production_env, missing):
    del production_env[missing]
    result = run(["python", "manage.py", "check"], production_env)
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"configuration error: {missing} must be set in production")


@pytest.mark.integration
def test_topics_one_shot_command_runs_against_a_broker_that_has_the_topics(compose, production_env, engines):
    command = [interpolate(part) for part in compose["services"]["topics"]["command"]]
    production_env["KAFKA_BROKERS"] = settings.KAFKA_BROKERS
    first = run(command + ["--timeout", "10"], production_env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"all topics already exist on {settings.KAFKA_BROKERS}"


@pytest.mark.integration
def test_create_topics_creates_missing_topics_with_partitions(production_env, tmp_path):
    broker = LocalEngines(tmp_path, store=False, say=lambda _: None).start()  # a Kafka without the topics
    try:
        production_env["KAFKA_BROKERS"] = broker.kafka.bootstrap
        created = run(["python", "manage.py", "create_topics", "--partitions", "3"], production_env)
        assert created.returncode == 0, created.stderr
        assert created.stdout.startswith("created ") and "with 3 partition(s)" in created.stdout
        again = run(["python", "manage.py", "create_topics", "--partitions", "3"], production_env)
        assert again.stdout.startswith("all topics already exist")
    finally:
        broker.stop()


def test_create_topics_on_unreachable_broker_is_one_line(production_env):
    production_env["KAFKA_BROKERS"] = f"127.0.0.1:{free_port()}"
    result = run(["python", "manage.py", "create_topics", "--timeout", "2"], production_env)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "not reachable" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.integration
def test_web_command_starts_daphne_and_the_healthcheck_sees_it(compose, production_env, kafka_broker):
    web = compose["services"]["web"]["command"][2]
    daphne = shlex.split(web.split("exec ", 1)[1])
    image_cmd = json.loads(re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.M).group(1))
    assert daphne == image_cmd, "compose's web command and the image's CMD differ"
    port = free_port()
    daphne = local([part.replace("0.0.0.0", "127.0.0.1").replace("8000", str(port)) for part in daphne])
    production_env.update(KAFKA_BROKERS=settings.KAFKA_BROKERS, MONGO_URL=settings.MONGO_URL, MONGO_DB=settings.MONGO_DB,
                          PORT=str(port))
    assert healthcheck(production_env) == 1  # nothing listens yet: unhealthy
    process = subprocess.Popen(daphne, env=production_env, cwd=BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: healthcheck(production_env) == 0 or process.poll() is not None, timeout=30)
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        assert healthcheck(production_env) == 0
    finally:
        process.terminate()
        process.wait(15)


@pytest.mark.integration
@pytest.mark.parametrize("consumer", ["orders", "inventory", "payments", "shipping", "projections"])
def test_consumer_command_serves_health_on_metrics_port(consumer, compose, production_env, kafka_broker):
    if consumer not in consumer_names():
        pytest.skip(f"consumer {consumer!r} is not declared by an app yet")
    service = compose["services"][f"consume-{consumer}"]
    port = free_port()
    production_env.update(KAFKA_BROKERS=settings.KAFKA_BROKERS, METRICS_PORT=str(port), HOST="127.0.0.1",
                          MONGO_URL=settings.MONGO_URL, MONGO_DB=settings.MONGO_DB)
    spec = consumer_spec(consumer)
    start_groups_at_end(settings.KAFKA_BROKERS, {spec.group_id: spec.topics})  # production group: skip history
    process = subprocess.Popen(local(service["command"]), env=production_env, cwd=BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: healthcheck(production_env) == 0 or process.poll() is not None, timeout=30)
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
    finally:
        process.terminate()
        assert process.wait(30) == 0, "SIGTERM must stop a consumer cleanly"
