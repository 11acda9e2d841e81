"""Events inventory reacts to -> service calls. Routing is data: HANDLERS below."""
from __future__ import annotations

import logging

from ecom_project.events.envelope import Envelope, payload_of
from ecom_project.events.registry import (
    COMPENSATION_REQUESTED, ORDER_CREATED, ORDER_SHIPPED, PAYMENT_FAILED, RETRY_REQUESTED, SHIPPING_FAILED,
)
from ecom_project.messaging.consumers import ConsumerSpec
from inventory import repository, services
from inventory.domain import MAX_REASON_CHARS, PlannedLine, ReservationRequest

log = logging.getLogger(__name__)


def _request_from(payload) -> ReservationRequest:
    return ReservationRequest(
        order_id=payload.order_id,
        items=[PlannedLine(line.sku, line.qty) for line in payload.items],
        total=f"{payload.total:.2f}",
        currency=payload.currency,
        shipping_country=payload.shipping_country,
    )


def _reason(prefix: str, detail: str) -> str:
    return f"{prefix}: {detail}"[:MAX_REASON_CHARS]


def on_order_created(event: Envelope) -> None:
    services.reservation_reserve(request=_request_from(payload_of(event)), cause=event)


def on_payment_failed(event: Envelope) -> None:
    payload = payload_of(event)
    services.reservation_release(order_id=payload.order_id, reason=_reason("payment failed", payload.reason), cause=event)


def on_shipping_failed(event: Envelope) -> None:
    payload = payload_of(event)
    services.reservation_release(order_id=payload.order_id, reason=_reason("shipping failed", payload.reason), cause=event)


def on_order_shipped(event: Envelope) -> None:
    services.reservation_ship(order_id=payload_of(event).order_id, cause=event)


def on_retry_requested(event: Envelope) -> None:
    payload = payload_of(event)
    if payload.step == "inventory":
        services.reservation_retry(request=_request_from(payload), cause=event)


def on_compensation_requested(event: Envelope) -> None:
    payload = payload_of(event)
    if payload.action == "releaseInventory":
        services.reservation_release(
            order_id=payload.order_id, reason=_reason("released by operator", payload.requested_by),
            cause=event, from_saga=False,
        )


HANDLERS = {
    ORDER_CREATED: on_order_created,
    PAYMENT_FAILED: on_payment_failed,
    SHIPPING_FAILED: on_shipping_failed,
    ORDER_SHIPPED: on_order_shipped,
    RETRY_REQUESTED: on_retry_requested,
    COMPENSATION_REQUESTED: on_compensation_requested,
}

CONSUMER = ConsumerSpec(
    name="inventory",
    handlers=HANDLERS,
    outbox_collections=repository.outbox_collections,
    setup=repository.ensure_indexes,
)
