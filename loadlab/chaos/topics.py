"""Reading topics from the beginning to their end, for the drill's ledger and its duplicate fault."""
from __future__ import annotations

from collections.abc import Iterator

from ecom_project.messaging import reading


def read_from_beginning(topics: list[str], *, max_seconds: float = 300.0) -> Iterator[tuple[str, bytes | None, bytes | None]]:
    """(topic, key, value) of every message up to the topics' end offsets as of the call. Raises
    TimeoutError after `max_seconds`, KafkaException when the broker can't be asked."""
    for message in reading.read_to_end(topics, name="chaos-reader", max_seconds=max_seconds):
        yield message.topic(), message.key(), message.value()
