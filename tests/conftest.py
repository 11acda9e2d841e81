"""Shared fixtures: one real embedded broker per session, a clean store per test."""
from __future__ import annotations

import os
import uuid

import pytest
from django.conf import settings

from ecom_project.messaging.broker import EmbeddedBroker, create_topics


@pytest.fixture(scope="session")
def kafka_broker():
    """The session's Kafka-protocol broker: `TEST_KAFKA_BROKERS` if set, else an embedded Tansu."""
    external = os.environ.get("TEST_KAFKA_BROKERS")
    if external:
        create_topics(external, partitions=settings.KAFKA_PARTITIONS)
        settings.KAFKA_BROKERS = external
        yield None
        return
    broker = EmbeddedBroker(partitions=settings.KAFKA_PARTITIONS).start()
    settings.KAFKA_BROKERS = broker.bootstrap
    yield broker
    broker.stop()


@pytest.fixture(scope="session", autouse=True)
def _test_database():
    """Tests write to their own database; on a real MongoDB it is dropped at the end."""
    from ecom_project.mongo import get_db

    settings.MONGO_DB = f"ecom_test_{uuid.uuid4().hex[:8]}"
    yield
    get_db().client.drop_database(settings.MONGO_DB)


@pytest.fixture(autouse=True)
def clean_store():
    from ecom_project.mongo import get_db

    db = get_db()
    for name in db.list_collection_names():
        db[name].drop()
    yield db


@pytest.fixture
def start_worker(kafka_broker):
    """Start consumers+relays for some specs with a group id unique to the test; stopped at teardown."""
    from ecom_project.messaging.worker import Worker

    workers = []

    def start(specs, *, wait: bool = True, **kwargs):
        worker = Worker(specs, group_suffix=f".t{uuid.uuid4().hex[:8]}", **kwargs).start()
        workers.append(worker)
        if wait:
            assert worker.wait_assigned(30), "consumers got no partition assignment in 30 s"
        return worker

    yield start
    for worker in reversed(workers):
        worker.stop()
