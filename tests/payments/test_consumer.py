"""The payments consumer against the real embedded broker: events in, outcomes out on their topics."""
from __future__ import annotations

import pytest

from ecom_project.events.envelope import decode
from ecom_project.events.registry import PAYMENT_AUTHORIZED, PAYMENT_FAILED, PAYMENT_REFUNDED, topic_of
from ecom_project.messaging.producer import Publisher
from payments.handlers import CONSUMER
from payments.selectors import payment_get
from tests.payments.conftest import inventory_reserved, new_order_id, shipping_failed
from tests.support import read_to_end, read_topic, settled, wait_until

pytestmark = pytest.mark.integration


def publish(*events) -> None:
    publisher = Publisher()
    publisher.publish([(e.topic, e.key, e.to_json()) for e in events])
    publisher.close()


@pytest.fixture(scope="module")
def worker(start_module_worker):
    """Payments and shipping, shared by the module's tests (each with order ids of its own)."""
    from shipping.handlers import CONSUMER as SHIPPING_CONSUMER

    return start_module_worker([CONSUMER, SHIPPING_CONSUMER])


def published(event_type: str, order_id: str, expect: int = 1) -> list:
    return [decode(m.value()) for m in read_topic(topic_of(event_type), key=order_id, expect=expect)]


def test_reservation_becomes_authorisation_or_decline_on_the_topics(worker):
    approved, declined = new_order_id(), new_order_id()
    reserved = inventory_reserved(approved, total="5000.00")
    publish(reserved, reserved, inventory_reserved(declined, total="5000.01"))
    [authorized] = published(PAYMENT_AUTHORIZED, approved)
    assert authorized.causation_id == str(reserved.event_id) and authorized.correlation_id == reserved.correlation_id
    assert authorized.payload["amount"] == "5000.00" and authorized.payload["shippingCountry"] == "US"
    [failed] = published(PAYMENT_FAILED, declined)
    assert "exceeds the authorisation limit" in failed.payload["reason"]
    wait_until(lambda: payment_get(order_id=declined), message="decline stored")


def test_shipping_failure_becomes_one_refund_on_the_topic(worker):
    order_id = new_order_id()
    failed = shipping_failed(order_id)
    publish(inventory_reserved(order_id))
    wait_until(lambda: (payment_get(order_id=order_id) or {}).get("status") == "AUTHORIZED", message="authorised")
    publish(failed, failed)
    [refunded] = published(PAYMENT_REFUNDED, order_id)
    assert refunded.payload["paymentId"] == payment_get(order_id=order_id)["paymentId"]
    assert refunded.causation_id == str(failed.event_id)
    wait_until(lambda: settled(worker), message="the redelivery handled")
    assert len(read_to_end(topic_of(PAYMENT_REFUNDED), keys={order_id})) == 1, "the duplicate refunded nothing"


def test_shipping_failure_downstream_ends_in_a_refund(worker, settings):
    """payments and shipping together: reserved -> authorised -> carrier refuses -> refunded."""
    settings.SHIPPING_COUNTRIES = ["US"]
    order_id = new_order_id()
    publish(inventory_reserved(order_id, country="BR"))
    [refunded] = published(PAYMENT_REFUNDED, order_id)
    assert refunded.payload["reason"] == "shipping failed: the carrier does not ship to BR"
    wait_until(lambda: payment_get(order_id=order_id)["status"] == "REFUNDED", message="refund stored")
