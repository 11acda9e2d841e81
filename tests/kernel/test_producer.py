"""The Publisher: shared by threads that don't wait for each other, and a call returns only when
its own messages are acknowledged (or raises)."""
from __future__ import annotations

import threading
import uuid

import pytest

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
