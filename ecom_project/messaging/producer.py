"""The project's Kafka producer: idempotent, acks=all, settings from BROKER.md (overridable by env)."""
from __future__ import annotations

import logging
import threading
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
    """Publishes (topic, key, value) messages and returns only when every one is acknowledged."""

    def __init__(self, producer: Producer | None = None, *, timeout: float = 30.0) -> None:
        self._producer = producer or make_producer()
        self._timeout = timeout
        self._lock = threading.Lock()

    def publish(self, messages: Iterable[tuple[str, str, bytes]]) -> int:
        errors: list[str] = []

        def on_delivery(err: object, _msg: object) -> None:
            if err is not None:
                errors.append(str(err))

        count = 0
        with self._lock:
            for topic, key, value in messages:
                self._produce(topic, key, value, on_delivery)
                count += 1
            remaining = self._producer.flush(self._timeout)
        if remaining:
            raise PublishError(f"{remaining} message(s) not acknowledged within {self._timeout:.0f}s")
        if errors:
            raise PublishError(errors[0])
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
