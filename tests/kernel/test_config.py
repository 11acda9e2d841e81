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
    ],
)
def test_bad_setting_is_one_readable_line(env, message):
    result = manage("check", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("configuration error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_broker_binary_stops_runpipeline_with_one_line(tmp_path):
    result = manage(
        "runpipeline", "--port", "0", env={"CALF_TANSU_BIN": str(tmp_path / "no-such-tansu"), "KAFKA_BROKERS": ""},
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "embedded broker binary not found" in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("CommandError")]) == 1


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
