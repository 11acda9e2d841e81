"""The project's Kafka producer: idempotent, acks=all, settings from BROKER.md (overridable by env)."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from confluent_kafka import KafkaException, Producer
from django.conf import settings

from ecom_project.config import ConfigError


class PublishError(Exception):
    """At least one message was not acknowledged by the broker."""


def bootstrap_servers() -> str:
    if not settings.KAFKA_BROKERS:
        raise ConfigError("KAFKA_BROKERS is not set (runpipeline starts an embedded broker; consumers need one)")
    return settings.KAFKA_BROKERS


def make_producer(**overrides: object) -> Producer:
    return Producer({
        "bootstrap.servers": bootstrap_servers(), "logger": logging.getLogger("kafka.producer"),
        **settings.KAFKA_PRODUCER, **overrides,
    })


class Publisher:
    """Publishes (topic, key, value) messages and returns only when every one is acknowledged.

    Safe to share between threads, and they don't queue behind each other: each call waits for
    the delivery reports of its own messages only (a `flush()` would wait for every thread's
    messages, and a lock around it would make the relays publish one at a time)."""

    POLL_SECONDS = 0.005  # a caller whose report another thread's poll served notices within this

    def __init__(self, producer: Producer | None = None, *, timeout: float = 30.0) -> None:
        self._producer = producer or make_producer()
        self._timeout = timeout

    def publish(self, messages: Iterable[tuple[str, str, bytes]]) -> int:
        deliveries = _Deliveries()
        count = 0
        for topic, key, value in messages:
            self._produce(topic, key, value, deliveries.report)
            count += 1
        deliveries.expect(count)
        deadline = time.monotonic() + self._timeout
        while not deliveries.complete.is_set():
            if time.monotonic() > deadline:
                raise PublishError(f"{deliveries.missing()} message(s) not acknowledged within {self._timeout:.0f}s")
            self._producer.poll(self.POLL_SECONDS)  # serves the reports of any thread's messages
        if deliveries.errors:
            raise PublishError(deliveries.errors[0])
        return count

    def _produce(self, topic: str, key: str, value: bytes, on_delivery) -> None:
        while True:
            try:
                self._producer.produce(topic, value=value, key=key.encode(), on_delivery=on_delivery)
                return
            except BufferError:  # local queue full: let deliveries drain, then go on
                self._producer.poll(0.05)
            except KafkaException as exc:
                raise PublishError(str(exc)) from exc

    def close(self) -> None:
        self._producer.flush(self._timeout)


class _Deliveries:
    """Delivery reports of one `publish` call; the callbacks may run on any thread that polls."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.complete = threading.Event()
        self._reported = 0
        self._expected: int | None = None
        self._lock = threading.Lock()

    def report(self, err: object, _msg: object) -> None:
        with self._lock:
            self._reported += 1
            if err is not None:
                self.errors.append(str(err))
            self._check()

    def expect(self, count: int) -> None:
        with self._lock:
            self._expected = count
            self._check()

    def missing(self) -> int:
        with self._lock:
            return (self._expected or 0) - self._reported

    def _check(self) -> None:
        if self._expected is not None and self._reported >= self._expected:
            self.complete.set()
