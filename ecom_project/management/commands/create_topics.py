"""Create every pipeline topic and its dead-letter topic (the compose `topics` one-shot)."""
from __future__ import annotations

import socket

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ecom_project.messaging.broker import create_topics


class Command(BaseCommand):
    help = (
        "Create the topics of DESIGN §5 (and their .dlq topics) on KAFKA_BROKERS with N partitions each. "
        "Topics that already exist are left as they are (partitions cannot be changed on a live topic here)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--partitions", type=int, default=settings.KAFKA_PARTITIONS,
            help="partitions per new topic (env KAFKA_PARTITIONS, default 2): the most replicas one consumer group can use",
        )
        parser.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for the broker")

    def handle(self, *args, partitions: int, timeout: float, **options) -> None:
        if not settings.KAFKA_BROKERS:
            raise CommandError("KAFKA_BROKERS is not set: give the broker's host:port list")
        if not 1 <= partitions <= 256:
            raise CommandError(f"--partitions {partitions} is out of range [1, 256]")
        self._check_reachable(settings.KAFKA_BROKERS, timeout=min(timeout, 5.0))
        try:
            created = create_topics(settings.KAFKA_BROKERS, partitions=partitions, timeout=timeout)
        except Exception as exc:  # KafkaException carries librdkafka's reason; one line is enough
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise CommandError(f"broker {settings.KAFKA_BROKERS} is not usable: {reason}") from None
        if created:
            self.stdout.write(f"created {len(created)} topic(s) with {partitions} partition(s) on {settings.KAFKA_BROKERS}")
        else:
            self.stdout.write(f"all topics already exist on {settings.KAFKA_BROKERS}")

    @staticmethod
    def _check_reachable(bootstrap: str, *, timeout: float) -> None:
        """librdkafka would retry and log to stderr for the whole timeout; a plain connect fails in one line."""
        for address in bootstrap.split(","):
            host, _, port = address.strip().rpartition(":")
            try:
                with socket.create_connection((host, int(port)), timeout=timeout):
                    return
            except OSError:
                continue
        raise CommandError(f"broker {bootstrap} is not reachable (nothing accepts connections there)")
