"""A tiny consumer used to exercise the kernel: it counts OrderCreated events per order,
emits InventoryFailed for each, and can be told to fail."""
from __future__ import annotations

import uuid
from collections import Counter
from decimal import Decimal

import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from django.conf import settings

from ecom_project.events.envelope import Envelope, new_event
from ecom_project.events.registry import INVENTORY_FAILED, ORDER_CREATED
from ecom_project.events.schemas import InventoryFailedV1, Line, OrderCreatedV1
from ecom_project.messaging.consumers import ConsumerSpec
from ecom_project.messaging.outbox import update_with_events
from ecom_project.messaging.producer import Publisher
from ecom_project.mongo import get_db


class ProbeHandler:
    """Applies OrderCreated as `count += 1` on a per-order document, guarded by event id."""

    def __init__(self) -> None:
        self.fail_times: dict[str, int] = {}  # orderId -> how many more calls raise
        self.always_fail: set[str] = set()
        self.calls = 0
        self.calls_of: Counter[str] = Counter()  # orderId -> calls: what a test sharing the handler counts

    def __call__(self, event: Envelope) -> None:
        self.calls += 1
        order_id = event.key
        self.calls_of[order_id] += 1
        if order_id in self.always_fail:
            raise RuntimeError("probe told to fail")
        if self.fail_times.get(order_id, 0) > 0:
            self.fail_times[order_id] -= 1
            raise RuntimeError("probe transient failure")
        reply = new_event(INVENTORY_FAILED, InventoryFailedV1(order_id=order_id, reason="probe"), order_id=order_id, cause=event)
        update_with_events(
            effects(), filter={"_id": order_id}, update={"$inc": {"count": 1}}, events=[reply],
            applied_event_id=str(event.event_id), upsert=True,
        )


def effects():
    return get_db()["probe_effects"]


@pytest.fixture
def probe():
    handler = ProbeHandler()
    spec = ConsumerSpec(name="probe", handlers={ORDER_CREATED: handler}, outbox_collections=lambda: [effects()])
    return handler, spec


def order_created(order_id: str | None = None) -> Envelope:
    order_id = order_id or uuid.uuid4().hex
    return new_event(
        ORDER_CREATED, OrderCreatedV1(order_id=order_id, items=[Line(sku="SKU-1", qty=1)], total=Decimal("10.00")),
        order_id=order_id,
    )


@pytest.fixture
def topic(engines):
    """A scratch topic of 3 partitions, deleted afterwards."""
    name = f"test.scratch.{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": settings.KAFKA_BROKERS})
    admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1)])[name].result(10)
    yield name
    admin.delete_topics([name])[name].result(10)


def publish_values(topic: str, values: list[str]) -> None:
    publisher = Publisher()
    publisher.publish([(topic, f"k{i % 5}", v.encode()) for i, v in enumerate(values)])
    publisher.close()
