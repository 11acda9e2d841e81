"""A job a consumer process runs every few seconds beside its consumer (e.g. the stuck-order detector),
less often when each run takes long (MAX_DUTY).

A ConsumerSpec declares its periodic tasks; the Worker starts and stops them with its runners,
so `runpipeline`, `runmulti` and `consume_<app>` all run them without knowing what they are."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)
# A periodic read of a whole collection (the stuck detector, a relay's scan) takes at most this share of
# the time: on FerretDB such a read costs more the more documents there are (docs/store.md), so its
# interval stretches as history grows instead of the reads taking over the store.
MAX_DUTY = 0.02


def next_interval(base_s: float, last_run_s: float, *, duty: float | None = None) -> float:
    """The wait before the next run: `base_s`, or longer when the last run took more than `duty` of it."""
    return max(base_s, last_run_s / (duty or MAX_DUTY))


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
        wait = self.interval_s
        while not self.stop_event.wait(wait):
            started = time.monotonic()
            try:
                self.run()
            except Exception:  # a store hiccup must not end the job: the next round tries again
                log.exception("periodic task failed", extra={"task": self.name})
            wait = next_interval(self.interval_s, time.monotonic() - started)

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout)
