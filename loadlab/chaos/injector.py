"""Injects the planned faults: failpoints (crashes, handler errors, a slow handler), duplicate
deliveries (a published event produced again, byte for byte), poison messages, and a broker
frozen (SIGSTOP) for longer than the producer's message timeout while orders keep coming."""
from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Callable

from confluent_kafka import KafkaException
from django.conf import settings

from loadlab.chaos.plan import Fault
from loadlab.chaos.topics import read_from_beginning
from ecom_project.events.examples import EXAMPLES
from ecom_project.events.registry import EVENT_TOPICS, type_of_topic
from ecom_project.messaging import failpoints
from ecom_project.messaging.producer import PublishError, Publisher

OVERSIZED_BYTES = 300_000
# Longer than the producer's message.timeout.ms (15 s): its messages time out, and an idempotent
# producer must then start over with a new producer id, or be replaced when the broker refuses that.
BROKER_PAUSE_SECONDS = 20.0
FAILPOINT_KINDS = ("runner.after_effects", "runner.mid_batch", "relay.after_publish", "handler.raise", "handler.slow")


class FaultInjector:
    def __init__(self, *, seed: int, publisher: Publisher, our_keys: Callable[[], set[str]], broker=None) -> None:
        self.seed = seed
        self.broker = broker  # has pause()/resume() when the drill started the broker itself; else None
        self._paused: threading.Thread | None = None
        self.publisher = publisher
        self.our_keys = our_keys
        self.injected: Counter[str] = Counter()  # failpoints count when they fired, the rest when sent
        self.skipped: Counter[str] = Counter()
        self.poison: list[tuple[str, str]] = []  # (message key, topic)
        self._fired_before: Counter[str] = Counter()

    def inject(self, fault: Fault) -> None:
        if fault.kind in FAILPOINT_KINDS:
            self._arm(fault)
        elif fault.kind == "duplicate":
            self._duplicate(fault)
        elif fault.kind == "broker.pause":
            self._pause_broker()
        else:
            self._poison(fault)

    def _arm(self, fault: Fault) -> None:
        self._fired_before[fault.kind] += failpoints.fired(fault.kind)  # enable() resets the count
        if fault.kind == "handler.slow":
            beyond_poll = int(settings.KAFKA_CONSUMER["max.poll.interval.ms"]) / 1000 + 2
            failpoints.enable("handler.slow", sleep=beyond_poll)
        else:
            failpoints.enable(fault.kind, after=fault.pick % 5)

    def settle_failpoints(self) -> None:
        """Count what fired and disarm what did not (yet)."""
        for kind in FAILPOINT_KINDS:
            self._fired_before[kind] += failpoints.fired(kind)
            self.injected[kind] = self._fired_before[kind]
        failpoints.disable()

    def _pause_broker(self) -> None:
        """Freeze the broker for BROKER_PAUSE_SECONDS in the background: placing goes on meanwhile."""
        if self.broker is None or self._paused is not None and self._paused.is_alive():
            self.skipped["broker.pause"] += 1  # an external broker is not ours to stop
            return
        resumed = threading.Event()

        def frozen() -> None:
            self.broker.pause()
            try:
                resumed.wait(BROKER_PAUSE_SECONDS)
            finally:
                self.broker.resume()

        self._resume_now = resumed.set
        self._paused = threading.Thread(target=frozen, name="chaos-broker-pause", daemon=True)
        self._paused.start()
        self.injected["broker.pause"] += 1

    def _publish(self, messages: list) -> None:
        """The injector's own messages (duplicates, poison) wait out a pause, and go again once if the
        first try met a producer that the pause killed (the Publisher has replaced it by then)."""
        if self._paused is not None:
            self._paused.join()
        try:
            self.publisher.publish(messages)
        except PublishError:
            self.publisher.publish(messages)

    def resume_broker(self) -> None:
        """End a pause still running (the drill's end, or its failure)."""
        if self._paused is not None:
            self._resume_now()
            self._paused.join(10)

    def _duplicate(self, fault: Fault) -> None:
        topic = EVENT_TOPICS[fault.pick % len(EVENT_TOPICS)]
        ours = self.our_keys()
        if self._paused is not None:  # reading, as publishing, waits out a pause
            self._paused.join()
        for candidate in (topic, EVENT_TOPICS[0]):
            try:
                found = [(k, v) for _, k, v in read_from_beginning([candidate], max_seconds=10)
                         if k is not None and k.decode() in ours]
            except (TimeoutError, KafkaException):  # the broker is too slow to read now: no duplicate
                found = []
            if found:
                key, value = found[fault.pick % len(found)]
                self._publish([(candidate, key.decode(), value)])
                self.injected["duplicate"] += 1
                return
        self.skipped["duplicate"] += 1

    def _poison(self, fault: Fault) -> None:
        topic = EVENT_TOPICS[fault.pick % len(EVENT_TOPICS)]
        key = f"poison-{self.seed}-{len(self.poison)}"
        value = poison_message(fault.kind, topic=topic, key=key, rng=random.Random(fault.pick))
        self._publish([(topic, key, value)])
        self.poison.append((key, topic))
        self.injected[fault.kind] += 1


def poison_message(kind: str, *, topic: str, key: str, rng: random.Random) -> bytes:
    """Bytes no consumer may apply: garbage, a schema-invalid event, or an oversized one."""
    if kind == "poison.garbage":
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200)))
    event_type, version = type_of_topic(topic)
    payload = dict(EXAMPLES[(event_type, version)], orderId=key)
    breakages = [{"orderId": {"$gt": ""}}, {"customerEmail": "someone@example.com"}, {"orderId": ""}]
    payload.update(breakages[rng.randrange(len(breakages))])
    if kind == "poison.oversized":
        payload["padding"] = "x" * OVERSIZED_BYTES
    envelope = {"eventId": "00000000-0000-4000-8000-%012d" % rng.randrange(10**12), "type": event_type,
                "version": version, "timestamp": "2026-01-01T00:00:00Z", "correlationId": key, "causationId": None,
                "key": key, "payload": payload, "headers": {}}
    return json.dumps(envelope).encode()
