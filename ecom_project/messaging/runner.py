"""The one consumer runner: poll a batch -> decode -> validate -> dedupe -> dispatch -> publish -> commit.

Each batch is one unit of work (`unit_of_work`): the handlers' writes store their events in
their documents' outboxes; after the batch those events are published in one produce call
and pulled from the outboxes in one bulk write per collection, then the offsets are committed
once. Offsets are committed only after every message of the batch has its effects stored or
has been dead-lettered; a poison message or an exhausted handler goes to the DLQ and the
partition keeps flowing. `stop()` (SIGTERM) lets the batch in hand finish, commits and closes.

Idempotency lives in one place: every handler's write carries the applied-event guard (or an
equivalent unique key), so a redelivered event changes nothing. The runner only keeps a bounded
window of the event ids it applied recently (`CONSUMER_DEDUPE_WINDOW`), which skips the common
redeliveries (a duplicate in one batch, a partition coming back after a rebalance) without a
store round trip; memory does not grow with the number of events ever consumed.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from django.conf import settings

from ecom_project.bounded import LRU
from ecom_project.events.envelope import Envelope, InvalidEvent, decode
from ecom_project.messaging import deadletters, failpoints, unit_of_work
from ecom_project.messaging.consumers import ConsumerSpec
from ecom_project.messaging.producer import Publisher, bootstrap_servers
from ecom_project.mongo import get_db
from ecom_project.observability import metrics
from ecom_project.observability.logging import event_context

log = logging.getLogger(__name__)


def consumer_status() -> Any:
    return get_db()["consumer_status"]


class ConsumerRunner:
    def __init__(
        self,
        spec: ConsumerSpec,
        *,
        group_id: str | None = None,
        publisher: Publisher | None = None,
        batch_size: int | None = None,
        max_attempts: int | None = None,
        backoff_ms: int | None = None,
        consumer_config: dict | None = None,
    ) -> None:
        self.spec = spec
        self.group_id = group_id or spec.group_id
        self.instance = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self._publisher = publisher
        self.batch_size = batch_size or settings.CONSUMER_BATCH_SIZE
        self.max_attempts = max_attempts or settings.HANDLER_MAX_ATTEMPTS
        self.backoff_ms = settings.HANDLER_BACKOFF_MS if backoff_ms is None else backoff_ms
        self.consumer_config = {
            **settings.KAFKA_CONSUMER, "bootstrap.servers": bootstrap_servers(),
            "group.id": self.group_id, "client.id": f"{spec.name}-{self.instance}",
            "logger": logging.getLogger("kafka.consumer"), **(consumer_config or {}),
        }
        self.stop_event = threading.Event()
        self.assigned = threading.Event()
        self.stats = {"processed": 0, "duplicates": 0, "failures": 0, "deadLetters": 0, "batches": 0}
        self._status_at = 0.0
        self.recent: LRU[str, bool] = LRU(settings.CONSUMER_DEDUPE_WINDOW)  # event ids applied lately
        self._consumer: Consumer | None = None
        self._left_group = False
        self._joined = False
        self._subscribed_at = 0.0
        # how long a join may take: max.poll.interval.ms (a rebalance waits that long for slow members)
        # + session.timeout.ms + 10 s
        self._join_limit_s = (int(self.consumer_config.get("max.poll.interval.ms", 300000))
                              + int(self.consumer_config.get("session.timeout.ms", 45000))) / 1000 + 10

    @property
    def publisher(self) -> Publisher:
        if self._publisher is None:
            self._publisher = Publisher()
        return self._publisher

    def stop(self) -> None:
        self.stop_event.set()

    def run(self) -> None:
        if self.spec.setup:
            self.spec.setup()
        consumer = self._subscribed()
        log.info("consumer started", extra={"consumer": self.spec.name, "group": self.group_id, "topics": self.spec.topics})
        clean = False
        try:
            while not self.stop_event.is_set():
                messages = self._poll_batch(consumer)
                metrics.CONSUMER_HEARTBEAT.labels(self.spec.name).set(time.time())
                if messages:
                    self.process_batch(consumer, messages)
                if self._left_group or self._join_overdue():
                    consumer = self._rejoin(consumer)
                if self._report_status():
                    self._observe_lag(consumer)
            clean = True
        finally:
            if clean:  # a Crash (failpoint) leaves without commit or clean close, like a killed process
                consumer.close()
                self._consumer = None  # its on_assign callback refers to this runner: no cycle left for the GC
                self._report_status(force=True, state="stopped")
                log.info("consumer stopped", extra={"consumer": self.spec.name, **self.stats})

    def _subscribed(self) -> Consumer:
        consumer = self._consumer = Consumer(self.consumer_config)
        self._joined = False
        self._subscribed_at = time.monotonic()
        consumer.subscribe(self.spec.topics, on_assign=self._on_assign, on_revoke=self._on_revoke)
        self._left_group = False
        return consumer

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Called at the end of every group join (with no partitions too, for a replica beyond the count)."""
        self._joined = True
        self.assigned.set()

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """A rebalance begins: the join that follows is watched as the first one is."""
        self._joined = False
        self._subscribed_at = time.monotonic()

    def _join_overdue(self) -> bool:
        """The client's join has not completed within `_join_limit_s`. Seen after a broker freeze: a client
        created the moment the broker came back never joined, for minutes."""
        return not self._joined and time.monotonic() - self._subscribed_at > self._join_limit_s

    def _rejoin(self, consumer: Consumer) -> Consumer:
        """The client left the group (it went longer than max.poll.interval.ms between polls: a slow batch, a
        frozen broker), or its join is overdue. librdkafka is meant to rejoin on the next poll, but after a
        broker freeze it was seen polling for minutes with no partitions. A fresh client joins; what was not
        committed is delivered again, and dedupe makes that harmless."""
        self.stats["rejoins"] = self.stats.get("rejoins", 0) + 1
        why = "left its group" if self._left_group else "never completed its group join"
        log.warning(f"consumer {why}; rejoining with a new client", extra={"consumer": self.spec.name})
        # On a side thread: its close may wait out a request sent to the frozen broker (up to socket.timeout.ms).
        threading.Thread(target=self._close_quietly, args=(consumer,), name=f"close-{self.spec.name}",
                         daemon=True).start()
        return self._subscribed()

    def _close_quietly(self, consumer: Consumer) -> None:
        """Close a client this runner has given up on; one already closed, or failing to close, is let go."""
        try:
            consumer.close()
        except (KafkaException, RuntimeError) as exc:
            log.info("closing a dropped client failed", extra={"consumer": self.spec.name, "error": str(exc)})

    def _poll_batch(self, consumer: Consumer) -> list[Message]:
        """What is fetched already, else wait up to 0.2 s for the first message and take what came with it.

        `consume(n, timeout)` waits until n messages *or* the timeout: at low rates every
        batch would sit out the whole timeout, adding 0.2 s per saga hop."""
        messages = consumer.consume(self.batch_size, timeout=0)
        if messages:
            return messages
        messages = consumer.consume(1, timeout=0.2)
        if messages:
            messages += consumer.consume(self.batch_size - 1, timeout=0) if self.batch_size > 1 else []
        return messages

    def abandon(self) -> None:
        """After a crash: drop the dead runner's client without committing. Its process's connections
        would be gone; closing hands its partitions over now instead of after max.poll.interval.ms."""
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            self._close_quietly(consumer)

    def process_batch(self, consumer: Consumer, messages: list[Message]) -> None:
        decoded: list[tuple[Message, Envelope]] = []
        offsets: dict[tuple[str, int], int] = {}
        for message in messages:
            if message.error():
                if message.error().code() == KafkaError._MAX_POLL_EXCEEDED:
                    self._left_group = True
                if message.error().code() != KafkaError._PARTITION_EOF:
                    log.warning("consume error", extra={"consumer": self.spec.name, "error": str(message.error())})
                continue
            offsets[(message.topic(), message.partition())] = message.offset() + 1
            try:
                decoded.append((message, decode(message.value())))
            except InvalidEvent as exc:
                self._dead_letter(message, None, str(exc), attempts=0)
        with unit_of_work.batch(self.spec.name) as uow:
            for index, (message, event) in enumerate(decoded):
                if index == len(decoded) // 2 and index:
                    failpoints.hit("runner.mid_batch")
                event_id = str(event.event_id)
                if event_id in self.recent:
                    self.stats["duplicates"] += 1
                    metrics.EVENTS_DUPLICATE.labels(self.spec.name, message.topic()).inc()
                    continue
                if self._dispatch(message, event):
                    self.recent.put(event_id, True)
        uow.flush(self.publisher)
        failpoints.hit("runner.after_effects")
        if offsets:
            self._commit(consumer, [TopicPartition(t, p, o) for (t, p), o in offsets.items()])
        self.stats["batches"] += 1

    def _commit(self, consumer: Consumer, offsets: list[TopicPartition]) -> None:
        try:
            consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            # Partitions moved to another member meanwhile (rebalance, poll interval exceeded):
            # the new owner gets these messages again, and its dedupe makes that harmless.
            self.stats["commitFailures"] = self.stats.get("commitFailures", 0) + 1
            log.warning("offset commit refused", extra={"consumer": self.spec.name, "error": str(exc)})

    def _dispatch(self, message: Message, event: Envelope) -> bool:
        """True when the handler applied the event; False when it went to the DLQ."""
        handler = self.spec.handlers.get(event.type)
        if handler is None:
            self._dead_letter(message, event, f"no handler for {event.type} v{event.version}", attempts=0)
            return False
        topic = message.topic()
        last_error = ""
        with event_context(eventId=str(event.event_id), correlationId=event.correlation_id, orderId=event.key):
            for attempt in range(1, self.max_attempts + 1):
                started = time.perf_counter()
                try:
                    failpoints.hit("handler.slow")
                    failpoints.hit("handler.raise")
                    handler(event)
                except Exception as exc:  # bounded retries, then DLQ; never lost, never blocking
                    last_error = f"{type(exc).__name__}: {exc}"
                    self.stats["failures"] += 1
                    metrics.EVENTS_FAILED.labels(self.spec.name, topic).inc()
                    log.warning("handler failed", extra={"consumer": self.spec.name, "attempt": attempt, "error": last_error})
                    if attempt < self.max_attempts:
                        self.stop_event.wait(self.backoff_ms * 2 ** (attempt - 1) / 1000)
                    continue
                metrics.HANDLER_SECONDS.labels(self.spec.name, topic).observe(time.perf_counter() - started)
                metrics.EVENTS_CONSUMED.labels(self.spec.name, topic).inc()
                self.stats["processed"] += 1
                return True
            self._dead_letter(message, event, last_error, attempts=self.max_attempts)
            return False

    def _dead_letter(self, message: Message, event: Envelope | None, error: str, *, attempts: int) -> None:
        document, envelope = deadletters.build_dead_letter(
            consumer=self.spec.name, topic=message.topic(), partition=message.partition(), offset=message.offset(),
            key=message.key(), raw=message.value(), event=event, error=error, attempts=attempts,
        )
        if document["dlqTopic"]:  # None for a failed dead letter: stored, never re-published to a .dlq.dlq
            self.publisher.publish([(document["dlqTopic"], envelope.key, envelope.to_json())])
        deadletters.store(document)
        self.stats["deadLetters"] += 1
        metrics.EVENTS_DEAD_LETTERED.labels(self.spec.name, message.topic()).inc()
        log.error("event dead-lettered", extra={"consumer": self.spec.name, "topic": message.topic(), "error": error})

    def _observe_lag(self, consumer: Consumer) -> None:
        """High watermark minus position per owned partition, from what the last fetches reported
        (no broker round trip). Some brokers report watermarks wrongly (BROKER.md): unknown is skipped."""
        try:
            positions = consumer.position(consumer.assignment())
        except KafkaException:
            return
        for tp in positions:
            _low, high = consumer.get_watermark_offsets(tp, cached=True) or (-1, -1)
            if high >= 0 and tp.offset >= 0:
                metrics.CONSUMER_LAG.labels(self.spec.name, tp.topic, str(tp.partition)).set(max(0, high - tp.offset))

    def _report_status(self, *, force: bool = False, state: str = "running") -> bool:
        """Write this instance's counters every ~2 s; True when it wrote."""
        now = time.monotonic()
        if not force and now - self._status_at < 2.0:
            return False
        self._status_at = now
        consumer_status().update_one(
            {"_id": f"{self.spec.name}:{self.instance}"},
            {"$set": {"consumer": self.spec.name, "group": self.group_id, "state": state,
                      "heartbeat": datetime.now(timezone.utc), **self.stats}},
            upsert=True,
        )
        return True
