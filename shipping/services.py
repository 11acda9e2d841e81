"""Shipping writes: book an order's shipment once."""
from __future__ import annotations

from django.conf import settings

from ecom_project.events.envelope import Envelope, new_event
from ecom_project.events.registry import ORDER_SHIPPED, SHIPPING_FAILED
from ecom_project.events.schemas import OrderShippedV1, ShippingFailedV1
from shipping import domain, repository
from shipping.domain import Booking, ShipmentStatus


def shipment_book(*, order_id: str, shipping_country: str | None, cause: Envelope) -> ShipmentStatus | None:
    """Book the order's shipment unless it has a shipping outcome already; returns the new status or None."""
    booking = domain.decide_booking(
        order_id=order_id, shipping_country=shipping_country, allowed_countries=settings.SHIPPING_COUNTRIES,
        failure_rate=settings.SHIPPING_FAILURE_RATE,
    )
    fields = {"status": booking.status.value, "shippingCountry": shipping_country}
    if booking.status is ShipmentStatus.SHIPPED:
        fields.update(shipmentId=booking.shipment_id, carrier=booking.carrier, trackingNumber=booking.tracking_number)
    else:
        fields["failureReason"] = booking.reason
    recorded = repository.shipment_record_outcome(
        order_id=order_id, fields=fields, events=[_outcome_event(booking, order_id=order_id, cause=cause)],
        applied_event_id=str(cause.event_id),
    )
    return booking.status if recorded else None


def _outcome_event(booking: Booking, *, order_id: str, cause: Envelope) -> Envelope:
    if booking.status is ShipmentStatus.FAILED:
        return new_event(SHIPPING_FAILED, ShippingFailedV1(order_id=order_id, reason=booking.reason), order_id=order_id, cause=cause)
    shipped = OrderShippedV1(
        order_id=order_id, shipment_id=booking.shipment_id, carrier=booking.carrier, tracking_number=booking.tracking_number,
    )
    return new_event(ORDER_SHIPPED, shipped, order_id=order_id, cause=cause)
