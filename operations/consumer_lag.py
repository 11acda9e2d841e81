"""Consumer-group lag as the broker reports it: high watermark minus committed offset.

Tansu reports wrong watermarks (BROKER.md), so an answer that cannot be right (negative)
counts as "not reported" rather than as a figure."""
from __future__ import annotations

import uuid

from confluent_kafka import Consumer, KafkaException, TopicPartition
from django.conf import settings

TIMEOUT_S = 2.0


def group_lag(*, group_id: str, topics: list[str]) -> int | None:
    if not settings.KAFKA_BROKERS or not topics:
        return None
    # A plain client with the group's id reads its committed offsets without joining the group.
    client = Consumer({"bootstrap.servers": settings.KAFKA_BROKERS, "group.id": group_id,
                       "enable.auto.commit": False, "client.id": f"ops-lag-{uuid.uuid4().hex[:6]}"})
    try:
        return _lag(client, topics)
    except KafkaException:
        return None
    finally:
        client.close()


def _lag(client: Consumer, topics: list[str]) -> int | None:
    metadata = client.list_topics(timeout=TIMEOUT_S).topics
    partitions = [TopicPartition(t, p) for t in topics if t in metadata for p in metadata[t].partitions]
    if not partitions:
        return None
    total = 0
    for committed in client.committed(partitions, timeout=TIMEOUT_S):
        low, high = client.get_watermark_offsets(committed, timeout=TIMEOUT_S, cached=False)
        position = committed.offset if committed.offset >= 0 else low
        if high < position:
            return None
        total += high - position
    return total
