"""The broker's view of how far behind the pipeline is, read in a few admin requests (backpressure.py).

Per refresh: one metadata request, one ListOffsets for the high watermark of every partition
concerned, one OffsetFetch per consumer group (and, only for partitions a group never committed,
one ListOffsets for their low watermarks). No store access."""
from __future__ import annotations

from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec
from django.conf import settings

from ecom_project.backpressure import ACCEPTED_TOPICS, FINAL_TOPICS, Figures, outbox_backlog
from ecom_project.messaging.consumers import all_consumer_specs

TIMEOUT_S = 2.0


class BrokerFigures:
    def __init__(self, brokers: str | None = None, groups: dict[str, list[str]] | None = None) -> None:
        self._brokers = brokers
        self._groups = groups
        self._admin: AdminClient | None = None
        self._never_finishing: int | None = None

    def _client(self) -> AdminClient:
        if self._admin is None:
            self._admin = AdminClient({"bootstrap.servers": self._brokers or settings.KAFKA_BROKERS,
                                       "client.id": "backpressure", "socket.timeout.ms": int(TIMEOUT_S * 1000)})
        return self._admin

    def groups(self) -> dict[str, list[str]]:
        if self._groups is None:
            self._groups = {spec.group_id: spec.topics for spec in all_consumer_specs()}
        return self._groups

    def measure(self) -> Figures:
        if not (self._brokers or settings.KAFKA_BROKERS):
            return Figures(outbox_backlog=outbox_backlog())
        admin = self._client()
        known = admin.list_topics(timeout=TIMEOUT_S).topics
        topics = {t for ts in self.groups().values() for t in ts} | set(ACCEPTED_TOPICS) | set(FINAL_TOPICS)
        partitions = {t: [TopicPartition(t, p) for p in known[t].partitions] for t in topics if t in known}
        high = self._offsets([tp for tps in partitions.values() for tp in tps], OffsetSpec.latest())
        lag = {group: self._group_lag(group, [tp for t in ts for tp in partitions.get(t, [])], high)
               for group, ts in self.groups().items()}

        def count(names: tuple[str, ...]) -> int:
            return sum(high[(tp.topic, tp.partition)] for t in names for tp in partitions.get(t, []))

        return Figures(consumer_lag=lag, in_flight=self.in_flight(count(ACCEPTED_TOPICS) - count(FINAL_TOPICS), lag),
                       outbox_backlog=outbox_backlog())

    def in_flight(self, unfinished: int, lag: dict[str, int]) -> int:
        """Orders that will never finish on their own (a dead-lettered step) are not in flight: the
        unfinished count when every group had caught up is taken off, lowered as orders finish."""
        if not any(lag.values()):
            self._never_finishing = unfinished
        elif self._never_finishing is not None:
            self._never_finishing = min(self._never_finishing, unfinished)
        return max(0, unfinished - (self._never_finishing or 0))

    def _offsets(self, tps: list[TopicPartition], spec: OffsetSpec) -> dict[tuple[str, int], int]:
        if not tps:
            return {}
        futures = self._client().list_offsets({tp: spec for tp in tps}, request_timeout=TIMEOUT_S)
        return {(tp.topic, tp.partition): f.result().offset for tp, f in futures.items()}

    def _group_lag(self, group: str, tps: list[TopicPartition], high: dict[tuple[str, int], int]) -> int:
        if not tps:
            return 0
        request = [ConsumerGroupTopicPartitions(group, [TopicPartition(tp.topic, tp.partition) for tp in tps])]
        answer = self._client().list_consumer_group_offsets(request, request_timeout=TIMEOUT_S)[group].result()
        committed = {(tp.topic, tp.partition): tp.offset for tp in answer.topic_partitions}
        never = [tp for tp in tps if committed.get((tp.topic, tp.partition), -1) < 0]
        low = self._offsets([TopicPartition(tp.topic, tp.partition) for tp in never], OffsetSpec.earliest())
        position = {**committed, **low}
        return sum(max(0, high[key] - position[key]) for key in ((tp.topic, tp.partition) for tp in tps))
