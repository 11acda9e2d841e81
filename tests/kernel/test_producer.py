"""The Publisher: shared by threads that don't wait for each other, and a call returns only when
its own messages are acknowledged (or raises)."""
from __future__ import annotations

import threading
import uuid

import pytest
from confluent_kafka import KafkaError

from ecom_project.messaging.producer import PublishError, Publisher, _Deliveries, make_producer
from tests.support import read_topic

TOPIC = "order.OrderCreated.v1"


def test_deliveries_complete_on_the_last_report_whichever_comes_first():
    early = _Deliveries()
    early.report(None, None)
    early.report("broker said no", None)
    assert not early.complete.is_set()  # reports came before the count was known
    early.expect(2)
    assert early.complete.is_set() and early.errors == ["broker said no"] and early.missing() == 0

    late = _Deliveries()
    late.expect(1)
    assert not late.complete.is_set() and late.missing() == 1
    late.report(None, None)
    assert late.complete.is_set() and late.errors == []

    nothing = _Deliveries()
    nothing.expect(0)
    assert nothing.complete.is_set()


@pytest.mark.integration
def test_threads_sharing_one_publisher_each_get_their_own_messages_acknowledged(kafka_broker):
    publisher = Publisher()
    run = uuid.uuid4().hex[:8]
    results: dict[int, int] = {}
    errors: list[BaseException] = []

    def publish(thread: int) -> None:
        try:
            for batch in range(5):
                messages = [(TOPIC, f"{run}-{thread}", f"{thread}:{batch}:{i}".encode()) for i in range(20)]
                results[thread] = results.get(thread, 0) + publisher.publish(messages)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and results == {0: 100, 1: 100, 2: 100, 3: 100}
    for thread in range(4):  # acknowledged means stored: every message is there to read, once
        values = [m.value() for m in read_topic(TOPIC, key=f"{run}-{thread}", expect=100)]
        assert len(values) == 100 and len(set(values)) == 100


@pytest.mark.integration
def test_an_unacknowledged_publish_raises_within_its_timeout(kafka_broker):
    if kafka_broker is None:
        pytest.skip("needs the local Kafka, to pause it")
    publisher = Publisher(make_producer(**{"message.timeout.ms": 60_000}), timeout=1.0)
    kafka_broker.pause()
    try:
        with pytest.raises(PublishError, match="not acknowledged within 1s"):
            publisher.publish([(TOPIC, "k", b"v")])
    finally:
        kafka_broker.resume()


class FakeProducer:
    """Acknowledges every message with `error` (None = success) when polled."""

    def __init__(self, error: object = None) -> None:
        self.error = error
        self.waiting: list = []
        self.produced = 0

    def produce(self, topic, value, key, on_delivery) -> None:
        self.produced += 1
        self.waiting.append(on_delivery)

    def poll(self, _timeout: float) -> int:
        served, self.waiting = self.waiting, []
        for report in served:
            report(self.error, None)
        return len(served)

    def flush(self, _timeout: float) -> int:
        return self.poll(0)


@pytest.mark.parametrize("code", [KafkaError.PRODUCER_FENCED, KafkaError._FENCED, KafkaError.UNKNOWN_PRODUCER_ID,
                                  KafkaError._FATAL])
def test_a_producer_that_can_never_publish_again_is_replaced(code):
    dead = FakeProducer(KafkaError(code))
    healthy = FakeProducer()
    publisher = Publisher(dead, new_producer=lambda: healthy, timeout=5)
    with pytest.raises(PublishError):
        publisher.publish([(TOPIC, "k", b"v")])  # the caller (the outbox relay) keeps the entries and retries
    assert publisher.replacements == 1
    assert publisher.publish([(TOPIC, "k", b"v")]) == 1 and healthy.produced == 1 and dead.produced == 1


def test_a_passing_error_keeps_the_producer():
    timed_out = FakeProducer(KafkaError(KafkaError._MSG_TIMED_OUT))
    publisher = Publisher(timed_out, new_producer=lambda: pytest.fail("no new producer for a timeout"), timeout=5)
    with pytest.raises(PublishError):
        publisher.publish([(TOPIC, "k", b"v")])
    assert publisher.replacements == 0


def test_threads_that_saw_the_same_death_replace_the_producer_once():
    dead = FakeProducer(KafkaError(KafkaError.PRODUCER_FENCED))
    built: list[FakeProducer] = []
    publisher = Publisher(dead, new_producer=lambda: built.append(FakeProducer()) or built[-1], timeout=5)
    generation = publisher._generation
    for _ in range(3):  # three relays whose calls all used the dead producer
        publisher._replace(generation, "fenced")
    assert publisher.replacements == 1 and len(built) == 1
