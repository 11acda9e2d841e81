"""Periodic whole-collection reads stretch their interval as they get slower (on FerretDB a read of a
collection costs more the more documents it has): at most MAX_DUTY of the time goes to them."""
from __future__ import annotations

import time

from ecom_project.messaging import periodic
from ecom_project.messaging.periodic import PeriodicTask, next_interval
from tests.support import wait_until


def test_the_interval_stretches_only_past_the_duty():
    assert next_interval(10.0, 0.1, duty=0.02) == 10.0, "5 s of reading per 10 s would be 1 %: the base interval"
    assert next_interval(10.0, 1.0, duty=0.02) == 50.0, "a 1 s read runs at most every 50 s"
    assert next_interval(0.0, 0.5, duty=1.0) == 0.5


def test_a_periodic_task_that_runs_long_runs_less_often(monkeypatch):
    monkeypatch.setattr(periodic, "MAX_DUTY", 0.1)
    starts: list[float] = []

    def slow_read() -> None:
        starts.append(time.monotonic())
        time.sleep(0.03)  # stands for a read of a large collection

    task = PeriodicTask("slow", interval_s=0.001, run=slow_read).start()
    try:
        wait_until(lambda: len(starts) >= 3, timeout=10)
    finally:
        task.stop()
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert all(gap >= 0.03 + 0.3 for gap in gaps), f"a 30 ms run at 10 % duty waits >= 300 ms after it: {gaps}"
