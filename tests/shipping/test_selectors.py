"""Shipment reads for operator pages."""
from __future__ import annotations

from shipping import handlers
from shipping.selectors import shipment_get
from tests.shipping.conftest import new_order_id, payment_authorized


def test_shipment_get_hides_the_outbox_and_the_guard():
    order_id = new_order_id()
    handlers.on_payment_authorized(payment_authorized(order_id))
    shipment = shipment_get(order_id=order_id)
    assert shipment["_id"] == order_id and shipment["status"] == "SHIPPED" and shipment["carrier"]
    assert not {"outbox", "appliedEvents", "outboxLease"} & set(shipment)
    assert shipment_get(order_id="no-such-order") is None
