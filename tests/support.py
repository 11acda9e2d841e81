"""Test helpers: waiting on conditions (never bare sleeps) and reading topics."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import shutil
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from django.conf import settings

from ecom_project.messaging import reading
from ecom_project.messaging.groups import group_lag
from ecom_project.supervision import free_port

T = TypeVar("T")

# Browser tests drive Debian's Chromium (installed by .ci/run); flags that keep it off the network.
CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(settings.BASE_DIR) / "tests" / "artifacts"
requires_chromium = pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed (.ci/run installs it)")


@contextmanager
def chromium_page(*, width: int = 1400, height: int = 900) -> Iterator:
    """A Playwright page in Debian's Chromium, closed afterwards (the `page` fixture of browser tests)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": width, "height": height})
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def manage(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """`python manage.py ARGS` in a child process (environment plus `env`), its output captured as text."""
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env={**os.environ, **(env or {})},
        capture_output=True, text=True, timeout=timeout,
    )


def wait_until(condition: Callable[[], T], *, timeout: float = 20.0, interval: float = 0.05, message: str = "") -> T:
    """Poll `condition` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message or condition}")
        time.sleep(interval)


def read_topic(topic: str, *, key: str | None = None, expect: int = 1, timeout: float = 20.0) -> list:
    """Messages of `topic` (those with `key`, if given), read from the beginning until `expect` are seen.

    Partitions are assigned by hand, so no consumer-group join slows the test down."""
    consumer = Consumer({
        **settings.KAFKA_CONSUMER, "bootstrap.servers": settings.KAFKA_BROKERS,
        "group.id": f"test-reader-{uuid.uuid4().hex[:8]}",
    })
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    found = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and len(found) < expect:
            for message in consumer.consume(100, timeout=0.2):
                if message.error():
                    continue
                if key is None or (message.key() or b"").decode() == key:
                    found.append(message)
    finally:
        consumer.close()
    return found


def read_to_end(topic: str, *, keys: set[str] | None = None, timeout: float = 30.0) -> list:
    """Every message of `topic` (those whose key is in `keys`, if given) from the beginning up to the end of
    each partition as it is now: what "nothing more arrived" checks read, instead of waiting a while."""
    return [message for message in reading.read_to_end([topic], name="test-reader", max_seconds=timeout)
            if keys is None or (message.key() or b"").decode() in keys]


@contextmanager
def running_pipeline(workdir: Path, env: dict[str, str] | None = None, *, ready: bytes = b"pipeline ready") -> Iterator[str]:
    """`manage.py runpipeline` (its own engines and SQLite, both in `workdir`) on a free port; yields
    its URL once its output (`workdir/runpipeline.log`) shows `ready`, and stops it with SIGTERM
    (killed if that hangs)."""
    port = free_port()
    full_env = {key: value for key, value in os.environ.items() if key not in {"KAFKA_BROKERS", "REDIS_URL", "MONGO_URL"}}
    # DATA_DIR: engines of its own (local Kafka/FerretDB data), never those of a developer's `make run`.
    full_env.update(PORT=str(port), HOST="127.0.0.1", SQLITE_PATH=str(workdir / "db.sqlite3"), LOG_LEVEL="WARNING",
                    DATA_DIR=str(workdir / "data"))
    full_env.update(env or {})
    log_path = workdir / "runpipeline.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runpipeline"], cwd=settings.BASE_DIR, env=full_env,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        try:
            wait_until(lambda: ready in log_path.read_bytes() or process.poll() is not None,
                       timeout=120, message="runpipeline ready")
            assert process.poll() is None, log_path.read_text()[-3000:]
            yield f"http://127.0.0.1:{port}"
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def committed_to_end(group: str, topics: list[str]) -> bool:
    """Whether `group` has committed, on every partition of `topics`, the partition's high watermark:
    it has handled everything produced so far (what a test waits for before asserting that a
    redelivery changed nothing, instead of a fixed wait)."""
    return group_lag(settings.KAFKA_BROKERS, group, topics, timeout=10) == 0


def settled(worker) -> bool:
    """Every consumer of `worker` has committed everything produced so far on its topics, and its relay
    has published everything its outbox held: a "nothing more came of it" check may now read to the end."""
    from ecom_project.messaging.outbox import backlog

    return all(committed_to_end(runner.group_id, runner.spec.topics) for runner in worker.runners) and all(
        backlog(spec.outbox_collections()) == 0 for spec in worker.specs)
