"""The session's broker for drills that pause it; settings the drills tune are restored afterwards."""
from __future__ import annotations

import pytest


@pytest.fixture
def own_broker(kafka_broker, settings):
    """The session's local Kafka (None with `TEST_KAFKA_BROKERS`), never left paused. Drills run their
    consumers in groups of their own that start at the end of the topics, so they see only their events."""
    for name in ("KAFKA_CONSUMER", "OUTBOX_LEASE_MS", "ALLOWED_HOSTS"):  # restored by the fixture at teardown
        setattr(settings, name, getattr(settings, name))
    try:
        yield kafka_broker
    finally:
        if kafka_broker:
            kafka_broker.resume()  # a no-op unless a test left it paused
