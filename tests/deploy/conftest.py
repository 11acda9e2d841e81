"""Fixtures for the deployment assets: the parsed compose file and production-like process env."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
COMPOSE_FILE = BASE_DIR / "docker-compose.yml"


@pytest.fixture(scope="session")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="session")
def consumer_services(compose) -> dict[str, dict]:
    return {name: svc for name, svc in compose["services"].items() if name.startswith("consume-")}


def interpolate(value: str) -> str:
    """Compose's ${VAR:-default} / ${VAR:?message} with the defaults (what `config` renders)."""
    return re.sub(r"\$\{([A-Z_]+)(?::[-?]([^}]*))?\}", lambda m: os.environ.get(m.group(1), m.group(2) or ""), value)


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    """The environment a container gets from docker-compose, pointed at this machine's loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "MONGO_", "REDIS_", "METRICS_"))}
    env.update(
        DEBUG="false", DEPLOYMENT="production", JWT_SECRET="prod-like-" + "x" * 54,
        DJANGO_SECRET_KEY="prod-like-django-" + "y" * 50, ALLOWED_HOSTS="localhost,127.0.0.1,web",
        SECURE_COOKIES="true", SQLITE_PATH=str(tmp_path / "db.sqlite3"), LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="ecom_project.settings",
    )
    return env
