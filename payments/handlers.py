"""Events -> payment services, and the routing dict of the payments consumer."""
from __future__ import annotations

from ecom_project.events.envelope import Envelope, payload_of
from ecom_project.events.registry import COMPENSATION_REQUESTED, INVENTORY_RESERVED, RETRY_REQUESTED, SHIPPING_FAILED
from ecom_project.messaging.consumers import ConsumerSpec
from payments import repository, services


def on_inventory_reserved(event: Envelope) -> None:
    reserved = payload_of(event)
    services.payment_authorize(
        order_id=event.order_id, amount=reserved.total, currency=reserved.currency,
        shipping_country=reserved.shipping_country, cause=event,
    )


def on_shipping_failed(event: Envelope) -> None:
    failed = payload_of(event)
    services.payment_refund(
        order_id=event.order_id, reason=f"shipping failed: {failed.reason}", cause=event, remember_if_unauthorized=True,
    )


def on_retry_requested(event: Envelope) -> None:
    retry = payload_of(event)
    if retry.step != "payment":
        return
    services.payment_authorize(
        order_id=event.order_id, amount=retry.total, currency=retry.currency,
        shipping_country=retry.shipping_country, cause=event,
    )


def on_compensation_requested(event: Envelope) -> None:
    compensation = payload_of(event)
    if compensation.action != "refundPayment":
        return
    services.payment_refund(
        order_id=event.order_id, reason=f"compensation requested by {compensation.requested_by}", cause=event,
        remember_if_unauthorized=False,
    )


HANDLERS = {
    INVENTORY_RESERVED: on_inventory_reserved,
    SHIPPING_FAILED: on_shipping_failed,
    RETRY_REQUESTED: on_retry_requested,
    COMPENSATION_REQUESTED: on_compensation_requested,
}

CONSUMER = ConsumerSpec(
    name="payments",
    handlers=HANDLERS,
    outbox_collections=lambda: [repository.payments()],
    setup=repository.ensure_indexes,
)
