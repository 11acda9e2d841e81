"""Bad settings stop a command with one readable line and a non-zero exit, never a traceback."""
from __future__ import annotations

import pytest

from tests.support import manage


@pytest.mark.parametrize(
    "env, message",
    [
        ({"PORT": "eighty"}, "PORT='eighty' is not a whole number"),
        ({"PORT": "70000"}, "PORT=70000 is out of range"),
        ({"MONGO_URL": "postgres://x"}, "MONGO_URL='postgres://x': unknown scheme"),
        ({"REDIS_URL": "http://x"}, "REDIS_URL='http://x': unknown scheme"),
        ({"KAFKA_BROKERS": "localhost"}, "'localhost' is not host:port"),
        ({"PAYMENT_FAILURE_RATE": "2"}, "PAYMENT_FAILURE_RATE=2.0 is out of range"),
        ({"DEPLOYMENT": "production", "JWT_SECRET": "", "DJANGO_SECRET_KEY": "k" * 40},
         "JWT_SECRET must be set in production"),
        ({"JWT_SECRET": "short"}, "JWT_SECRET is 5 bytes; it must be at least 32"),
        ({"JWT_SECRET": "s" * 40, "DJANGO_SECRET_KEY": "s" * 40}, "must differ"),
        ({"DEPLOYMENT": "staging"}, "DEPLOYMENT='staging' is not local or production"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL='LOUD' is not a log level"),
        ({"SAGA_STEP_TIMEOUT_S": "soon"}, "SAGA_STEP_TIMEOUT_S='soon': 'soon' is not step=seconds"),
        ({"SAGA_STEP_TIMEOUT_S": "cooking=5"}, "'cooking=5' is not step=seconds with a step of inventory"),
        ({"SAGA_STEP_TIMEOUT_S": "payment=0"}, "every step timeout must be between 1 and"),
    ],
)
def test_bad_setting_is_one_readable_line(env, message):
    result = manage("check", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("configuration error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_java_stops_runpipeline_with_one_line_naming_the_alternative(tmp_path):
    result = manage("runpipeline", "--port", "0", env={"JAVA_HOME": str(tmp_path / "no-jdk"), "KAFKA_BROKERS": "",
                                                       "DATA_DIR": str(tmp_path / "data")})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("CommandError")]
    assert len(errors) == 1 and "Java 17+" in errors[0] and "KAFKA_BROKERS=host:port" in errors[0]


def test_a_command_without_a_store_says_so_in_one_line(tmp_path):
    result = manage("replay_dead_letters", "--all", "--dry-run", env={"MONGO_URL": "", "DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no store" in lines[0] and "make run" in lines[0], result.stderr


def test_unreachable_kafka_brokers_stops_runpipeline_with_one_line():
    result = manage("runpipeline", "--port", "0", env={"KAFKA_BROKERS": "127.0.0.1:1", "KAFKA_PRODUCER_MESSAGE_TIMEOUT_MS": "1000"}, timeout=90)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "is not usable" in result.stderr


@pytest.mark.parametrize("path", ["/static/dashboard/dashboard.js", "/static/admin/css/base.css"])
def test_static_assets_are_served_without_debug(path):
    result = manage(
        "shell", "-c",
        f"from django.test import Client; print(Client().get('{path}').status_code)",
        env={"DEBUG": "false", "ALLOWED_HOSTS": "testserver"},
    )
    assert result.stdout.strip().splitlines()[-1] == "200", result.stderr


def test_step_timeouts_take_one_number_or_per_step_overrides():
    from ecom_project.config import step_timeouts

    steps = ("inventory", "payment", "shipping", "compensation")
    assert step_timeouts("X", "", steps=steps, default=60) == dict.fromkeys(steps, 60)
    assert step_timeouts("X", "5", steps=steps, default=60) == dict.fromkeys(steps, 5)
    assert step_timeouts("X", "payment=7, compensation=300", steps=steps, default=60) == {
        "inventory": 60, "payment": 7, "shipping": 60, "compensation": 300}


def test_kafka_cluster_ids_never_look_like_an_option():
    """A fresh clone's first `make run` once failed: the storage tool read a cluster id starting with "-" as a flag."""
    from ecom_project.engines.kafka import new_cluster_id

    ids = [new_cluster_id() for _ in range(5000)]  # about 78 would start with "-" without the guard
    assert not any(cluster_id.startswith("-") for cluster_id in ids)
    assert all(len(cluster_id) == 22 for cluster_id in ids)
