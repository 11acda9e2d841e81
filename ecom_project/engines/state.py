"""How commands find the running local engines: `DATA_DIR/engines.json`, written by the process that
started them and removed when it stops them. Environment variables (KAFKA_BROKERS, MONGO_URL)
override it. Standard library only: settings.py reads it."""
from __future__ import annotations

import json
import os
from pathlib import Path

FILE = "engines.json"


def last(data_dir: Path) -> dict:
    """What the last run wrote, whether or not it still runs (its ports are reused when free)."""
    try:
        state = json.loads((data_dir / FILE).read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def running(data_dir: Path) -> dict:
    """The engines' addresses ({"kafka": "host:port", "mongo": "mongodb://…", "owner": pid}) while the
    process that started them is alive; {} otherwise."""
    state = last(data_dir)
    owner = state.get("owner")
    if not isinstance(owner, int):
        return {}
    try:
        os.kill(owner, 0)
    except ProcessLookupError:
        return {}
    except PermissionError:  # alive, another user's
        pass
    return state


def write(data_dir: Path, state: dict) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    temporary = data_dir / f".{FILE}.{os.getpid()}"
    temporary.write_text(json.dumps(state, indent=2) + "\n")
    temporary.replace(data_dir / FILE)


def clear(data_dir: Path, *, owner: int) -> None:
    """Say the engines are gone, unless another process has written the file since."""
    state = last(data_dir)
    if state.get("owner") == owner:
        state["owner"] = None
        write(data_dir, state)
