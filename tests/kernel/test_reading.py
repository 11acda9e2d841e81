"""messaging.reading against the real broker: a read ends at the topics' end offsets as of the call."""
from __future__ import annotations

import pytest

from ecom_project.messaging import reading
from tests.kernel.conftest import publish_values as publish

pytestmark = pytest.mark.integration


def read(consumer) -> list[str]:
    return sorted(m.value().decode() for batch in reading.batches_to_end(consumer, max_seconds=30) for m in batch)


def test_a_read_stops_at_the_end_as_of_the_call_and_the_next_goes_on_from_there(topic):
    first = [f"a{i:03}" for i in range(40)]
    publish(topic, first)
    consumer = reading.reader([topic], name="test-reading")
    try:
        ends = reading.ends_now(consumer)
        publish(topic, [f"b{i:03}" for i in range(25)])  # produced after the read began: fetched beside the a's
        got = [m.value().decode() for batch in reading.batches_to_end(consumer, max_seconds=30, ends=ends) for m in batch]
        assert sorted(got) == first, "exactly what the topic held when the read began"
        assert read(consumer) == [f"b{i:03}" for i in range(25)], "the next read goes on from there"
        assert read(consumer) == [], "at the end, a read is empty and returns"
    finally:
        consumer.close()


def test_an_empty_topic_reads_as_empty_at_once(topic):
    consumer = reading.reader([topic], name="test-reading")
    try:
        assert read(consumer) == []
    finally:
        consumer.close()


def test_a_missing_topic_is_named():
    with pytest.raises(reading.MissingTopics, match="no.such.topic"):
        reading.reader(["no.such.topic"], name="test-reading")
