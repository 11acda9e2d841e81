"""Events that the payments consumer receives, built the way their producers build them."""
from __future__ import annotations

import uuid
from decimal import Decimal

from ecom_project.events.envelope import Envelope, new_event
from ecom_project.events.registry import COMPENSATION_REQUESTED, INVENTORY_RESERVED, RETRY_REQUESTED, SHIPPING_FAILED
from ecom_project.events.schemas import (
    CompensationRequestedV1, InventoryReservedV1, Line, RetryRequestedV1, ShippingFailedV1,
)


def new_order_id() -> str:
    return f"pay-{uuid.uuid4().hex[:12]}"


def inventory_reserved(order_id: str, total: str = "120.50", country: str | None = "US") -> Envelope:
    payload = InventoryReservedV1(
        order_id=order_id, items=[Line(sku="SKU-1", qty=2)], total=Decimal(total), currency="EUR",
        shipping_country=country,
    )
    return new_event(INVENTORY_RESERVED, payload, order_id=order_id)


def shipping_failed(order_id: str, reason: str = "the carrier does not ship to BR") -> Envelope:
    return new_event(SHIPPING_FAILED, ShippingFailedV1(order_id=order_id, reason=reason), order_id=order_id)


def retry_requested(order_id: str, step: str = "payment", total: str = "120.50") -> Envelope:
    payload = RetryRequestedV1(
        order_id=order_id, step=step, requested_by="7", items=[Line(sku="SKU-1", qty=2)], total=Decimal(total),
        currency="EUR", shipping_country="GB",
    )
    return new_event(RETRY_REQUESTED, payload, order_id=order_id)


def compensation_requested(order_id: str, action: str = "refundPayment") -> Envelope:
    payload = CompensationRequestedV1(order_id=order_id, action=action, requested_by="7")
    return new_event(COMPENSATION_REQUESTED, payload, order_id=order_id)
