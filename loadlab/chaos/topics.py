"""Reading topics from the beginning to their end, for the drill's ledger and its duplicate fault."""
from __future__ import annotations

from collections.abc import Iterator

from ecom_project.messaging import reading


def read_from_beginning(topics: list[str], *, max_seconds: float = 300.0,
                        limit: int | None = None) -> Iterator[tuple[str, bytes | None, bytes | None]]:
    """(topic, key, value) of every message up to the topics' end offsets as of the call, or the first
    `limit`. Raises TimeoutError after `max_seconds`, KafkaException when the broker can't be asked."""
    consumer = reading.reader(topics, name="chaos-reader")
    try:
        seen = 0
        for messages in reading.batches_to_end(consumer, max_seconds=max_seconds):
            for message in messages:
                yield message.topic(), message.key(), message.value()
                seen += 1
                if limit is not None and seen >= limit:
                    return
    finally:
        consumer.close()
