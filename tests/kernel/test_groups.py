"""Consumer groups: starting them at the end of their topics (on a broker that may still be settling), their lag."""
from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from ecom_project.messaging.groups import LagReader, _commit_when_coordinated, group_lag, start_groups_at_end
from tests.kernel.conftest import publish_values


class SettlingConsumer:
    """Refuses the first commits as a broker that just started does (its offsets topic still loading)."""

    def __init__(self, refusals: list[int]) -> None:
        self.refusals, self.committed = list(refusals), None

    def commit(self, *, offsets, asynchronous):
        if self.refusals:
            raise KafkaException(KafkaError(self.refusals.pop(0)))
        self.committed = offsets


def test_a_commit_refused_while_the_coordinator_settles_is_made_once_it_has():
    consumer = SettlingConsumer([KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_LOAD_IN_PROGRESS])
    offsets = [TopicPartition("t", 0, 5)]
    _commit_when_coordinated(consumer, offsets, timeout=5)
    assert consumer.committed == offsets


def test_any_other_commit_error_is_raised_at_once():
    consumer = SettlingConsumer([KafkaError.TOPIC_AUTHORIZATION_FAILED])
    with pytest.raises(KafkaException):
        _commit_when_coordinated(consumer, [TopicPartition("t", 0, 5)], timeout=5)


@pytest.mark.integration
def test_the_lag_of_a_group_that_never_committed_counts_from_the_beginning_and_is_zero_at_the_end(topic):
    """A group never seen by the broker is what a fresh deployment's back-pressure asks about first: the
    answer is a figure (librdkafka's admin OffsetFetch crashed the process on this very question)."""
    publish_values(topic, [f"m{i}" for i in range(12)])
    group = f"test.lag.{uuid.uuid4().hex[:8]}"
    assert group_lag(settings.KAFKA_BROKERS, group, [topic], timeout=10) == 12
    start_groups_at_end(settings.KAFKA_BROKERS, {group: [topic]})
    assert group_lag(settings.KAFKA_BROKERS, group, [topic], timeout=10) == 0
    publish_values(topic, ["late"])
    reader = LagReader(settings.KAFKA_BROKERS, timeout=10)
    try:
        tps = reader.partitions([topic])[topic]
        assert sum(reader.lag(group, tps, reader.high(tps)).values()) == 1
    finally:
        reader.close()


def test_the_lag_of_topics_the_broker_does_not_know_is_not_reported(engines):
    assert group_lag(settings.KAFKA_BROKERS, "test.lag.none", ["no.such.topic"], timeout=5) is None
