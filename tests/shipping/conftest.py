"""Events that the shipping consumer receives, built the way their producers build them."""
from __future__ import annotations

import uuid
from decimal import Decimal

from ecom_project.events.envelope import Envelope, new_event
from ecom_project.events.registry import PAYMENT_AUTHORIZED, RETRY_REQUESTED
from ecom_project.events.schemas import Line, PaymentAuthorizedV1, RetryRequestedV1


def new_order_id() -> str:
    return f"shp-{uuid.uuid4().hex[:12]}"


def payment_authorized(order_id: str, country: str | None = "US") -> Envelope:
    payload = PaymentAuthorizedV1(
        order_id=order_id, payment_id="PAY-1", amount=Decimal("42.00"), currency="USD", shipping_country=country,
    )
    return new_event(PAYMENT_AUTHORIZED, payload, order_id=order_id)


def retry_requested(order_id: str, step: str = "shipping", country: str | None = "CA") -> Envelope:
    payload = RetryRequestedV1(
        order_id=order_id, step=step, requested_by="7", items=[Line(sku="SKU-1", qty=1)], total=Decimal("42.00"),
        currency="USD", shipping_country=country,
    )
    return new_event(RETRY_REQUESTED, payload, order_id=order_id)
