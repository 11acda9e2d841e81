"""Saga-level metrics of the orders app: orders per status (one read of the counters document at scrape
time, status_counts.py)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily

from ecom_project.observability.metrics import SAGA_SECONDS
from orders import status_counts


class OrdersByStatusCollector:
    """Every process that serves /metrics reports the same store-wide numbers: dashboards take max."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("pipeline_orders_by_status", "Orders currently in each status", labels=["status"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("pipeline_orders_by_status", "Orders currently in each status", labels=["status"])
        try:
            counts = status_counts.ORDER_COUNTS.current()
        except Exception:  # a store outage must not break the whole scrape; /ready reports it
            return
        for status, count in counts.items():
            family.add_metric([status], count)
        yield family


_registered = False


def register() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(OrdersByStatusCollector())
        _registered = True


def saga_finished(*, status: str, created_at: datetime, at: datetime) -> None:
    if created_at.tzinfo is None:  # a client without tz_aware hands back naive UTC datetimes
        created_at = created_at.replace(tzinfo=timezone.utc)
    SAGA_SECONDS.labels(status).observe(max(0.0, (at - created_at).total_seconds()))
