"""Event builders and store probes for the inventory tests."""
from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from ecom_project.events.envelope import Envelope, decode, new_event
from ecom_project.events.registry import (
    COMPENSATION_REQUESTED, ORDER_CREATED, ORDER_SHIPPED, PAYMENT_FAILED, RETRY_REQUESTED, SHIPPING_FAILED,
)
from ecom_project.events.schemas import (
    CompensationRequestedV1, Line, OrderCreatedV1, OrderShippedV1, PaymentFailedV1, RetryRequestedV1, ShippingFailedV1,
)
from inventory import repository, services


def new_order_id() -> str:
    return f"inv-{uuid.uuid4().hex[:12]}"


def order_created(order_id: str, lines: dict[str, int], *, total: str = "25.00", country: str | None = "US") -> Envelope:
    payload = OrderCreatedV1(
        order_id=order_id, items=[Line(sku=s, qty=q) for s, q in lines.items()], total=Decimal(total),
        currency="EUR", shipping_country=country,
    )
    return new_event(ORDER_CREATED, payload, order_id=order_id)


def payment_failed(order_id: str) -> Envelope:
    payload = PaymentFailedV1(order_id=order_id, amount=Decimal("25.00"), currency="EUR", reason="card declined")
    return new_event(PAYMENT_FAILED, payload, order_id=order_id)


def shipping_failed(order_id: str) -> Envelope:
    return new_event(SHIPPING_FAILED, ShippingFailedV1(order_id=order_id, reason="no carrier to XX"), order_id=order_id)


def order_shipped(order_id: str) -> Envelope:
    payload = OrderShippedV1(order_id=order_id, shipment_id="shp-1", carrier="sim", tracking_number="TRK1")
    return new_event(ORDER_SHIPPED, payload, order_id=order_id)


def retry_requested(order_id: str, lines: dict[str, int], *, step: str = "inventory") -> Envelope:
    payload = RetryRequestedV1(
        order_id=order_id, step=step, requested_by="op-1", items=[Line(sku=s, qty=q) for s, q in lines.items()],
        total=Decimal("25.00"), currency="EUR",
    )
    return new_event(RETRY_REQUESTED, payload, order_id=order_id)


def compensation_requested(order_id: str, action: str = "releaseInventory") -> Envelope:
    payload = CompensationRequestedV1(order_id=order_id, action=action, requested_by="op-1")
    return new_event(COMPENSATION_REQUESTED, payload, order_id=order_id)


def queued_events(order_id: str) -> list[Envelope]:
    """Events the order's reservation queued in its outbox (no relay runs in these tests)."""
    document = repository.reservation_find(order_id) or {}
    return [decode(entry["value"]) for entry in document.get("outbox", [])]


def stock_of(sku: str) -> dict:
    document = repository.stock_find(sku)
    return {key: document[key] for key in ("available", "reserved", "shipped", "stocked")} | {
        "holds": dict(document["holds"])
    }


def assert_conserved() -> None:
    """Per SKU: stocked == available + reserved + shipped, nothing negative, reserved == sum(holds)."""
    for document in repository.stock_all():
        sku = document["_id"]
        assert document["stocked"] == document["available"] + document["reserved"] + document["shipped"], sku
        assert min(document["available"], document["reserved"], document["shipped"]) >= 0, sku
        assert document["reserved"] == sum(document["holds"].values()), sku


@pytest.fixture
def stock():
    """SKU-1…SKU-3 with 10 units each."""
    services.stock_seed(skus=3, qty=10)
    return repository
