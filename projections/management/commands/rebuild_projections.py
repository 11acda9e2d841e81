"""Rebuild the read model from the topics: replay every event from the beginning into a fresh
collection, then swap it in. No consumer group: partitions are assigned by hand, so the live
projector's committed offsets are untouched."""
from __future__ import annotations

import time
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ecom_project.config import ConfigError
from ecom_project.events.envelope import InvalidEvent, decode
from ecom_project.messaging.producer import bootstrap_servers
from projections import repository, services
from projections.handlers import CONSUMER


class Command(BaseCommand):
    help = (
        "Replay every pipeline topic from the beginning into a fresh orders_projection and swap it in. "
        "The end of the topics is detected by --idle-seconds without a message (broker watermarks are not "
        "trusted: Tansu reports them wrongly)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--idle-seconds", type=float, default=3.0, help="stop after this long without a message")
        parser.add_argument("--max-seconds", type=float, default=3600.0, help="give up (without swapping) after this")

    def handle(self, *args, idle_seconds: float, max_seconds: float, **options) -> None:
        if idle_seconds <= 0 or max_seconds <= 0:
            raise CommandError("--idle-seconds and --max-seconds must be positive")
        try:
            consumer = self._assigned_consumer()
        except (ConfigError, KafkaException) as exc:
            raise CommandError(f"cannot read the topics: {exc}") from None
        collection = repository.fresh_collection()
        try:
            applied, skipped, complete = self._replay(consumer, collection, idle_seconds, max_seconds)
            if not complete:
                collection.drop()
                raise CommandError(f"topics still delivering after {max_seconds:.0f}s; live projection left as it was")
            repository.swap_in(collection)
            # Events that reached the live projector between the end of the replay and the swap were
            # written to the collection swapped out; the reader is positioned right before them, so one
            # more pass into the live collection applies them again (idempotent by eventId).
            caught_up, more_skipped, _ = self._replay(consumer, repository.projections(), idle_seconds, max_seconds)
            applied, skipped = applied + caught_up, skipped + more_skipped
        finally:
            consumer.close()
        self.stdout.write(
            f"rebuilt orders_projection: {collection_size()} orders from {applied} events ({skipped} invalid skipped)"
        )

    def _assigned_consumer(self) -> Consumer:
        consumer = Consumer({
            **settings.KAFKA_CONSUMER, "bootstrap.servers": bootstrap_servers(),
            "group.id": f"rebuild-projections-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False,
        })
        topics = consumer.list_topics(timeout=10).topics
        missing = [t for t in CONSUMER.topics if t not in topics]
        if missing:
            consumer.close()
            raise CommandError(f"topics missing on the broker: {', '.join(missing)} (run create_topics)")
        consumer.assign([
            TopicPartition(topic, partition, OFFSET_BEGINNING)
            for topic in CONSUMER.topics for partition in topics[topic].partitions
        ])
        return consumer

    def _replay(self, consumer: Consumer, collection, idle_seconds: float, max_seconds: float) -> tuple[int, int, bool]:
        applied = skipped = 0
        started = last_message = time.monotonic()
        with tqdm(desc="replaying events", unit="event", file=self.stderr, mininterval=0.5) as progress:
            while time.monotonic() - last_message < idle_seconds:
                if time.monotonic() - started > max_seconds:
                    return applied, skipped, False
                messages = [m for m in consumer.consume(500, timeout=0.2) if not m.error()]
                if messages:
                    last_message = time.monotonic()
                for message in messages:
                    try:
                        event = decode(message.value())
                    except InvalidEvent:  # already dead-lettered by the live consumer
                        skipped += 1
                        continue
                    services.projection_apply(event=event, collection=collection, notify=False)
                    applied += 1
                progress.update(len(messages))
        return applied, skipped, True


def collection_size() -> int:
    return repository.projections().estimated_document_count()
