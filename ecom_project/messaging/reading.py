"""Reading topics from the beginning up to their current end, without a consumer group (partitions are
assigned by hand: no join wait, no committed offsets touched). For rebuilds, drills and audits."""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Message, TopicPartition
from confluent_kafka.admin import OffsetSpec
from django.conf import settings

from ecom_project.messaging.groups import list_offsets, quiet_admin
from ecom_project.messaging.producer import bootstrap_servers


class MissingTopics(LookupError):
    """A topic to read does not exist on the broker."""


def reader(topics: Sequence[str], *, name: str) -> Consumer:
    """A consumer assigned every partition of `topics`, from the beginning. Raises MissingTopics."""
    consumer = Consumer({
        **settings.KAFKA_CONSUMER, "bootstrap.servers": bootstrap_servers(),
        "group.id": f"{name}-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False, "enable.partition.eof": False,
    })
    try:
        metadata = consumer.list_topics(timeout=10).topics
        missing = [t for t in topics if t not in metadata]
        if missing:
            raise MissingTopics(", ".join(missing))
        consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t in topics for p in metadata[t].partitions])
    except BaseException:
        consumer.close()
        raise
    return consumer


def ends_now(consumer: Consumer, *, timeout: float = 10.0) -> dict[tuple[str, int], int]:
    """The high watermark of every partition assigned to `consumer`, as of now (one request for all)."""
    return _offsets(consumer.assignment(), OffsetSpec.latest(), timeout=timeout)


def _offsets(tps: Sequence[TopicPartition], spec: OffsetSpec, *, timeout: float) -> dict[tuple[str, int], int]:
    if not tps:
        return {}
    return list_offsets(quiet_admin(bootstrap_servers(), "reading"), tps, spec, timeout=timeout)


def batches_to_end(consumer: Consumer, *, max_seconds: float, ends: dict[tuple[str, int], int] | None = None,
                   batch: int = 500, timeout: float = 10.0) -> Iterator[list[Message]]:
    """Batches of the assigned partitions' messages up to `ends` (by default the high watermark each
    partition has when the call begins); a next call goes on from exactly there. Raises TimeoutError after
    `max_seconds`.

    The end is the broker's own figure, not a quiet spell: a slow first fetch on a busy machine does not
    end the read early, and a busy topic does not keep it going for ever."""
    ends = ends_now(consumer, timeout=timeout) if ends is None else ends
    # A partition with no position yet (before its first fetch) starts at its low watermark.
    positions = {(tp.topic, tp.partition): tp.offset for tp in consumer.position(consumer.assignment())}
    unknown = [TopicPartition(t, p) for (t, p), offset in positions.items() if offset < 0]
    positions.update(_offsets(unknown, OffsetSpec.earliest(), timeout=timeout))
    remaining = {where for where, position in positions.items() if position < ends[where]}
    finished = [TopicPartition(t, p) for (t, p) in ends if (t, p) not in remaining]
    consumer.pause(finished)  # nothing to read there: don't fetch what is produced meanwhile
    deadline = time.monotonic() + max_seconds
    try:
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(remaining)} partition(s) not read to their end after {max_seconds:.0f}s")
            messages, done, overshot = [], [], set()
            for message in consumer.consume(batch, timeout=0.2):
                if message.error():
                    continue
                where = (message.topic(), message.partition())
                if message.offset() >= ends[where]:  # produced since the call began: the next call's
                    overshot.add(where)
                    continue
                messages.append(message)
                if message.offset() + 1 >= ends[where]:
                    remaining.discard(where)
                    done.append(TopicPartition(*where))
            if done:
                consumer.pause(done)
                finished += done
            for topic, partition in overshot:  # read again from the end by the next call
                consumer.seek(TopicPartition(topic, partition, ends[(topic, partition)]))
            if messages:
                yield messages
    finally:
        try:
            consumer.resume(finished)  # a next call reads on from the end
        except (KafkaException, RuntimeError):  # the caller closed the consumer already
            pass


def read_to_end(topics: Sequence[str], *, name: str, max_seconds: float) -> Iterator[Message]:
    """Every message of `topics` from the beginning up to their end offsets as of the call, with a reader of
    its own (opened and closed here)."""
    consumer = reader(topics, name=name)
    try:
        for messages in batches_to_end(consumer, max_seconds=max_seconds):
            yield from messages
    finally:
        consumer.close()
