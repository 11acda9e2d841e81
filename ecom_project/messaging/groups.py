"""Consumer groups: starting new ones at the end of their topics, and how far behind one is."""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping, Sequence

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

# Errors of a partition whose leader is still being settled (a topic just created, a broker restarting).
_SETTLING = {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE, KafkaError.UNKNOWN_TOPIC_OR_PART}


# A lag probe's or an offsets read's failures reach its caller as KafkaException (-> "not reported");
# librdkafka's own lines about them (a refused connection, several times a second per client) would flood
# stderr while the broker is down, e.g. after Ctrl-C of `make run`, where the back-pressure probe outlives
# the local Kafka by a moment, or in an outage drill.
QUIET_CLIENT = {"log_level": 2}


def quiet_admin(bootstrap: str, name: str, **config: object) -> AdminClient:
    """An admin client of its own connection, named `name-xxxxxx`, quiet about a broker that is down."""
    return AdminClient({**QUIET_CLIENT, "bootstrap.servers": bootstrap, "client.id": f"{name}-{uuid.uuid4().hex[:6]}",
                        **config})


def start_groups_at_end(bootstrap: str, groups: Mapping[str, Sequence[str]], *, timeout: float = 15.0) -> None:
    """Commit, for each new group, the current end of every partition of its topics: the group then reads
    only what is produced from now on. For drills and tests on a broker with history (a fresh group
    with `auto.offset.reset=earliest` would replay every earlier run's events)."""
    admin = quiet_admin(bootstrap, "start-at-end")
    for group, topics in groups.items():
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
                             "client.id": f"start-at-end-{uuid.uuid4().hex[:6]}"})
        try:
            metadata = consumer.list_topics(timeout=timeout).topics
            tps = [TopicPartition(topic, partition) for topic in topics for partition in metadata[topic].partitions]
            ends = list_offsets(admin, tps, OffsetSpec.latest(), timeout=timeout)
            if ends:
                _commit_when_coordinated(consumer, [TopicPartition(t, p, offset) for (t, p), offset in ends.items()],
                                         timeout=timeout)
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


def list_offsets(admin: AdminClient, tps: Iterable[TopicPartition], spec: OffsetSpec, *,
                 timeout: float = 15.0) -> dict[tuple[str, int], int]:
    """Per partition of `tps`, its offset by `spec` (earliest, latest) in one ListOffsets request, asked
    again while a leader is settling, until `timeout`. An admin client's own connection: not queued behind
    a consumer's long-poll fetch as Consumer.get_watermark_offsets is (up to fetch.wait.max.ms per call)."""
    requests = {TopicPartition(tp.topic, tp.partition): spec for tp in tps}
    if not requests:
        return {}
    deadline = time.monotonic() + timeout
    while True:
        try:
            futures = admin.list_offsets(requests, request_timeout=timeout)
            return {(tp.topic, tp.partition): f.result().offset for tp, f in futures.items()}
        except KafkaException as exc:
            error = exc.args[0]
            if not (error.retriable() or error.code() in _SETTLING) or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class LagReader:
    """Consumer-group lag as the broker reports it (high watermark minus committed offset), in few requests:
    one metadata request, one ListOffsets for the high watermarks of every partition concerned, one
    OffsetFetch per group (and, only for partitions a group never committed, one ListOffsets for their low
    watermarks). Raises KafkaException when the broker can't answer. Keep one for repeated reads (its
    clients are reused) and close() it."""

    def __init__(self, bootstrap: str, *, timeout: float = 2.0) -> None:
        self.bootstrap = bootstrap
        self.timeout = timeout
        self.admin = quiet_admin(bootstrap, "lag", **{"socket.timeout.ms": int(timeout * 1000)})
        self._readers: dict[str, Consumer] = {}

    def close(self) -> None:
        for reader in self._readers.values():
            reader.close()
        self._readers.clear()

    def _committed_reader(self, group: str) -> Consumer:
        """A plain client with the group's id: it reads the committed offsets without joining the group.
        Not AdminClient.list_consumer_group_offsets: on a group that never committed, answered first with
        NOT_COORDINATOR, librdkafka (confluent-kafka 2.16) crashes the process in it (it has no group
        handle to re-query the coordinator with); a Consumer has one."""
        if group not in self._readers:
            self._readers[group] = Consumer({**QUIET_CLIENT, "bootstrap.servers": self.bootstrap, "group.id": group,
                                             "enable.auto.commit": False, "client.id": f"lag-{uuid.uuid4().hex[:6]}"})
        return self._readers[group]

    def partitions(self, topics: Iterable[str]) -> dict[str, list[TopicPartition]]:
        """The partitions of each of `topics` the broker knows (unknown topics are left out)."""
        known = self.admin.list_topics(timeout=self.timeout).topics
        return {t: [TopicPartition(t, p) for p in known[t].partitions] for t in set(topics) if t in known}

    def offsets(self, tps: Sequence[TopicPartition], spec: OffsetSpec) -> dict[tuple[str, int], int]:
        return list_offsets(self.admin, tps, spec, timeout=self.timeout)

    def high(self, tps: Sequence[TopicPartition]) -> dict[tuple[str, int], int]:
        return self.offsets(tps, OffsetSpec.latest())

    def lag(self, group: str, tps: Sequence[TopicPartition], high: Mapping[tuple[str, int], int]) -> dict[tuple[str, int], int]:
        """Per partition of `tps`: messages `group` has not committed yet (a partition it never committed
        counts from its low watermark). Negative when the broker's answers disagree."""
        if not tps:
            return {}
        answer = self._committed_reader(group).committed([TopicPartition(tp.topic, tp.partition) for tp in tps],
                                                         timeout=self.timeout)
        committed = {(tp.topic, tp.partition): tp.offset for tp in answer}
        never = [tp for tp in tps if committed.get((tp.topic, tp.partition), -1) < 0]
        position = {**committed, **self.offsets(never, OffsetSpec.earliest())}
        return {key: high[key] - position[key] for key in ((tp.topic, tp.partition) for tp in tps)}

    def group_lag(self, group: str, topics: Sequence[str]) -> int | None:
        """Messages of `topics` the group has not committed yet, summed; None when the broker can't say (or
        gives answers that cannot be right). Reads committed offsets without joining the group."""
        try:
            tps = [tp for tps in self.partitions(topics).values() for tp in tps]
            if not tps:
                return None
            behind = self.lag(group, tps, self.high(tps))
        except KafkaException:
            return None
        if any(n < 0 for n in behind.values()):
            return None
        return sum(behind.values())


def group_lag(bootstrap: str, group_id: str, topics: Sequence[str], *, timeout: float = 2.0) -> int | None:
    """`LagReader.group_lag` once, with a reader of its own."""
    reader = LagReader(bootstrap, timeout=timeout)
    try:
        return reader.group_lag(group_id, topics)
    finally:
        reader.close()
