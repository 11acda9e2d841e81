"""Environment parsing. Every bad value becomes one readable ConfigError line."""
from __future__ import annotations

import os
import re
from urllib.parse import urlparse


class ConfigError(Exception):
    """A setting has a value the project cannot run with."""


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum or maximum is not None and value > maximum:
        raise ConfigError(f"{name}={value} is out of range [{minimum}, {maximum}]")
    return value


def env_float(name: str, default: float, *, minimum: float = 0.0, maximum: float = 1.0) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name}={value} is out of range [{minimum}, {maximum}]")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use true/false)")


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in env_str(name, default).split(",") if part.strip()]


def step_timeouts(name: str, raw: str, *, steps: tuple[str, ...], default: int) -> dict[str, int]:
    """`60` (every step) or `inventory=30,payment=30,shipping=60,compensation=120` (others keep the
    default): seconds each saga step may take before its order counts as stuck."""
    timeouts = dict.fromkeys(steps, default)
    raw = raw.strip()
    if not raw:
        return timeouts
    if raw.isdigit():
        return _positive_seconds(name, dict.fromkeys(steps, int(raw)))
    for part in filter(None, (p.strip() for p in raw.split(","))):
        step, _, seconds = part.partition("=")
        if step.strip() not in timeouts or not seconds.strip().isdigit():
            raise ConfigError(f"{name}={raw!r}: {part!r} is not step=seconds with a step of {', '.join(steps)}")
        timeouts[step.strip()] = int(seconds)
    return _positive_seconds(name, timeouts)


def _positive_seconds(name: str, timeouts: dict[str, int]) -> dict[str, int]:
    if any(not 1 <= seconds <= 86400 * 30 for seconds in timeouts.values()):
        raise ConfigError(f"{name}: every step timeout must be between 1 and 2592000 seconds")
    return timeouts


def mongo_url(raw: str) -> str:
    """A mongodb:// URL, or "" (no store configured: the local one of `make run`, when it runs)."""
    if raw and urlparse(raw).scheme not in {"mongodb", "mongodb+srv"}:
        raise ConfigError(f"MONGO_URL={raw!r}: unknown scheme {urlparse(raw).scheme!r} (use mongodb://host:port)")
    return raw


def java_heap(raw: str) -> str:
    if not re.fullmatch(r"[1-9][0-9]*[mMgG]", raw):
        raise ConfigError(f"KAFKA_HEAP={raw!r} is not a heap size such as 512m or 1g")
    return raw


def redis_url(raw: str) -> str:
    if raw and urlparse(raw).scheme not in {"redis", "rediss", "unix"}:
        raise ConfigError(f"REDIS_URL={raw!r}: unknown scheme (use redis://host:port/db)")
    return raw


def kafka_brokers(raw: str) -> str:
    for address in filter(None, (p.strip() for p in raw.split(","))):
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"KAFKA_BROKERS={raw!r}: {address!r} is not host:port")
    return raw


def cors_origins(raw: str, *, debug: bool) -> tuple[list[str], bool]:
    """CORS_ALLOWED_ORIGINS -> (origins, allow every origin). `*` opens the API to any page,
    which a development machine may want and a deployment must not: refused unless DEBUG."""
    origins = [part.strip().rstrip("/") for part in raw.split(",") if part.strip()]
    if "*" in origins:
        if len(origins) > 1:
            raise ConfigError(f"CORS_ALLOWED_ORIGINS={raw!r}: '*' cannot be combined with origins")
        if not debug:
            raise ConfigError("CORS_ALLOWED_ORIGINS='*' is refused when DEBUG is off: list the origins")
        return [], True
    for origin in origins:
        parts = urlparse(origin)
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path or parts.query or "@" in origin:
            raise ConfigError(f"CORS_ALLOWED_ORIGINS={raw!r}: {origin!r} is not an origin like http://localhost:5173")
        try:
            parts.port  # noqa: B018  (raises on a port that is not a number in range)
        except ValueError:
            raise ConfigError(f"CORS_ALLOWED_ORIGINS={raw!r}: {origin!r} has a bad port") from None
    return origins, False


def librdkafka_overrides(prefix: str) -> dict[str, str]:
    """KAFKA_PRODUCER_LINGER_MS=10 -> {"linger.ms": "10"}: any client setting is tunable by env."""
    return {
        key[len(prefix):].lower().replace("_", "."): value
        for key, value in os.environ.items()
        if key.startswith(prefix) and value != ""
    }
