"""Events -> shipping services, and the routing dict of the shipping consumer."""
from __future__ import annotations

from ecom_project.events.envelope import Envelope, payload_of
from ecom_project.events.registry import PAYMENT_AUTHORIZED, RETRY_REQUESTED
from ecom_project.messaging.consumers import ConsumerSpec
from shipping import repository, services


def on_payment_authorized(event: Envelope) -> None:
    authorized = payload_of(event)
    services.shipment_book(order_id=event.order_id, shipping_country=authorized.shipping_country, cause=event)


def on_retry_requested(event: Envelope) -> None:
    retry = payload_of(event)
    if retry.step != "shipping":
        return
    services.shipment_book(order_id=event.order_id, shipping_country=retry.shipping_country, cause=event)


HANDLERS = {
    PAYMENT_AUTHORIZED: on_payment_authorized,
    RETRY_REQUESTED: on_retry_requested,
}

CONSUMER = ConsumerSpec(
    name="shipping",
    handlers=HANDLERS,
    outbox_collections=lambda: [repository.shipments()],
    setup=repository.ensure_indexes,
)
