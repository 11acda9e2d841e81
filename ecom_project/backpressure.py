"""Back-pressure at the door (DESIGN §7): when the pipeline is behind, POST /api/orders answers
503 + `Retry-After` before reading or writing anything, and /ready says why.

"Behind" is measured in the background, every BACKPRESSURE_REFRESH_MS, never per request:
- `consumerLag`: per consumer group, the broker's high watermarks minus the group's committed
  offsets (two admin requests per group, one for the watermarks of every topic);
- `inFlight`: orders accepted but not finished, counted from the broker too: OrderCreated events
  minus final ones (OrderShipped, InventoryFailed, InventoryReleased: every order ends with exactly
  one of them), all read as high watermarks in the same request; less the orders that were still
  unfinished the last time the pipeline stood still (those wait for an operator, not the pipeline).
  A duplicate publish can only lower the estimate: the door then opens sooner, never stays shut;
- `outboxBacklog`: the unpublished outbox entries the relays of this process last counted
  (`pipeline_outbox_backlog`; absent in a web process that runs no relay).
The bound of `inFlight` follows the pipeline (Little's law): what it finishes in
BACKPRESSURE_LATENCY_BUDGET_MS at the rate it finished orders over the last seconds
(`finishedPerSecond`, final events again), never below BACKPRESSURE_MIN_IN_FLIGHT nor above
BACKPRESSURE_MAX_IN_FLIGHT. An accepted order then waits about the budget, whatever the machine.
A figure that cannot be read (broker down) does not shed: /ready reports the broker instead.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

from ecom_project.api_errors import error_response
from ecom_project.events import registry as ev
from ecom_project.observability import metrics

log = logging.getLogger(__name__)

ACCEPTED_TOPICS = (ev.topic_of(ev.ORDER_CREATED),)
FINAL_TOPICS = tuple(ev.topic_of(t) for t in (ev.ORDER_SHIPPED, ev.INVENTORY_FAILED, ev.INVENTORY_RELEASED))


@dataclass(frozen=True)
class Figures:
    consumer_lag: dict[str, int] = field(default_factory=dict)  # group -> events behind
    in_flight: int | None = None
    outbox_backlog: int | None = None
    finished_per_second: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {"consumerLag": self.consumer_lag, "inFlight": self.in_flight, "outboxBacklog": self.outbox_backlog,
                "finishedPerSecond": self.finished_per_second}


@dataclass(frozen=True)
class Pressure:
    reasons: tuple[str, ...] = ()
    figures: Figures = Figures()
    measured_at: float = 0.0
    room: int | None = None  # orders the door may still let in before the next refresh (None: no bound)

    @property
    def behind(self) -> bool:
        return bool(self.reasons)


def in_flight_bound(figures: Figures, *, max_in_flight: int, latency_budget_s: float = 0.0,
                    min_in_flight: int = 1) -> tuple[int, str]:
    """The bound of `inFlight` (0: off) and how it was set. With a budget and a measured finishing
    rate: rate x budget, within [min_in_flight, max_in_flight]; otherwise max_in_flight."""
    rate = figures.finished_per_second
    if not latency_budget_s or rate is None:
        return max_in_flight, ""
    bound = max(min_in_flight, math.ceil(rate * latency_budget_s))
    if max_in_flight:
        bound = min(bound, max_in_flight)
    return bound, f" = {rate:g} finished/s x {latency_budget_s:g} s, within [{min_in_flight}, {max_in_flight or 'no cap'}]"


def assess(figures: Figures, *, max_lag: int, max_in_flight: int, max_backlog: int, latency_budget_s: float = 0.0,
           min_in_flight: int = 1) -> tuple[tuple[str, ...], int | None]:
    """Which bounds the figures exceed (a bound of 0 is off), and the orders the door may still let in
    (None: no in-flight bound or figure)."""
    reasons = [f"consumer group {group} is {lag} events behind (bound {max_lag})"
               for group, lag in sorted(figures.consumer_lag.items()) if max_lag and lag > max_lag]
    bound, how = in_flight_bound(figures, max_in_flight=max_in_flight, latency_budget_s=latency_budget_s,
                                 min_in_flight=min_in_flight)
    room = None
    if bound and figures.in_flight is not None:
        room = max(0, bound - figures.in_flight)
        if figures.in_flight > bound:
            reasons.append(f"{figures.in_flight} orders accepted but not finished (bound {bound}{how})")
    if max_backlog and figures.outbox_backlog is not None and figures.outbox_backlog > max_backlog:
        reasons.append(f"{figures.outbox_backlog} outbox entries unpublished (bound {max_backlog})")
    return tuple(reasons), room


def reasons_of(figures: Figures, **bounds: Any) -> tuple[str, ...]:
    """Which bounds the figures exceed (`assess` without the room)."""
    return assess(figures, **bounds)[0]


def readiness() -> dict[str, Any]:
    """What /ready says of the pipeline: behind or not, why, and the figures."""
    if not settings.BACKPRESSURE_ENABLED:
        return {"behind": False, "reasons": [], "figures": None, "measuredAt": None}
    pressure = monitor().current
    return {"behind": pressure.behind, "reasons": list(pressure.reasons), "figures": pressure.figures.as_json(),
            "measuredAt": pressure.measured_at or None}


def outbox_backlog() -> int | None:
    samples = [s.value for m in metrics.OUTBOX_BACKLOG.collect() for s in m.samples]
    return int(sum(samples)) if samples else None


class PressureMonitor:
    """One daemon thread per process refreshes `current`; the door reads it and counts the orders it
    lets in until the next refresh against `current.room`: at 100 requests/s a 500 ms refresh would
    otherwise let 50 orders in past a bound of 15 before the figures show them."""

    def __init__(self, *, measure: Callable[[], Figures], interval_s: float, bounds: dict[str, int]) -> None:
        self._measure = measure
        self.interval_s = interval_s
        self.bounds = bounds
        self.current = Pressure()
        self._admitted = 0
        self._admit_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> PressureMonitor:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="backpressure", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def refresh(self) -> Pressure:
        try:
            figures = self._measure()
        except Exception as exc:  # unreadable figures never shed; /ready reports the broker
            log.warning("back-pressure figures unavailable", extra={"error": str(exc)})
            figures = Figures()
        reasons, room = assess(figures, **self.bounds)
        with self._admit_lock:
            self.current = Pressure(reasons, figures, time.time(), room)
            self._admitted = 0
        return self.current

    def admit(self) -> Pressure | None:
        """Let one order in, or the pressure that shuts the door: the figures' reasons, or no room left
        for one more before the next refresh."""
        with self._admit_lock:
            pressure = self.current
            if pressure.behind:
                return pressure
            if pressure.room is not None:
                if self._admitted >= pressure.room:
                    in_flight = (pressure.figures.in_flight or 0) + self._admitted
                    return Pressure((f"{in_flight} orders accepted but not finished, counting {self._admitted} let in "
                                     f"since the figures were read (room was {pressure.room})",),
                                    pressure.figures, pressure.measured_at, 0)
                self._admitted += 1
            return None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(self.interval_s)


_monitor: PressureMonitor | None = None
_monitor_lock = threading.Lock()


def monitor() -> PressureMonitor:
    """The process's monitor, started on first use (the web handler asks for it at start)."""
    global _monitor
    with _monitor_lock:
        if _monitor is None:
            from ecom_project.pipeline_figures import BrokerFigures  # it imports this module
            _monitor = PressureMonitor(measure=BrokerFigures().measure, interval_s=settings.BACKPRESSURE_REFRESH_MS / 1000,
                                       bounds=bounds()).start()
        return _monitor


def bounds() -> dict[str, Any]:
    return {"max_lag": settings.BACKPRESSURE_MAX_CONSUMER_LAG, "max_in_flight": settings.BACKPRESSURE_MAX_IN_FLIGHT,
            "max_backlog": settings.BACKPRESSURE_MAX_OUTBOX_BACKLOG,
            "latency_budget_s": settings.BACKPRESSURE_LATENCY_BUDGET_MS / 1000,
            "min_in_flight": settings.BACKPRESSURE_MIN_IN_FLIGHT}


def shed_response(pressure: Pressure) -> HttpResponse:
    response = error_response("overloaded", "The pipeline is behind; retry later. " + "; ".join(pressure.reasons), 503,
                              fields=pressure.figures.as_json())
    response["Retry-After"] = str(settings.BACKPRESSURE_RETRY_AFTER_S)
    return response


def _shed(request: HttpRequest) -> HttpResponse | None:
    if settings.BACKPRESSURE_ENABLED and request.method == "POST" and request.path_info in settings.INTAKE_PATHS:
        pressure = monitor().admit()
        if pressure is not None:
            return shed_response(pressure)
    return None


@sync_and_async_middleware
def shed_when_behind(get_response: Callable) -> Callable:
    """Before the view reads the body: a shed order costs an attribute read and a small answer."""
    if settings.BACKPRESSURE_ENABLED:
        monitor()
    if iscoroutinefunction(get_response):
        async def middleware(request: HttpRequest) -> HttpResponse:
            return _shed(request) or await get_response(request)
    else:
        def middleware(request: HttpRequest) -> HttpResponse:
            return _shed(request) or get_response(request)
    return middleware
