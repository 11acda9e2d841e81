"""The shipping consumer against the real embedded broker: PaymentAuthorized in, outcome out on its topic."""
from __future__ import annotations

import pytest

from ecom_project.events.envelope import decode
from ecom_project.events.registry import ORDER_SHIPPED, SHIPPING_FAILED, topic_of
from ecom_project.messaging.producer import Publisher
from shipping.handlers import CONSUMER
from shipping.selectors import shipment_get
from tests.shipping.conftest import new_order_id, payment_authorized
from tests.support import read_to_end, read_topic, settled, wait_until

pytestmark = pytest.mark.integration


def publish(*events) -> None:
    publisher = Publisher()
    publisher.publish([(e.topic, e.key, e.to_json()) for e in events])
    publisher.close()


def test_authorised_payment_becomes_shipment_or_failure_on_the_topics(start_worker, settings):
    settings.SHIPPING_COUNTRIES = ["US", "DE"]
    worker = start_worker([CONSUMER])
    shipped_id, failed_id = new_order_id(), new_order_id()
    authorized = payment_authorized(shipped_id, country="DE")
    publish(authorized, authorized, payment_authorized(failed_id, country="JP"))
    [shipped] = [decode(m.value()) for m in read_topic(topic_of(ORDER_SHIPPED), key=shipped_id)]
    assert shipped.causation_id == str(authorized.event_id)
    assert shipped.payload["trackingNumber"] == shipment_get(order_id=shipped_id)["trackingNumber"]
    [failed] = [decode(m.value()) for m in read_topic(topic_of(SHIPPING_FAILED), key=failed_id)]
    assert failed.payload["reason"] == "the carrier does not ship to JP"
    wait_until(lambda: settled(worker), message="the redelivery handled")
    assert len(read_to_end(topic_of(ORDER_SHIPPED), keys={shipped_id})) == 1, "booked once"
