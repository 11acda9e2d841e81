"""Oversized and malformed events on every topic become dead letters; the consumers keep flowing."""
from __future__ import annotations

import random
import uuid

import pytest

from loadlab.chaos.injector import poison_message
from loadlab.chaos.invariants import dead_letters_are_the_poison
from ecom_project.events.registry import EVENT_TOPICS
from ecom_project.messaging.consumers import all_consumer_specs
from ecom_project.messaging.deadletters import dead_letters
from ecom_project.messaging.producer import Publisher
from ecom_project.messaging.worker import Worker
from inventory import services as stock_services
from tests.support import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
KINDS = ("poison.garbage", "poison.schema", "poison.oversized")


def test_poison_on_every_topic_is_dead_lettered_by_each_consumer_and_orders_still_ship(own_broker, client):
    stock_services.stock_seed(skus=1, qty=100)
    specs = all_consumer_specs()
    worker = Worker(specs, group_suffix=f".poison{uuid.uuid4().hex[:8]}", start_at_end=True).start()
    try:
        assert worker.wait_assigned(60)
        rng = random.Random(20261125)
        poison = [(f"poison-{kind[7:]}-{n}", topic) for n, topic in enumerate(EVENT_TOPICS) for kind in KINDS]
        messages = [(topic, key, poison_message(f"poison.{key.split('-')[1]}", topic=topic, key=key, rng=rng))
                    for key, topic in poison]
        Publisher().publish(messages)
        response = client.post("/api/orders", {"items": [{"sku": "SKU-1", "qty": 1}], "total": 5},
                               content_type="application/json")
        order_id = response.json()["orderId"]
        wait_until(lambda: client.get(f"/api/orders/{order_id}").json()["status"] == "SHIPPED", timeout=60,
                   message="an order placed after the poison ships")
        subscribers = {topic: {s.name for s in specs if topic in s.topics} for topic in EVENT_TOPICS}
        expected = sum(len(subscribers[topic]) for _, topic in poison)
        wait_until(lambda: dead_letters().count_documents({}) >= expected, timeout=60, message="all dead letters stored")
        check = dead_letters_are_the_poison(list(dead_letters().find({})), poison, subscribers)
        assert check.ok, check.line()
        assert worker.alive(), worker.errors
    finally:
        worker.stop()
