"""The raw broker's ceiling: produce N pipeline-sized events and consume them back in a consumer
group with the project's own settings (KAFKA_PRODUCER / KAFKA_CONSUMER), committing every batch
as the runner does. No store, no handlers: what the pipeline is compared against."""
from __future__ import annotations

import logging
import threading
import time
import uuid
from decimal import Decimal

from confluent_kafka import Consumer, Producer
from django.conf import settings

from ecom_project.events.envelope import new_event
from ecom_project.events.registry import ORDER_CREATED, topic_of
from ecom_project.events.schemas import Line, OrderCreatedV1


def sample_event(order_id: str) -> bytes:
    """A real envelope, so message sizes match what the pipeline moves."""
    payload = OrderCreatedV1(order_id=order_id, items=[Line(sku="SKU-1", qty=1)], total=Decimal("42.00"))
    return new_event(ORDER_CREATED, payload, order_id=order_id).to_json()


class _Drain(threading.Thread):
    def __init__(self, bootstrap: str, topic: str, expected: int, timeout: float) -> None:
        super().__init__(name="raw-broker-consumer", daemon=True)
        self.consumer = Consumer({**settings.KAFKA_CONSUMER, "bootstrap.servers": bootstrap,
                                  "group.id": f"bench-raw-{uuid.uuid4().hex[:8]}",
                                  "logger": logging.getLogger("kafka.consumer")})
        self.consumer.subscribe([topic], on_assign=lambda c, p: self.assigned.set())
        self.assigned = threading.Event()
        self.expected, self.timeout = expected, timeout
        self.received = 0
        self.last_at = 0.0

    def run(self) -> None:
        deadline = time.monotonic() + self.timeout
        while self.received < self.expected and time.monotonic() < deadline:
            messages = self.consumer.consume(500, timeout=0.1)
            good = [m for m in messages if not m.error()]
            if good:
                self.received += len(good)
                self.last_at = time.monotonic()
                self.consumer.commit(asynchronous=False)
        self.consumer.close()

    def wait_assigned(self, timeout: float) -> bool:
        """librdkafka joins the group only while it is polled; the thread polls, this waits."""
        return self.assigned.wait(timeout)


def raw_broker_roundtrip(*, bootstrap: str, events: int, timeout: float = 120.0, on_progress=None) -> dict:
    """events/s from the first produce to the last consumed message; keys spread like orderIds."""
    topic = topic_of(ORDER_CREATED)
    drain = _Drain(bootstrap, topic, events, timeout)
    drain.start()
    if not drain.wait_assigned(30):
        raise RuntimeError("raw-broker consumer got no partition assignment in 30 s")
    producer = Producer({**settings.KAFKA_PRODUCER, "bootstrap.servers": bootstrap,
                         "logger": logging.getLogger("kafka.producer")})
    keys = [uuid.uuid4().hex for _ in range(max(1, events // 4))]
    values = {key: sample_event(key) for key in keys[:64]}
    started = time.monotonic()
    for index in range(events):
        key = keys[index % len(keys)]
        _produce(producer, topic, key, values[keys[index % 64]])
        if on_progress and index % 5000 == 0:
            on_progress(index, drain.received)
    producer.flush(30)
    produced_at = time.monotonic()
    drain.join(timeout)
    seconds = (drain.last_at or time.monotonic()) - started
    return {
        "events": events, "received": drain.received, "seconds": round(seconds, 3),
        "eventsPerSecond": round(drain.received / seconds, 1) if seconds > 0 else 0.0,
        "produceEventsPerSecond": round(events / max(produced_at - started, 1e-9), 1),
        "messageBytes": len(values[keys[0]]),
    }


def _produce(producer, topic: str, key: str, value: bytes) -> None:
    for _ in range(1000):  # local queue full: serve deliveries and try again, bounded
        try:
            producer.produce(topic, value=value, key=key.encode())
            producer.poll(0)
            return
        except BufferError:
            producer.poll(0.01)
    raise RuntimeError("producer queue stayed full for 10 s")
