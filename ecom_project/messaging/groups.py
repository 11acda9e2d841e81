"""Consumer groups: starting new ones at the end of their topics, and how far behind one is."""
from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

# Errors of a partition whose leader is still being settled (a topic just created, a broker restarting).
_SETTLING = {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE, KafkaError.UNKNOWN_TOPIC_OR_PART}


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
                    ends.append(TopicPartition(topic, partition, end_offset(consumer, topic, partition, timeout=timeout)))
            if ends:
                _commit_when_coordinated(consumer, ends, timeout=timeout)
        finally:
            consumer.close()


# The group's coordinator is not settled yet (a broker that just started is still loading its offsets topic).
_COORDINATING = {KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_LOAD_IN_PROGRESS, KafkaError.COORDINATOR_NOT_AVAILABLE}


def _commit_when_coordinated(consumer: Consumer, offsets: list[TopicPartition], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            consumer.commit(offsets=offsets, asynchronous=False)
            return
        except KafkaException as exc:
            error = exc.args[0]
            if not (error.retriable() or error.code() in _COORDINATING) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def end_offset(consumer: Consumer, topic: str, partition: int, *, timeout: float = 15.0) -> int:
    """The partition's high watermark."""
    return watermarks(consumer, topic, partition, timeout=timeout)[1]


def watermarks(consumer: Consumer, topic: str, partition: int, *, timeout: float = 15.0) -> tuple[int, int]:
    """The partition's (low, high) watermarks. Right after a topic is created its leader may not serve
    offsets yet (NOT_LEADER_FOR_PARTITION): ask again until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout)
        except KafkaException as exc:
            error = exc.args[0]
            if not (error.retriable() or error.code() in _SETTLING) or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def group_lag(bootstrap: str, group_id: str, topics: Sequence[str], *, timeout: float = 2.0) -> int | None:
    """Messages of `topics` the group has not committed yet (high watermark minus committed offset, summed);
    None when the broker can't say. A plain client with the group's id reads the committed offsets
    without joining the group."""
    client = Consumer({"bootstrap.servers": bootstrap, "group.id": group_id, "enable.auto.commit": False,
                       "client.id": f"lag-{uuid.uuid4().hex[:6]}"})
    try:
        metadata = client.list_topics(timeout=timeout).topics
        partitions = [TopicPartition(t, p) for t in topics if t in metadata for p in metadata[t].partitions]
        if not partitions:
            return None
        total = 0
        for committed in client.committed(partitions, timeout=timeout):
            low, high = client.get_watermark_offsets(committed, timeout=timeout, cached=False)
            position = committed.offset if committed.offset >= 0 else low
            if high < position:  # an answer that cannot be right counts as "not reported"
                return None
            total += high - position
        return total
    except KafkaException:
        return None
    finally:
        client.close()
