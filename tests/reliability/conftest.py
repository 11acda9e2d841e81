"""A broker of the test's own, for drills that pause it or must not see other tests' traffic."""
from __future__ import annotations

import pytest

from ecom_project.messaging.broker import EmbeddedBroker


@pytest.fixture
def own_broker(settings):
    """A function-scoped embedded broker; settings point at it and are restored afterwards.

    The session broker is never paused, and a drill judging every event and dead letter on
    the topics sees only its own."""
    broker = EmbeddedBroker(partitions=settings.KAFKA_PARTITIONS).start()
    settings.KAFKA_BROKERS = broker.bootstrap
    for name in ("KAFKA_CONSUMER", "OUTBOX_LEASE_MS", "ALLOWED_HOSTS"):  # restored by the fixture at teardown
        setattr(settings, name, getattr(settings, name))
    try:
        yield broker
    finally:
        broker.resume()  # a no-op unless a test left it paused
        broker.stop()
