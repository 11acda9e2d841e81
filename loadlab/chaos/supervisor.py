"""A supervisor for in-process workers: what systemd or Kubernetes does for a crashed consumer process."""
from __future__ import annotations

import logging
import threading
from collections import Counter

from ecom_project.messaging.worker import Worker

log = logging.getLogger(__name__)


class Supervisor:
    """Watches a Worker's threads and restarts each runner/relay that died, in the same group."""

    def __init__(self, worker: Worker, *, interval: float = 0.1) -> None:
        self.worker = worker
        self.interval = interval
        self.restarts: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="chaos-supervisor", daemon=True)

    def start(self) -> "Supervisor":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            self.check()

    def check(self) -> list[str]:
        restarted = self.worker.restart_dead()
        for name in restarted:
            self.restarts[name] += 1
            log.warning("supervisor restarted a dead component", extra={"component": name})
        return restarted
