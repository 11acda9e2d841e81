"""The inventory consumer and its outbox relay against the real embedded broker."""
from __future__ import annotations

import pytest

from ecom_project.events.envelope import decode
from ecom_project.events.registry import INVENTORY_FAILED, INVENTORY_RELEASED, INVENTORY_RESERVED, topic_of
from ecom_project.messaging.producer import Publisher
from inventory import repository, services
from inventory.handlers import CONSUMER
from tests.inventory.conftest import new_order_id, order_created, payment_failed
from tests.support import read_to_end, read_topic, settled, wait_until

pytestmark = pytest.mark.integration


def publish(*events) -> None:
    publisher = Publisher()
    publisher.publish([(e.topic, e.key, e.to_json()) for e in events])
    publisher.close()


def one_event(event_type: str, order_id: str):
    [message] = read_topic(topic_of(event_type), key=order_id)
    return decode(message.value())


def available(sku: str) -> int:
    return repository.stock_find(sku)["available"]


def test_order_created_is_reserved_or_failed_and_a_payment_failure_restores_stock(start_worker):
    services.stock_seed(skus=2, qty=10)
    worker = start_worker([CONSUMER])
    fits, short = new_order_id(), new_order_id()
    created = order_created(fits, {"SKU-1": 4, "SKU-2": 1})
    publish(created, created)  # and one redelivery
    reserved = one_event(INVENTORY_RESERVED, fits)
    assert reserved.causation_id == str(created.event_id)
    assert reserved.payload["items"] == [{"sku": "SKU-1", "qty": 4}, {"sku": "SKU-2", "qty": 1}]

    publish(order_created(short, {"SKU-1": 2, "SKU-2": 50}))  # after `fits`: other keys may use other partitions
    failed = one_event(INVENTORY_FAILED, short)
    assert failed.payload["shortages"] == [{"sku": "SKU-2", "requested": 50, "available": 9}]
    # The held lines are rolled back right after the outcome is written (and its event may be out first).
    wait_until(lambda: available("SKU-1") == 6 and available("SKU-2") == 9, message="short order's holds rolled back")

    publish(payment_failed(fits))
    released = one_event(INVENTORY_RELEASED, fits)
    assert released.payload["items"] == reserved.payload["items"]
    wait_until(lambda: available("SKU-1") == 10 and available("SKU-2") == 10, message="stock restored")
    wait_until(lambda: settled(worker), message="the redelivery handled")
    assert len(read_to_end(topic_of(INVENTORY_RESERVED), keys={fits})) == 1
