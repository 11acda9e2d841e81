"""Reading topics from the beginning without a consumer group (manual assignment, no join wait)."""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from django.conf import settings


def read_from_beginning(topics: list[str], *, idle_seconds: float = 1.5, max_seconds: float = 300.0,
                        limit: int | None = None) -> Iterator[tuple[str, bytes | None, bytes | None]]:
    """(topic, key, value) of every message until none came for `idle_seconds` (the broker's
    end offsets are not trusted: Tansu reports them wrong), `limit` messages or `max_seconds`."""
    consumer = Consumer({
        **settings.KAFKA_CONSUMER, "bootstrap.servers": settings.KAFKA_BROKERS,
        "group.id": f"chaos-reader-{uuid.uuid4().hex[:8]}", "enable.partition.eof": False,
    })
    try:
        metadata = consumer.list_topics(timeout=10).topics
        consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t in topics for p in metadata[t].partitions])
        seen, started, last = 0, time.monotonic(), time.monotonic()
        while time.monotonic() - last < idle_seconds and time.monotonic() - started < max_seconds:
            batch = consumer.consume(1000, timeout=0.2)
            for message in batch:
                if message.error():
                    continue
                yield message.topic(), message.key(), message.value()
                seen += 1
                if limit is not None and seen >= limit:
                    return
            if batch:
                last = time.monotonic()
    finally:
        consumer.close()
