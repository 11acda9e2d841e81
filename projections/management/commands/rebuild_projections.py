"""Rebuild the read model from the topics: replay every event from the beginning into a fresh
collection, then swap it in. No consumer group: partitions are assigned by hand (messaging.reading), so
the live projector's committed offsets are untouched."""
from __future__ import annotations

from confluent_kafka import Consumer, KafkaException
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ecom_project.config import ConfigError
from ecom_project.events.envelope import InvalidEvent, decode
from ecom_project.messaging import reading
from projections import repository, services
from projections.handlers import CONSUMER
from projections.status_counts import PROJECTION_COUNTS


class Command(BaseCommand):
    help = (
        "Replay every pipeline topic from the beginning into a fresh orders_projection and swap it in. "
        "The replay ends when every partition reaches the end offset it had when the replay began; then one "
        "more pass applies what the live projector wrote meanwhile."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--max-seconds", type=float, default=3600.0,
                            help="give up (without swapping) when the replay takes longer than this")

    def handle(self, *args, max_seconds: float, **options) -> None:
        if max_seconds <= 0:
            raise CommandError("--max-seconds must be positive")
        try:
            consumer = reading.reader(CONSUMER.topics, name="rebuild-projections")
        except reading.MissingTopics as exc:
            raise CommandError(f"topics missing on the broker: {exc} (run create_topics)") from None
        except (ConfigError, KafkaException) as exc:
            raise CommandError(f"cannot read the topics: {exc}") from None
        collection = repository.fresh_collection()
        try:
            try:
                applied, skipped = self._replay(consumer, collection, max_seconds)
            except (TimeoutError, KafkaException) as exc:
                collection.drop()
                raise CommandError(f"replay not finished ({exc}); live projection left as it was") from None
            repository.swap_in(collection)
            # Events that reached the live projector between the end of the replay and the swap were
            # written to the collection swapped out; the reader is positioned right before them, so one
            # more pass into the live collection applies them again (idempotent by eventId).
            caught_up, more_skipped = self._replay(consumer, repository.projections(), max_seconds)
            applied, skipped = applied + caught_up, skipped + more_skipped
        finally:
            consumer.close()
        # The counts per status described the collection swapped out: count the rebuilt one.
        counts = PROJECTION_COUNTS.recount_now()
        self.stdout.write(
            f"rebuilt orders_projection: {collection_size()} orders from {applied} events ({skipped} invalid skipped)"
            + ("" if counts is not None else "; status counts busy, recounted once the projector is quiet")
        )

    def _replay(self, consumer: Consumer, collection, max_seconds: float) -> tuple[int, int]:
        applied = skipped = 0
        with tqdm(desc="replaying events", unit="event", file=self.stderr, mininterval=0.5) as progress:
            for messages in reading.batches_to_end(consumer, max_seconds=max_seconds):
                for message in messages:
                    try:
                        event = decode(message.value())
                    except InvalidEvent:  # already dead-lettered by the live consumer
                        skipped += 1
                        continue
                    services.projection_apply(event=event, collection=collection, notify=False)
                    applied += 1
                progress.update(len(messages))
        return applied, skipped


def collection_size() -> int:
    return repository.projections().estimated_document_count()
