"""The project's Kafka producer: idempotent, acks=all, settings from BROKER.md (overridable by env)."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from confluent_kafka import KafkaError, KafkaException, Producer
from django.conf import settings

from ecom_project.config import ConfigError

log = logging.getLogger(__name__)
# Errors after which this producer can never publish again. An idempotent producer whose messages
# timed out must reset its producer id/epoch; if the broker refuses (fenced, unknown producer id,
# sequence lost) librdkafka raises a fatal error and fails every later message. Only a new
# producer, with a new producer id, can publish: the outbox then sends the unacknowledged entries
# again (at least once; the consumers' eventId guard keeps the effects once).
PRODUCER_IS_DEAD = frozenset({
    KafkaError._FATAL, KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.UNKNOWN_PRODUCER_ID,
    KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER, KafkaError.INVALID_PRODUCER_EPOCH, KafkaError.INVALID_PRODUCER_ID_MAPPING,
})


class PublishError(Exception):
    """At least one message was not acknowledged by the broker."""


def producer_is_dead(error: object) -> bool:
    if not isinstance(error, KafkaError):
        return False
    return error.fatal() or error.code() in PRODUCER_IS_DEAD


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

    def __init__(self, producer: Producer | None = None, *, timeout: float = 30.0,
                 new_producer: Callable[[], Producer] = make_producer) -> None:
        self._new_producer = new_producer
        self._producer = producer or new_producer()
        self._generation = 0  # bumped each time a dead producer is replaced
        self._replace_lock = threading.Lock()
        self._timeout = timeout
        self.replacements = 0

    def publish(self, messages: Iterable[tuple[str, str, bytes]]) -> int:
        producer, generation = self._producer, self._generation  # one call uses one producer throughout
        deliveries = _Deliveries()
        count = 0
        for topic, key, value in messages:
            self._produce(producer, generation, topic, key, value, deliveries.report)
            count += 1
        deliveries.expect(count)
        deadline = time.monotonic() + self._timeout
        while not deliveries.complete.is_set():
            if time.monotonic() > deadline:
                raise PublishError(f"{deliveries.missing()} message(s) not acknowledged within {self._timeout:.0f}s")
            producer.poll(self.POLL_SECONDS)  # serves the reports of any thread's messages
        if deliveries.errors:
            if any(producer_is_dead(error) for error in deliveries.errors):
                self._replace(generation, deliveries.errors[0])
            raise PublishError(str(deliveries.errors[0]))
        return count

    def _produce(self, producer: Producer, generation: int, topic: str, key: str, value: bytes, on_delivery) -> None:
        while True:
            try:
                producer.produce(topic, value=value, key=key.encode(), on_delivery=on_delivery)
                return
            except BufferError:  # local queue full: let deliveries drain, then go on
                producer.poll(0.05)
            except KafkaException as exc:
                if producer_is_dead(exc.args[0] if exc.args else None):
                    self._replace(generation, exc.args[0])
                raise PublishError(str(exc)) from exc

    def _replace(self, generation: int, error: object) -> None:
        """A new producer instead of the dead one, once per death however many threads saw it.
        The dead one is dropped, not flushed: it can deliver nothing more; its unacknowledged
        messages stay in the outbox and go out again through the new one."""
        with self._replace_lock:
            if generation != self._generation:
                return  # another thread replaced it already
            self._producer = self._new_producer()
            self._generation += 1
            self.replacements += 1
        log.warning("producer cannot publish any more; replaced by a new one",
                    extra={"error": str(error), "replacements": self.replacements})

    def close(self) -> None:
        self._producer.flush(self._timeout)


class _Deliveries:
    """Delivery reports of one `publish` call; the callbacks may run on any thread that polls."""

    def __init__(self) -> None:
        self.errors: list[object] = []  # KafkaError of each failed message
        self.complete = threading.Event()
        self._reported = 0
        self._expected: int | None = None
        self._lock = threading.Lock()

    def report(self, err: object, _msg: object) -> None:
        with self._lock:
            self._reported += 1
            if err is not None:
                self.errors.append(err)
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
