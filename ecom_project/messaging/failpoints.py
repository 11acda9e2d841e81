"""Named failpoints, off by default: fault-injection hooks for the reliability drills.

Enable from a test with `failpoints.enable("runner.after_effects")` or by env
`FAILPOINTS=runner.after_effects,relay.after_publish`. A crash point raises `Crash`,
which the runner and relay never catch: the component stops abruptly, without
committing offsets or marking entries sent, as a killed process would.
`handler.raise` raises an ordinary `InjectedError` (retried, then dead-lettered);
`handler.slow` sleeps for the `sleep` given to `enable`.
"""
from __future__ import annotations

import os
import threading
import time

KNOWN = {
    "runner.after_effects": "effects stored, offsets not committed",
    "runner.mid_batch": "half of a batch handled",
    "relay.after_publish": "events published, entries not marked sent",
    "uow.before_publish": "a batch's effects and events stored, its events not published",
    "uow.after_publish": "a batch's events published, not yet cleared from the outboxes",
    "handler.raise": "the handler raises on the Nth event",
    "handler.slow": "the handler sleeps past max.poll.interval.ms",
}


class Crash(BaseException):
    """An abrupt stop (BaseException so that ordinary `except Exception` blocks don't swallow it)."""


class InjectedError(RuntimeError):
    """An ordinary handler error (retried, then dead-lettered like any other)."""


_lock = threading.Lock()
_armed: dict[str, dict] = {}


def enable(name: str, *, after: int = 0, times: int = 1, sleep: float = 0.0) -> None:
    """Fire on the (after+1)-th hit, `times` times (0 = forever)."""
    if name not in KNOWN:
        raise ValueError(f"unknown failpoint {name!r}; known: {', '.join(sorted(KNOWN))}")
    with _lock:
        _armed[name] = {"skip": after, "left": times or None, "sleep": sleep, "fired": 0}


def disable(name: str | None = None) -> None:
    with _lock:
        if name is None:
            _armed.clear()
        else:
            _armed.pop(name, None)


def fired(name: str) -> int:
    with _lock:
        return _armed.get(name, {}).get("fired", 0)


def hit(name: str) -> None:
    """Called at the named point; does nothing unless armed."""
    if not _armed:
        return
    with _lock:
        state = _armed.get(name)
        if state is None:
            return
        if state["skip"] > 0:
            state["skip"] -= 1
            return
        if state["left"] is not None:
            if state["left"] == 0:
                return
            state["left"] -= 1
        state["fired"] += 1
        sleep = state["sleep"]
    if sleep:
        time.sleep(sleep)
        return
    if name == "handler.raise":
        raise InjectedError(f"failpoint {name}")
    raise Crash(name)


for _name in filter(None, (n.strip() for n in os.environ.get("FAILPOINTS", "").split(","))):
    enable(_name, times=0)
