"""Prometheus metrics of the messaging kernel, one definition each."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_CONSUMED = Counter(
    "pipeline_events_consumed_total", "Events handled successfully", ["consumer", "topic"]
)
EVENTS_DUPLICATE = Counter(
    "pipeline_events_duplicate_total", "Events skipped because they were already applied", ["consumer", "topic"]
)
EVENTS_FAILED = Counter(
    "pipeline_events_failed_total", "Handler attempts that raised", ["consumer", "topic"]
)
EVENTS_DEAD_LETTERED = Counter(
    "pipeline_events_dead_lettered_total", "Events sent to a dead-letter topic", ["consumer", "topic"]
)
EVENTS_PRODUCED = Counter(
    "pipeline_events_produced_total", "Events published (by a consumer batch or an outbox relay)", ["relay", "topic"]
)
HANDLER_SECONDS = Histogram(
    "pipeline_handler_seconds",
    "Time spent in a handler per event",
    ["consumer", "topic"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
OUTBOX_BACKLOG = Gauge("pipeline_outbox_backlog", "Documents with unpublished outbox events", ["relay"])
CONSUMER_LAG = Gauge("pipeline_consumer_lag", "Messages behind the high watermark", ["consumer", "topic", "partition"])
LIVE_PUSHES_DROPPED = Counter(
    "pipeline_live_pushes_dropped_total", "Live pushes dropped because LIVE_PUSH_MAX_PENDING orders were waiting"
)
CONSUMER_HEARTBEAT = Gauge("pipeline_consumer_last_heartbeat_seconds", "Unix time of the last poll", ["consumer"])

# Saga-level metrics for the dashboards (deploy/grafana). The orders app observes SAGA_SECONDS once
# per order when it reaches SHIPPED, REJECTED or CANCELLED, and registers pipeline_orders_by_status
# (read from its store at scrape time, orders/metrics.py).
SAGA_SECONDS = Histogram(
    "pipeline_saga_seconds",
    "Time from OrderCreated to the order's final status",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
ORDERS_STUCK = Gauge(
    "pipeline_orders_stuck", "Orders whose current saga step is past its deadline (set by the stuck-order detector)",
    ["step"],
)
