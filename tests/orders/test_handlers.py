"""The orders consumer against the real embedded broker: orders come in over HTTP, the
other services' events are published as those services would publish them."""
from __future__ import annotations

from decimal import Decimal

import pytest

from ecom_project.events import registry as ev
from ecom_project.events.envelope import decode, new_event
from ecom_project.events.schemas import (
    InventoryReleasedV1, InventoryReservedV1, Line, OrderShippedV1, PaymentAuthorizedV1, PaymentFailedV1,
)
from ecom_project.messaging.producer import Publisher
from orders import repository
from orders.handlers import CONSUMER
from tests.orders.conftest import GOOD_BODY
from tests.support import read_to_end, read_topic, settled, wait_until

pytestmark = pytest.mark.integration
LINES = [Line(sku="SKU-1", qty=2)]


def publish(*events) -> None:
    publisher = Publisher()
    publisher.publish([(e.topic, e.key, e.to_json()) for e in events])
    publisher.close()


def status_of(order_id: str) -> str:
    return repository.order_find(order_id)["status"]


def reserved(order_id):
    return new_event(ev.INVENTORY_RESERVED, InventoryReservedV1(
        order_id=order_id, items=LINES, total=Decimal("19.99"), currency="USD"), order_id=order_id)


def test_order_reaches_shipped_and_its_order_created_is_published_once(post_order, start_worker):
    worker = start_worker([CONSUMER])
    order_id = post_order(GOOD_BODY).json()["orderId"]
    created = read_topic(ev.topic_of(ev.ORDER_CREATED), key=order_id)
    assert len(created) == 1
    order_created = decode(created[0].value())
    steps = [
        reserved(order_id),
        new_event(ev.PAYMENT_AUTHORIZED, PaymentAuthorizedV1(
            order_id=order_id, payment_id="pay-1", amount=Decimal("19.99"), currency="USD"), order_id=order_id),
        new_event(ev.ORDER_SHIPPED, OrderShippedV1(
            order_id=order_id, shipment_id="s-1", carrier="SIM", tracking_number="T1"), order_id=order_id),
    ]
    for step, status in zip(steps, ["INVENTORY_RESERVED", "PAYMENT_AUTHORIZED", "SHIPPED"]):
        publish(step, step)  # each delivered twice: applied once
        wait_until(lambda: status_of(order_id) == status, message=status)
    publish(steps[0])  # a late duplicate changes nothing
    wait_until(lambda: settled(worker), message="the late duplicate handled")
    history = [h["status"] for h in repository.order_find(order_id)["statusHistory"]]
    assert history == ["PENDING", "INVENTORY_RESERVED", "PAYMENT_AUTHORIZED", "SHIPPED"]
    assert order_created.payload["orderId"] == order_id and order_created.payload["total"] == "19.99"
    assert len(read_to_end(ev.topic_of(ev.ORDER_CREATED), keys={order_id})) == 1


def test_payment_decline_cancels_only_after_the_release(post_order, start_worker):
    start_worker([CONSUMER])
    order_id = post_order(GOOD_BODY).json()["orderId"]
    declined = new_event(ev.PAYMENT_FAILED, PaymentFailedV1(
        order_id=order_id, amount=Decimal("19.99"), currency="USD", reason="declined"), order_id=order_id)
    publish(reserved(order_id), declined)
    wait_until(lambda: repository.order_find(order_id)["facts"].get("paymentFailed"), message="decline recorded")
    assert status_of(order_id) == "INVENTORY_RESERVED"
    publish(new_event(ev.INVENTORY_RELEASED, InventoryReleasedV1(
        order_id=order_id, items=LINES, reason="payment failed"), order_id=order_id))
    wait_until(lambda: status_of(order_id) == "CANCELLED", message="order CANCELLED")
    publish(reserved(order_id))  # a late InventoryReserved after CANCELLED changes nothing
    wait_until(lambda: len(repository.order_find(order_id)["appliedEvents"]) == 4, message="late event consumed")
    late = repository.order_find(order_id)
    assert late["status"] == "CANCELLED" and [h["status"] for h in late["statusHistory"]][-2:] == [
        "INVENTORY_RESERVED", "CANCELLED"]
