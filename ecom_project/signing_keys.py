"""The two signing keys (Django's SECRET_KEY, the JWT HS256 key): from the environment, or generated
once into the git-ignored data folder. No key is ever written in the code, so no two installations
share one and a forged token signed with a published constant opens nothing.

Production (DEPLOYMENT=production, as in docker-compose) takes them from the environment only: every
replica must sign and check with the same keys, and a container's data folder is not shared."""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from ecom_project.config import ConfigError, env_str

MIN_KEY_BYTES = 32
KEY_NAMES = ("DJANGO_SECRET_KEY", "JWT_SECRET")
KEY_FILE_NAME = "signing-keys.json"


def signing_keys(*, data_dir: Path, from_env_only: bool) -> dict[str, str]:
    """{"DJANGO_SECRET_KEY": ..., "JWT_SECRET": ...}: each at least 32 bytes, never the same."""
    keys = {name: env_str(name) for name in KEY_NAMES}
    missing = [name for name, value in keys.items() if not value]
    if missing and from_env_only:
        raise ConfigError(f"{' and '.join(missing)} must be set in production (each a random string of at least "
                          f"{MIN_KEY_BYTES} bytes, e.g. openssl rand -hex 32)")
    if missing:
        stored = stored_keys(data_dir / KEY_FILE_NAME)
        keys.update({name: stored[name] for name in missing})
    for name, value in keys.items():
        if len(value.encode()) < MIN_KEY_BYTES:
            raise ConfigError(f"{name} is {len(value.encode())} bytes; it must be at least {MIN_KEY_BYTES}")
    if keys["DJANGO_SECRET_KEY"] == keys["JWT_SECRET"]:
        raise ConfigError("DJANGO_SECRET_KEY and JWT_SECRET must differ (a leak of one must not give the other)")
    return keys


def stored_keys(path: Path) -> dict[str, str]:
    """The keys in `path`, created with fresh random keys (owner-only) if it does not exist yet.

    The file is written aside and linked into place, so concurrent first starts (runmulti's
    processes) all end up with the one file that won, never a half-written one."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = {name: secrets.token_urlsafe(48) for name in KEY_NAMES}  # 64 characters, 384 bits
        aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(fresh, handle)
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another process was first: use its keys
        finally:
            aside.unlink()
    try:
        stored = json.loads(path.read_text())
        return {name: str(stored[name]) for name in KEY_NAMES}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path} is not a key file this project wrote ({exc}); delete it to generate new keys, "
                          f"or set {' and '.join(KEY_NAMES)}") from None
