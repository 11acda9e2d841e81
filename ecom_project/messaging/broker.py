"""Topics: every pipeline topic of DESIGN §5 (and its DLQ) is created explicitly; auto-create stays off."""
from __future__ import annotations

import time

from confluent_kafka.admin import AdminClient, NewTopic


def create_topics(bootstrap: str, *, partitions: int, topics: list[str] | None = None, timeout: float = 15.0) -> list[str]:
    """Create every pipeline topic (its DLQ, each consumer's retry topic) that does not exist yet; returns those created."""
    from ecom_project.events.registry import ALL_TOPICS, retry_topic
    from ecom_project.messaging.consumers import consumer_names

    wanted = topics or ALL_TOPICS + [retry_topic(name) for name in consumer_names()]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=timeout).topics)
    missing = [t for t in wanted if t not in existing]
    if not missing:
        return []
    futures = admin.create_topics(
        [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in missing], operation_timeout=timeout
    )
    for topic, future in futures.items():
        try:
            future.result(timeout)
        except Exception as exc:  # already created by a concurrent caller is fine
            if "TOPIC_ALREADY_EXISTS" not in str(exc) and "already exists" not in str(exc):
                raise
    _wait_for_leaders(admin, missing, timeout=timeout)
    return missing


def _wait_for_leaders(admin: AdminClient, topics: list[str], *, timeout: float) -> None:
    """Kafka answers CreateTopics before every partition has a leader; a client that asks for offsets
    in between gets NOT_LEADER_FOR_PARTITION. Return once all of them have one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        metadata = admin.list_topics(timeout=timeout).topics
        if all(t in metadata and metadata[t].error is None and metadata[t].partitions
               and all(p.leader >= 0 and p.error is None for p in metadata[t].partitions.values()) for t in topics):
            return
        time.sleep(0.1)
    raise TimeoutError(f"topics without a partition leader after {timeout:.0f} s: {', '.join(topics)}")
