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


@pytest.fixture
def isolated_broker(kafka_broker):
    """A broker of the test's own, so consumers that read their topics from the beginning see only
    this test's events (the session broker carries every earlier test's history). With
    `TEST_KAFKA_BROKERS` (an external broker) there is only the shared one."""
    if kafka_broker is None:
        yield None
        return
    previous = settings.KAFKA_BROKERS
    broker = EmbeddedBroker(partitions=settings.KAFKA_PARTITIONS).start()
    settings.KAFKA_BROKERS = broker.bootstrap
    yield broker
    settings.KAFKA_BROKERS = previous
    broker.stop()


@pytest.fixture(scope="session", autouse=True)
def _django_db_everywhere(django_db_setup, django_db_blocker):
    """The auth tables (SQLite) are reachable from every test: ASGI requests and websocket
    handshakes touch the connection even when a test never asks for a user. Tests that write
    users still take `db` for a rolled-back transaction."""
    with django_db_blocker.unblock():
        yield


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
def start_worker(isolated_broker):
    """Start consumers+relays for some specs, on the test's own broker, with a group id unique to
    the test; stopped at teardown."""
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
