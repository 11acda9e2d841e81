from __future__ import annotations

from decimal import Decimal

from prometheus_client import REGISTRY

from ecom_project.status_counts import PENDING
from orders import services


def sample(name: str, labels: dict) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_orders_by_status_is_read_from_the_store():
    for _ in range(2):
        services.order_create(items=[{"sku": "SKU-1", "qty": 1}], total=Decimal("5"), currency="USD", shipping_address=None)
    PENDING.flush()  # the changes are gathered for FLUSH_S
    assert sample("pipeline_orders_by_status", {"status": "PENDING"}) == 2
    assert sample("pipeline_orders_by_status", {"status": "SHIPPED"}) == 0


def test_metrics_endpoint_serves_saga_metrics(client):
    body = client.get("/metrics").content.decode()
    assert "pipeline_orders_by_status" in body
    assert "pipeline_events_consumed_total" in body or "pipeline_handler_seconds" in body
