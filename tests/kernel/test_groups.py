"""Starting consumer groups at the end of their topics, on a broker that may still be settling."""
from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from ecom_project.messaging.groups import _commit_when_coordinated


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
