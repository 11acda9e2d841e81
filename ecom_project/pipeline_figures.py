"""The broker's view of how far behind the pipeline is (backpressure.py): the groups' lag and the orders
accepted but not finished, read with one messaging.groups.LagReader per refresh. No store access."""
from __future__ import annotations

import time
from collections import deque

from confluent_kafka import KafkaException
from django.conf import settings

from ecom_project.backpressure import ACCEPTED_TOPICS, FINAL_TOPICS, Figures, outbox_backlog
from ecom_project.messaging.consumers import all_consumer_specs
from ecom_project.messaging.groups import LagReader

TIMEOUT_S = 2.0
RATE_WINDOW_S = 10.0  # the finishing rate is measured over this many seconds of refreshes
# What a refresh may reuse, so that an idle pipeline costs the broker one ListOffsets per refresh instead of a
# metadata request, a ListOffsets and an OffsetFetch per group (measured: 6 % of a core of the local Kafka and
# 3 % of the pipeline's at the default 500 ms refresh):
PARTITIONS_TTL_S = 30.0  # the topics' partitions are read again after this long (or when a read fails)
CAUGHT_UP_TTL_S = 5.0  # every group caught up and no event produced since: their lag is read again after this long


class BrokerFigures:
    def __init__(self, brokers: str | None = None, groups: dict[str, list[str]] | None = None) -> None:
        self._brokers = brokers
        self._groups = groups
        self._reader: LagReader | None = None
        self._never_finishing: int | None = None
        self._finished: deque[tuple[float, int]] = deque()  # (monotonic time, final events so far)
        self._events_seen: int | None = None  # every high watermark summed, as of the last refresh
        self._partitions: tuple[float, dict[str, list]] | None = None  # (read at, topic -> partitions)
        self._lag: tuple[float, dict[str, int]] | None = None  # (read at, group -> lag)

    def groups(self) -> dict[str, list[str]]:
        if self._groups is None:
            self._groups = {spec.group_id: spec.topics for spec in all_consumer_specs()}
        return self._groups

    def measure(self) -> Figures:
        brokers = self._brokers or settings.KAFKA_BROKERS
        if not brokers:
            return Figures(outbox_backlog=outbox_backlog())
        if self._reader is None:
            self._reader = LagReader(brokers, timeout=TIMEOUT_S)
        reader = self._reader
        now = time.monotonic()
        try:
            partitions = self._known_partitions(reader, now)
            high = reader.high([tp for tps in partitions.values() for tp in tps])
        except KafkaException:
            self._partitions = None  # a topic made anew or gone: read them again next time
            raise
        events = sum(high.values())
        quiet, self._events_seen = events == self._events_seen, events
        if quiet and self._lag and not any(self._lag[1].values()) and now - self._lag[0] < CAUGHT_UP_TTL_S:
            lag = self._lag[1]  # nothing was produced, so nothing can be behind
        else:
            lag = {group: sum(max(0, n) for n in reader.lag(group, [tp for t in ts for tp in partitions.get(t, [])], high).values())
                   for group, ts in self.groups().items()}
            self._lag = (now, lag)

        def count(names: tuple[str, ...]) -> int:
            return sum(high[(tp.topic, tp.partition)] for t in names for tp in partitions.get(t, []))

        finished = count(FINAL_TOPICS)
        return Figures(consumer_lag=lag, in_flight=self.in_flight(count(ACCEPTED_TOPICS) - finished, lag, quiet=quiet),
                       outbox_backlog=outbox_backlog(), finished_per_second=self.finishing_rate(finished))

    def _known_partitions(self, reader: LagReader, now: float) -> dict[str, list]:
        if self._partitions is not None and now - self._partitions[0] < PARTITIONS_TTL_S:
            return self._partitions[1]
        topics = {t for ts in self.groups().values() for t in ts} | set(ACCEPTED_TOPICS) | set(FINAL_TOPICS)
        partitions = reader.partitions(topics)
        # Kept only when every topic exists: before create_topics ran, the next refresh looks again.
        self._partitions = (now, partitions) if len(partitions) == len(topics) else None
        return partitions

    def finishing_rate(self, finished: int, now: float | None = None) -> float:
        """Orders finished per second over the last RATE_WINDOW_S (0 until a second time is known). Final
        events that go backwards (topics made anew) start the window again."""
        now = time.monotonic() if now is None else now
        samples = self._finished
        if samples and finished < samples[-1][1]:
            samples.clear()
        samples.append((now, finished))
        while len(samples) > 2 and now - samples[1][0] >= RATE_WINDOW_S:
            samples.popleft()
        first_at, first = samples[0]
        return round((finished - first) / (now - first_at), 1) if now > first_at else 0.0

    def in_flight(self, unfinished: int, lag: dict[str, int], *, quiet: bool = True) -> int:
        """Orders that will never finish on their own (a dead-lettered step) are not in flight: the
        unfinished count when the pipeline last stood still is taken off, lowered as orders finish.
        Standing still is every group caught up and no event produced since the last refresh (`quiet`):
        under load every group can be caught up for an instant while its next events are on their way."""
        if quiet and not any(lag.values()):
            self._never_finishing = unfinished
        elif self._never_finishing is not None:
            self._never_finishing = min(self._never_finishing, unfinished)
        return max(0, unfinished - (self._never_finishing or 0))
