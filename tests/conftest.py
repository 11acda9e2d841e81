"""Shared fixtures: one Kafka and one store per session (real servers), a clean store per test."""
from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from ecom_project.engines.local import LocalEngines
from ecom_project.events.registry import retry_topic
from ecom_project.messaging.broker import create_topics

# Consumers that only tests declare: their retry topics (where dead-letter replays go) exist too.
TEST_CONSUMERS = ("probe", "probe-b", "probe-restart")  # the test specs (tests/kernel), each with its retry topic


def pytest_configure(config):
    """Nothing a test starts finds the developer's `make run`: the engines' state file lives elsewhere."""
    data_dir = Path(tempfile.mkdtemp(prefix="ecom-test-data-"))
    os.environ["DATA_DIR"] = str(data_dir)
    settings.DATA_DIR = data_dir
    # The session's broker keeps every test's events, and most tests leave the default consumer groups
    # far behind: back-pressure would shed their orders. Its own tests turn it on (tests/orders/test_backpressure.py).
    os.environ["BACKPRESSURE_ENABLED"] = "false"
    settings.BACKPRESSURE_ENABLED = False


@pytest.fixture(scope="session")
def engines(tmp_path_factory):
    """The session's Kafka and store: `TEST_KAFKA_BROKERS` / `TEST_MONGO_URL` when set, else local engines
    (Apache Kafka, FerretDB) on scratch data. Child processes find them through the environment.

    Tests share them: a test that needs a clean slate uses its own consumer groups started at the end
    of the topics (`start_worker`), its own keys, and the store emptied before it (`clean_store`)."""
    kafka, mongo = os.environ.get("TEST_KAFKA_BROKERS"), os.environ.get("TEST_MONGO_URL")
    local = None
    if not (kafka and mongo):
        local = LocalEngines(tmp_path_factory.mktemp("engines"), kafka=not kafka, store=not mongo,
                             partitions=settings.KAFKA_PARTITIONS, say=lambda _: None).start()
    settings.KAFKA_BROKERS = os.environ["KAFKA_BROKERS"] = kafka or local.kafka.bootstrap
    settings.MONGO_URL = os.environ["MONGO_URL"] = mongo or local.ferretdb.url
    create_topics(settings.KAFKA_BROKERS, partitions=settings.KAFKA_PARTITIONS)
    create_topics(settings.KAFKA_BROKERS, partitions=settings.KAFKA_PARTITIONS,
                  topics=[retry_topic(name) for name in TEST_CONSUMERS])
    yield local
    if local:
        local.stop()


@pytest.fixture(scope="session")
def kafka_broker(engines):
    """The session's local Kafka (pause()/resume() for outage drills); None with `TEST_KAFKA_BROKERS`."""
    return engines.kafka if engines else None


@pytest.fixture(scope="session", autouse=True)
def _django_db_everywhere(django_db_setup, django_db_blocker):
    """The auth tables (SQLite) are reachable from every test: ASGI requests and websocket
    handshakes touch the connection even when a test never asks for a user. Tests that write
    users still take `db` for a rolled-back transaction."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="session", autouse=True)
def _test_database(engines):
    """Tests write to a database of their own (child processes too), dropped at the end."""
    from ecom_project.mongo import get_db

    settings.MONGO_DB = os.environ["MONGO_DB"] = f"ecom_test_{uuid.uuid4().hex[:8]}"
    yield
    get_db().client.drop_database(settings.MONGO_DB)


@pytest.fixture(autouse=True)
def _fresh_login_counters():
    """Login attempts are counted per minute in the cache (operations/login_throttle.py): each test
    starts with none, whatever the tests before it tried (the browser tests of every app log in)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def clean_store():
    from ecom_project.messaging.outbox import forget_hints
    from ecom_project.mongo import get_db
    from ecom_project.status_counts import PENDING

    PENDING.flush()  # an earlier test's status count changes land before its collections go, not in this test's
    db = get_db()
    for name in db.list_collection_names():
        db[name].drop()
    forget_hints()  # an earlier test's writes no relay published: their documents are gone
    yield db


@pytest.fixture
def start_worker(engines):
    """Start consumers+relays for some specs, in consumer groups of the test's own that start at the
    end of their topics (earlier tests' events stay unread); stopped at teardown."""
    yield from _worker_starter()


@pytest.fixture(scope="module")
def start_module_worker(engines):
    """As `start_worker`, for a worker that a module's tests share, each with keys of its own: one
    consumer-group join (about 3 s) per module instead of one per test."""
    yield from _worker_starter()


def _worker_starter():
    from ecom_project.messaging.worker import Worker

    workers = []

    def start(specs, *, wait: bool = True, **kwargs):
        worker = Worker(specs, group_suffix=f".t{uuid.uuid4().hex[:8]}", start_at_end=True, **kwargs).start()
        workers.append(worker)
        if wait:
            assert worker.wait_assigned(30), "consumers got no partition assignment in 30 s"
        return worker

    yield start
    for worker in reversed(workers):
        worker.stop()
