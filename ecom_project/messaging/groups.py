"""Consumer groups that start at the end of their topics instead of at the beginning."""
from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from confluent_kafka import Consumer, TopicPartition


def start_groups_at_end(bootstrap: str, groups: Mapping[str, Sequence[str]], *, timeout: float = 15.0) -> None:
    """Commit, for each new group, the current end of every partition of its topics: the group then reads
    only what is produced from now on. For drills and tests on a broker with history (a fresh group
    with `auto.offset.reset=earliest` would replay every earlier run's events)."""
    for group, topics in groups.items():
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
                             "client.id": f"start-at-end-{uuid.uuid4().hex[:6]}"})
        try:
            metadata = consumer.list_topics(timeout=timeout).topics
            ends = []
            for topic in topics:
                for partition in metadata[topic].partitions:
                    _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout)
                    ends.append(TopicPartition(topic, partition, high))
            if ends:
                consumer.commit(offsets=ends, asynchronous=False)
        finally:
            consumer.close()
