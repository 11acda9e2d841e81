"""A job a consumer process runs every few seconds beside its consumer (e.g. the stuck-order detector).

A ConsumerSpec declares its periodic tasks; the Worker starts and stops them with its runners,
so `runpipeline`, `runmulti` and `consume_<app>` all run them without knowing what they are."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class PeriodicTask:
    def __init__(self, name: str, *, interval_s: float, run: Callable[[], object]) -> None:
        self.name = name
        self.interval_s = interval_s
        self.run = run
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> "PeriodicTask":
        self.thread = threading.Thread(target=self._loop, name=f"periodic-{self.name}", daemon=True)
        self.thread.start()
        return self

    def _loop(self) -> None:
        while not self.stop_event.wait(self.interval_s):
            try:
                self.run()
            except Exception:  # a store hiccup must not end the job: the next round tries again
                log.exception("periodic task failed", extra={"task": self.name})

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout)
